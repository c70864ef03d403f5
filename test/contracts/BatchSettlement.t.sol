// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";

/// @dev settlePayments: per-item outcomes with reasons, all-or-nothing mode, contract signers.
contract BatchSettlementTest is StableTokenTestBase {
    function batchOf(Payments.PaymentAuthorization memory a, Payments.PaymentAuthorization memory b)
        internal
        pure
        returns (Payments.PaymentAuthorization[] memory list)
    {
        list = new Payments.PaymentAuthorization[](2);
        list[0] = a;
        list[1] = b;
    }

    function test_settlesManyPayers() public {
        uint256 n = 20;
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](n);
        for (uint256 i = 0; i < n; ++i) {
            (address payer, uint256 key) = makeAddrAndKey(string(abi.encodePacked("payer", i)));
            mintTo(payer, 10e6);
            list[i] = signedPay(key, payer, merchant, 1e6 + i, bytes32(i), i);
        }
        vm.prank(relayer);
        uint256 settled = token.settlePayments(list, true);
        assertEq(settled, n);
        assertEq(token.balanceOf(merchant), 1 + n * 1e6 + (n * (n - 1)) / 2);
    }

    function test_eachItemSucceedsOrFailsOnItsOwn() public {
        Payments.PaymentAuthorization memory good = signedPay(aliceKey, alice, merchant, 2e6, "good", 1);
        Payments.PaymentAuthorization memory bad = signedPay(bobKey, bob, merchant, 2e6, "bad", 1);
        bad.value = 3e6; // tampered: signature no longer matches
        vm.expectEmit(address(token));
        emit Payments.Payment("good", alice, merchant, 2e6, 0);
        vm.expectEmit(address(token));
        emit Payments.PaymentFailed(1, "bad", bob, merchant, 1, Payments.SettlementFailure.InvalidSignature);
        uint256 settled = token.settlePayments(batchOf(good, bad), false);
        assertEq(settled, 1);
        assertEq(token.balanceOf(bob), FUNDS);
        assertFalse(token.isPaymentNonceUsed(bob, 1), "a failed item does not use its nonce");
    }

    function test_atomicModeRevertsOnFirstFailure() public {
        Payments.PaymentAuthorization memory good = signedPay(aliceKey, alice, merchant, 2e6, "good", 1);
        Payments.PaymentAuthorization memory poor = signedPay(bobKey, bob, merchant, FUNDS + 1, "poor", 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                Payments.StableTokenSettlementFailed.selector, 1, Payments.SettlementFailure.InsufficientBalance
            )
        );
        token.settlePayments(batchOf(good, poor), true);
        assertFalse(token.isPaymentNonceUsed(alice, 1), "nothing happened");
    }

    function expectFailure(Payments.PaymentAuthorization memory a, Payments.SettlementFailure reason) internal {
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
        list[0] = a;
        vm.expectEmit(address(token));
        emit Payments.PaymentFailed(0, a.ref, a.from, a.to, a.nonce, reason);
        assertEq(token.settlePayments(list, false), 0);
        vm.expectRevert(abi.encodeWithSelector(Payments.StableTokenSettlementFailed.selector, 0, reason));
        token.settlePayments(list, true);
    }

    function test_everyFailureReason() public {
        Payments.PaymentAuthorization memory a = payAuth(alice, merchant, 1e6, "r", 7);
        a.validAfter = block.timestamp;
        a.signature = signBytes(aliceKey, payDigest(token, a));
        expectFailure(a, Payments.SettlementFailure.NotYetValid);

        a = payAuth(alice, merchant, 1e6, "r", 7);
        a.validBefore = block.timestamp;
        a.signature = signBytes(aliceKey, payDigest(token, a));
        expectFailure(a, Payments.SettlementFailure.Expired);

        a = signedPay(aliceKey, alice, merchant, 1e6, "r", 7);
        Payments.PaymentAuthorization[] memory once = new Payments.PaymentAuthorization[](1);
        once[0] = a;
        token.settlePayments(once, true);
        expectFailure(a, Payments.SettlementFailure.NonceUsed); // the same authorization twice

        expectFailure(signedPay(aliceKey, alice, address(0), 1e6, "r", 8), Payments.SettlementFailure.InvalidPayee);

        vm.prank(compliance);
        token.freeze(alice);
        expectFailure(signedPay(aliceKey, alice, merchant, 1e6, "r", 8), Payments.SettlementFailure.PayerFrozen);
        vm.prank(compliance);
        token.unfreeze(alice);

        vm.prank(compliance);
        token.freeze(merchant);
        expectFailure(signedPay(aliceKey, alice, merchant, 1e6, "r", 8), Payments.SettlementFailure.PayeeFrozen);
        vm.prank(compliance);
        token.unfreeze(merchant);

        expectFailure(
            signedPay(aliceKey, alice, merchant, FUNDS + 1, "r", 8), Payments.SettlementFailure.InsufficientBalance
        );

        vm.prank(admin);
        token.setMerchantFee(merchant, 100);
        vm.prank(compliance);
        token.freeze(collector);
        expectFailure(signedPay(aliceKey, alice, merchant, 1e6, "r", 8), Payments.SettlementFailure.FeeCollectorFrozen);
        vm.prank(compliance);
        token.unfreeze(collector);

        expectFailure(signedPay(bobKey, alice, merchant, 1e6, "r", 8), Payments.SettlementFailure.InvalidSignature);

        // A used nonce (invalidated by its owner) is refused even with a valid signature.
        vm.prank(alice);
        token.invalidateNonces(0, 1 << 9);
        expectFailure(signedPay(aliceKey, alice, merchant, 1e6, "r", 9), Payments.SettlementFailure.NonceUsed);
    }

    function test_feesAndSelfPaymentUseTheGeneralPath() public {
        vm.prank(admin);
        token.setMerchantFee(merchant, 1000);
        Payments.PaymentAuthorization memory a = signedPay(aliceKey, alice, merchant, 10e6, "fee", 1);
        Payments.PaymentAuthorization memory b = signedPay(bobKey, bob, bob, 10e6, "self", 1);
        vm.expectEmit(address(token));
        emit Payments.Payment("fee", alice, merchant, 10e6, 1e6);
        vm.expectEmit(address(token));
        emit Payments.Payment("self", bob, bob, 10e6, 0);
        assertEq(token.settlePayments(batchOf(a, b), true), 2);
        assertEq(token.balanceOf(merchant), 1 + 9e6);
        assertEq(token.balanceOf(collector), 1e6);
        assertEq(token.balanceOf(bob), FUNDS);
    }

    function test_contractSigner_acceptsAndRejects() public {
        Payments.PaymentAuthorization memory a = signedPay(aliceKey, address(wallet), merchant, 1e6, "w", 1);
        wallet.setAccepting(false);
        expectFailure(a, Payments.SettlementFailure.InvalidSignature);
        wallet.setAccepting(true);
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
        list[0] = a;
        assertEq(token.settlePayments(list, true), 1);
        assertEq(token.balanceOf(address(wallet)), FUNDS - 1e6);
    }

    function test_pausedRefusesTheWholeBatch() public {
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
        list[0] = signedPay(aliceKey, alice, merchant, 1e6, "p", 1);
        vm.prank(pauserAcct);
        token.pause();
        vm.expectRevert(TokenRoles.StableTokenPaused.selector);
        token.settlePayments(list, false);
    }

    function testFuzz_batchConservesValue(uint256 seed, uint8 count) public {
        count = uint8(bound(count, 1, 12));
        vm.prank(admin);
        token.setMerchantFee(merchant, seed % 1001);
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](count);
        uint256 total;
        for (uint256 i = 0; i < count; ++i) {
            uint256 value = uint256(keccak256(abi.encode(seed, i))) % (FUNDS / count);
            list[i] = signedPay(aliceKey, alice, merchant, value, bytes32(i), i);
            total += value;
        }
        uint256 supply = token.totalSupply();
        assertEq(token.settlePayments(list, true), count);
        assertEq(token.balanceOf(alice), FUNDS - total);
        assertEq(token.balanceOf(merchant) - 1 + token.balanceOf(collector), total, "net + fees == paid");
        assertEq(token.totalSupply(), supply);
    }
}
