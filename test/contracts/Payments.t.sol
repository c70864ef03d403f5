// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {TransferAuthorizations} from "../../contracts/token/TransferAuthorizations.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";

/// @dev Payments with a reference: pay, payWithTip, payFrom, payWithPermit, payWithAuthorization; fees.
contract PaymentsTest is StableTokenTestBase {
    event Payment(bytes32 indexed ref, address indexed payer, address indexed payee, uint256 amount, uint256 fee);
    event NoncesInvalidated(address indexed owner, uint256 indexed wordPos, uint256 mask);

    bytes32 internal constant REF = keccak256("invoice-42");

    function test_pay_emitsTransferAndPayment() public {
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, merchant, 12e6);
        vm.expectEmit(address(token));
        emit Payment(REF, alice, merchant, 12e6, 0);
        vm.prank(alice);
        assertTrue(token.pay(merchant, 12e6, REF));
        assertEq(token.balanceOf(merchant), 1 + 12e6);
    }

    /// @dev Sets a 2.5% merchant fee and expects the events of alice's payment of 10 to the merchant.
    function expectFeePayment() internal {
        vm.prank(admin);
        token.setMerchantFee(merchant, 250); // 2.5%
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, merchant, 9.75e6);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, collector, 0.25e6);
        vm.expectEmit(address(token));
        emit Payment(REF, alice, merchant, 10e6, 0.25e6);
    }

    function test_pay_withFee() public {
        expectFeePayment();
        vm.prank(alice);
        token.pay(merchant, 10e6, REF);
        assertEq(token.balanceOf(alice), FUNDS - 10e6, "the payer pays exactly the amount");
        assertEq(token.balanceOf(merchant), 1 + 9.75e6, "the merchant side pays the fee");
        assertEq(token.balanceOf(collector), 0.25e6);
        (uint256 fee, uint256 net) = token.quoteFee(merchant, 10e6);
        assertEq(fee, 0.25e6);
        assertEq(net, 9.75e6);
    }

    function test_pay_feeRoundsDown() public {
        vm.prank(admin);
        token.setMerchantFee(merchant, 30); // 0.3%
        vm.prank(alice);
        token.pay(merchant, 333, REF); // 333 * 30 / 10000 = 0.999 -> 0
        assertEq(token.balanceOf(collector), 0);
        vm.prank(alice);
        token.pay(merchant, 334, REF); // 1.002 -> 1
        assertEq(token.balanceOf(collector), 1);
    }

    function test_pay_refusals() public {
        vm.prank(admin);
        token.setMerchantFee(merchant, 100);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1));
        vm.prank(alice);
        token.pay(merchant, FUNDS + 1, REF);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        vm.prank(alice);
        token.pay(address(0), 1, REF);
    }

    /// @dev Expects the events of alice's fee-free payment of `amount` to the merchant with a tip.
    function expectTippedPayment(uint256 amount, address tipRecipient, uint256 tip) internal {
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, merchant, amount);
        vm.expectEmit(address(token));
        emit Payment(REF, alice, merchant, amount, 0);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, tipRecipient, tip);
    }

    function test_payWithTip_paymentThenTip() public {
        expectTippedPayment(12e6, relayer, 0.01e6);
        vm.recordLogs();
        vm.prank(alice);
        assertTrue(token.payWithTip(merchant, 12e6, REF, relayer, 0.01e6));
        assertEq(vm.getRecordedLogs().length, 3, "two Transfers and a Payment, nothing else");
        assertEq(token.balanceOf(alice), FUNDS - 12e6 - 0.01e6);
        assertEq(token.balanceOf(merchant), 1 + 12e6);
        assertEq(token.balanceOf(relayer), 0.01e6);
    }

    function test_payWithTip_withMerchantFee() public {
        expectFeePayment();
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, relayer, 0.02e6);
        vm.prank(alice);
        token.payWithTip(merchant, 10e6, REF, relayer, 0.02e6);
        assertEq(token.balanceOf(alice), FUNDS - 10e6 - 0.02e6);
        assertEq(token.balanceOf(collector), 0.25e6, "the merchant fee is not taken from the tip");
        assertEq(token.balanceOf(relayer), 0.02e6);
    }

    function test_payWithTip_zeroTipIsAPlainPayment() public {
        vm.recordLogs();
        vm.prank(alice);
        // a zero tip moves nothing, so even the zero address is no error
        token.payWithTip(merchant, 5e6, REF, address(0), 0);
        assertEq(vm.getRecordedLogs().length, 2, "Transfer and Payment, no zero Transfer");
        assertEq(token.balanceOf(alice), FUNDS - 5e6);
    }

    function test_payWithTip_refusalsRevertEverything() public {
        // the payment fits the balance, payment + tip does not: nothing moves
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1));
        vm.prank(alice);
        token.payWithTip(merchant, FUNDS, REF, relayer, 1);
        vm.prank(admin);
        token.setMerchantFee(merchant, 100); // the general path checks the same
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1));
        vm.prank(alice);
        token.payWithTip(merchant, FUNDS, REF, relayer, 1);
        vm.prank(admin);
        token.setMerchantFee(merchant, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1));
        vm.prank(alice);
        token.payWithTip(merchant, FUNDS + 1, REF, relayer, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        vm.prank(alice);
        token.payWithTip(merchant, 1e6, REF, address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        vm.prank(alice);
        token.payWithTip(address(0), 1e6, REF, relayer, 1);
        assertEq(token.balanceOf(alice), FUNDS);
        assertEq(token.balanceOf(merchant), 1);
        assertEq(token.balanceOf(relayer), 0);
    }

    function test_payWithTip_partiesSharingAnAccount() public {
        // the tip to the payee itself: the payee gets both
        expectTippedPayment(3e6, merchant, 0.5e6);
        vm.prank(alice);
        token.payWithTip(merchant, 3e6, REF, merchant, 0.5e6);
        assertEq(token.balanceOf(merchant), 1 + 3.5e6);
        // paying oneself, and tipping oneself: only balance checks, nothing is created
        vm.prank(alice);
        token.payWithTip(alice, 2e6, REF, alice, 1e6);
        vm.prank(alice);
        token.payWithTip(bob, 2e6, REF, alice, 1e6);
        assertEq(token.balanceOf(alice), FUNDS - 3.5e6 - 2e6);
        assertEq(token.balanceOf(bob), FUNDS + 2e6);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS - 5.5e6, FUNDS));
        vm.prank(alice);
        token.payWithTip(alice, FUNDS - 1, REF, alice, 1);
    }

    function testFuzz_payWithTip_sameAsPayThenTransfer(uint256 amount, uint256 tip, uint16 bps) public {
        bps = uint16(bound(bps, 0, token.MAX_FEE_BPS()));
        amount = bound(amount, 0, FUNDS);
        tip = bound(tip, 0, FUNDS - amount);
        vm.prank(admin);
        token.setMerchantFee(merchant, bps);
        (uint256 fee, uint256 net) = token.quoteFee(merchant, amount);
        vm.prank(alice);
        token.payWithTip(merchant, amount, REF, relayer, tip);
        assertEq(token.balanceOf(alice), FUNDS - amount - tip);
        assertEq(token.balanceOf(merchant), 1 + net);
        assertEq(token.balanceOf(collector), fee);
        assertEq(token.balanceOf(relayer), tip);
    }

    function testFuzz_feeArithmetic(uint256 amount, uint16 bps) public {
        bps = uint16(bound(bps, 0, token.MAX_FEE_BPS()));
        amount = bound(amount, 0, FUNDS);
        vm.prank(admin);
        token.setMerchantFee(merchant, bps);
        (uint256 fee, uint256 net) = token.quoteFee(merchant, amount);
        assertEq(fee + net, amount, "fee + net == amount");
        assertEq(fee, amount * bps / 10_000, "fee = floor(amount * bps / 10000)");
        uint256 merchantBefore = token.balanceOf(merchant);
        vm.prank(alice);
        token.pay(merchant, amount, REF);
        assertEq(token.balanceOf(alice), FUNDS - amount);
        assertEq(token.balanceOf(merchant), merchantBefore + net);
        assertEq(token.balanceOf(collector), fee);
    }

    function testFuzz_quoteFee_neverOverflows(uint256 amount, uint16 bps) public {
        bps = uint16(bound(bps, 0, token.MAX_FEE_BPS()));
        vm.prank(admin);
        token.setMerchantFee(merchant, bps);
        (uint256 fee, uint256 net) = token.quoteFee(merchant, amount);
        assertEq(fee + net, amount);
        assertLe(fee, amount / 10);
        // Exact floor(amount * bps / 10000), computed in 512 bits.
        assertEq(fee, (amount / 10_000) * bps + ((amount % 10_000) * bps) / 10_000);
    }

    function test_payFrom() public {
        vm.prank(alice);
        token.approve(relayer, 10e6);
        vm.expectEmit(address(token));
        emit Payment(REF, alice, merchant, 4e6, 0);
        vm.prank(relayer);
        token.payFrom(alice, merchant, 4e6, REF);
        assertEq(token.allowance(alice, relayer), 6e6);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, 1));
        vm.prank(bob);
        token.payFrom(alice, merchant, 1, REF);
    }

    function test_payWithPermit() public {
        uint256 deadline = block.timestamp + 600;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, merchant, 5e6, 0, deadline));
        vm.expectEmit(address(token));
        emit Payment(REF, alice, merchant, 5e6, 0);
        vm.prank(merchant);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);
        assertEq(token.balanceOf(merchant), 1 + 5e6);
        assertEq(token.allowance(alice, merchant), 0);
        assertEq(token.nonces(alice), 1);
        // The permit named the merchant as spender: nobody else can use it, and it is used up.
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        vm.prank(merchant);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);
    }

    function test_payWithPermit_wrongSpenderAndContractSigner() public {
        uint256 deadline = block.timestamp + 600;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, merchant, 5e6, 0, deadline));
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        vm.prank(relayer);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);

        (v, r, s) = sign(aliceKey, permitDigest(token, address(wallet), merchant, 5e6, 0, deadline));
        wallet.setAccepting(false);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(wallet))
        );
        vm.prank(merchant);
        token.payWithPermit(address(wallet), merchant, 5e6, REF, deadline, v, r, s);
        wallet.setAccepting(true);
        vm.prank(merchant);
        token.payWithPermit(address(wallet), merchant, 5e6, REF, deadline, v, r, s);
        assertEq(token.balanceOf(address(wallet)), FUNDS - 5e6);
    }

    // ------------------------------------------------------------ payWithAuthorization

    function test_payWithAuthorization() public {
        Payments.PaymentAuthorization memory a = signedPay(aliceKey, alice, merchant, 7e6, REF, 5);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, merchant, 7e6);
        vm.expectEmit(address(token));
        emit Payment(REF, alice, merchant, 7e6, 0);
        vm.prank(relayer);
        token.payWithAuthorization(a);
        assertTrue(token.isPaymentNonceUsed(alice, 5));
        assertEq(token.nonceBitmap(alice, 0), 1 << 5);
        assertEq(token.PAY_WITH_AUTHORIZATION_TYPEHASH(), PAY_TYPEHASH);
    }

    function test_payWithAuthorization_replays() public {
        Payments.PaymentAuthorization memory a = signedPay(aliceKey, alice, merchant, 7e6, REF, 300);
        token.payWithAuthorization(a);
        // the same authorization twice
        vm.expectRevert(abi.encodeWithSelector(Payments.StableTokenPaymentNonceUsed.selector, alice, 300));
        token.payWithAuthorization(a);
        // another chain id
        a = signedPay(aliceKey, alice, merchant, 7e6, REF, 301);
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        token.payWithAuthorization(a);
        vm.chainId(chain);
        // another token
        StableToken other = deployToken("Oriole Euro", "oEUR", "EUR");
        vm.prank(minter);
        other.mint(alice, FUNDS);
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        other.payWithAuthorization(a);
        // cancelled (invalidated)
        vm.prank(alice);
        token.invalidateNonces(301 >> 8, 1 << (301 & 0xff));
        vm.expectRevert(abi.encodeWithSelector(Payments.StableTokenPaymentNonceUsed.selector, alice, 301));
        token.payWithAuthorization(a);
        // expired and not yet valid
        a = signedPay(aliceKey, alice, merchant, 7e6, REF, 302);
        vm.warp(a.validBefore);
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationExpired.selector, a.validBefore, a.validBefore
            )
        );
        token.payWithAuthorization(a);
        a = payAuth(alice, merchant, 7e6, REF, 303);
        a.validAfter = block.timestamp + 5;
        a.signature = signBytes(aliceKey, payDigest(token, a));
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationNotYetValid.selector, a.validAfter, block.timestamp
            )
        );
        token.payWithAuthorization(a);
        // high s
        a = payAuth(alice, merchant, 7e6, REF, 304);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, payDigest(token, a));
        (v, r, s) = highS(v, r, s);
        a.signature = abi.encodePacked(r, s, v);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, s));
        token.payWithAuthorization(a);
    }

    function test_payWithAuthorization_tamperedFieldsFail() public {
        Payments.PaymentAuthorization memory a = signedPay(aliceKey, alice, merchant, 7e6, REF, 9);
        a.ref = keccak256("another invoice");
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        token.payWithAuthorization(a);
        a = signedPay(aliceKey, alice, merchant, 7e6, REF, 9);
        a.to = relayer;
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        token.payWithAuthorization(a);
    }

    function test_payWithAuthorization_contractSigner() public {
        Payments.PaymentAuthorization memory a = signedPay(aliceKey, address(wallet), merchant, 7e6, REF, 1);
        wallet.setAccepting(false);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(wallet))
        );
        token.payWithAuthorization(a);
        wallet.setAccepting(true);
        token.payWithAuthorization(a);
        assertEq(token.balanceOf(merchant), 1 + 7e6);
    }

    function test_invalidateNonces() public {
        vm.expectEmit(address(token));
        emit NoncesInvalidated(alice, 3, 0xf0);
        vm.prank(alice);
        token.invalidateNonces(3, 0xf0);
        assertEq(token.nonceBitmap(alice, 3), 0xf0);
        assertTrue(token.isPaymentNonceUsed(alice, 3 * 256 + 4));
        assertFalse(token.isPaymentNonceUsed(alice, 3 * 256 + 3));
    }
}
