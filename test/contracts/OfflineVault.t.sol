// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {OfflineVaultTestBase} from "./OfflineVaultTestBase.sol";
import {OfflineVault} from "../../contracts/offline/OfflineVault.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {TransferAuthorizations} from "../../contracts/token/TransferAuthorizations.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";

contract OfflineVaultTest is OfflineVaultTestBase {
    bytes32 internal constant TRANSFER_SIG = keccak256("Transfer(address,address,uint256)");

    function setUp() public virtual override {
        super.setUp();
        reserveAs(alice, RESERVE);
    }

    function expectFailure(uint256 index, OfflineVault.OfflineCode memory c, OfflineVault.Failure reason) internal {
        vm.expectEmit(address(vault));
        emit OfflineVault.OfflinePaymentFailed(index, c.payer, c.merchant, c.nonce, reason);
    }

    function settleAs(address caller, OfflineVault.OfflineCode[] memory codes) internal returns (uint256) {
        vm.prank(caller);
        return vault.settle(codes);
    }

    // ------------------------------------------------------------ construction and reserves

    function test_constructor_refusesDelaysThatBreakTheGuarantee() public {
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidDelays.selector, 1 days, 3 days, 4 days));
        new OfflineVault(1 days, 3 days, 4 days);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidDelays.selector, 0, 3 days, 7 days));
        new OfflineVault(0, 3 days, 7 days);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidDelays.selector, 1 days, 0, 7 days));
        new OfflineVault(1 days, 0, 7 days);
        OfflineVault ok = new OfflineVault(1 days, 3 days, 4 days + 1);
        assertEq(ok.WITHDRAWAL_DELAY(), 4 days + 1);
    }

    function test_reserve_movesTokensIntoTheVault() public {
        assertEq(token.balanceOf(address(vault)), RESERVE);
        assertEq(balanceOfReserve(alice), RESERVE);
        vm.startPrank(bob);
        token.approve(address(vault), 5e6);
        vm.expectEmit(address(vault));
        emit OfflineVault.Reserved(bob, address(token), 5e6, 5e6);
        vault.reserve(address(token), 5e6);
        vm.stopPrank();
        assertEq(token.balanceOf(bob), FUNDS - 5e6);
    }

    function test_reserve_refusesZeroAndMissingApproval() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidAmount.selector, 0));
        vault.reserve(address(token), 0);
        vm.prank(bob);
        vm.expectRevert(); // ERC20InsufficientAllowance from the token
        vault.reserve(address(token), 1);
    }

    function test_reserveWithAuthorization_passkeyAccountReservesBySigning() public {
        PasskeyAccount acct = newAccount(phoneKey);
        mintTo(address(acct), FUNDS);
        bytes32 nonce = keccak256("rwa-1");
        uint256 validBefore = block.timestamp + 1 hours;
        bytes32 digest = authDigest(token, RWA_TYPEHASH, address(acct), address(vault), 30e6, 0, validBefore, nonce);
        bytes memory sig = assertion(phoneKey, messageDigest(address(acct), digest), FLAGS_UP_UV);
        vm.prank(relayer);
        vault.reserveWithAuthorization(address(token), address(acct), 30e6, 0, validBefore, nonce, sig);
        assertEq(balanceOfReserve(address(acct)), 30e6);
        assertEq(token.balanceOf(address(acct)), FUNDS - 30e6);

        // replay of the same authorization is refused by the token
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationUsed.selector, address(acct), nonce)
        );
        vault.reserveWithAuthorization(address(token), address(acct), 30e6, 0, validBefore, nonce, sig);
    }

    function test_reserveWithAuthorization_refusesWrongSignerAndRedirection() public {
        PasskeyAccount acct = newAccount(phoneKey);
        mintTo(address(acct), FUNDS);
        bytes32 nonce = keccak256("rwa-2");
        uint256 validBefore = block.timestamp + 1 hours;
        bytes32 digest = authDigest(token, RWA_TYPEHASH, address(acct), address(vault), 30e6, 0, validBefore, nonce);
        bytes memory stranger = assertion(strangerKey, messageDigest(address(acct), digest), FLAGS_UP_UV);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(acct))
        );
        vault.reserveWithAuthorization(address(token), address(acct), 30e6, 0, validBefore, nonce, stranger);
        // a larger amount than signed
        bytes memory sig = assertion(phoneKey, messageDigest(address(acct), digest), FLAGS_UP_UV);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(acct))
        );
        vault.reserveWithAuthorization(address(token), address(acct), 31e6, 0, validBefore, nonce, sig);
        // nobody but the vault can use the ReceiveWithAuthorization to the vault
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenCallerNotPayee.selector, relayer, address(vault))
        );
        token.receiveWithAuthorization(address(acct), address(vault), 30e6, 0, validBefore, nonce, sig);
        assertEq(balanceOfReserve(address(acct)), 0);
    }

    // ------------------------------------------------------------ settling

    function test_settle_paysABatchWithOneTransfer() public {
        OfflineVault.OfflineCode[] memory codes = new OfflineVault.OfflineCode[](4);
        codes[0] = signed(aliceKey, alice, shop, 10e6, 0);
        codes[1] = signed(aliceKey, alice, shop, 20e6, 1);
        codes[2] = signed(aliceKey, alice, otherShop, 5e6, 2);
        codes[3] = signed(aliceKey, alice, shop, 1e6, 3);
        vm.expectEmit(address(vault));
        emit OfflineVault.OfflinePaymentSettled(alice, shop, address(token), 0, 10e6);
        expectFailure(2, codes[2], OfflineVault.Failure.NotMerchant);
        vm.recordLogs();
        assertEq(settleAs(shop, codes), 3);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 transfers = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(token) && logs[i].topics[0] == TRANSFER_SIG) ++transfers;
        }
        assertEq(transfers, 1, "one transfer per (merchant, token)");
        assertEq(token.balanceOf(shop), 31e6);
        assertEq(token.balanceOf(otherShop), 0);
        assertEq(balanceOfReserve(alice), RESERVE - 31e6);
        assertEq(token.balanceOf(address(vault)), RESERVE - 31e6);
        assertTrue(vault.isNonceUsed(alice, shop, 3));
        assertFalse(vault.isNonceUsed(alice, otherShop, 2));
        assertEq(settleAs(otherShop, one(codes[2])), 1);
    }

    function test_settle_onlyTheMerchantMaySettleItsCodes() public {
        OfflineVault.OfflineCode memory c = signed(aliceKey, alice, shop, 10e6, 0);
        // the payer cannot burn the merchant's nonce with a code of its own, nor can a relayer or another shop
        OfflineVault.OfflineCode memory decoy = signed(aliceKey, alice, shop, 1, 0);
        address[3] memory callers = [alice, relayer, otherShop];
        for (uint256 i = 0; i < 3; ++i) {
            expectFailure(0, decoy, OfflineVault.Failure.NotMerchant);
            assertEq(settleAs(callers[i], one(decoy)), 0);
        }
        assertFalse(vault.isNonceUsed(alice, shop, 0));
        assertEq(settleAs(shop, one(c)), 1);
        assertEq(token.balanceOf(shop), 10e6);
    }

    function test_settle_aCodeSettlesAtMostOnce() public {
        OfflineVault.OfflineCode memory c = signed(aliceKey, alice, shop, 10e6, 7);
        OfflineVault.OfflineCode[] memory twice = new OfflineVault.OfflineCode[](2);
        twice[0] = c;
        twice[1] = c;
        expectFailure(1, c, OfflineVault.Failure.NonceUsed);
        assertEq(settleAs(shop, twice), 1);
        expectFailure(0, c, OfflineVault.Failure.NonceUsed);
        assertEq(settleAs(shop, one(c)), 0);
        // another code with the same nonce to the same merchant is a replay too
        OfflineVault.OfflineCode memory other = signed(aliceKey, alice, shop, 1e6, 7);
        expectFailure(0, other, OfflineVault.Failure.NonceUsed);
        settleAs(shop, one(other));
        assertEq(token.balanceOf(shop), 10e6);
    }

    function test_settle_windowAndValidity() public {
        OfflineVault.OfflineCode memory c = signed(aliceKey, alice, shop, 10e6, 1);
        // after validBefore but within the settlement window: settles
        vm.warp(c.validBefore + WINDOW - 1);
        assertEq(settleAs(shop, one(c)), 1);

        OfflineVault.OfflineCode memory late = draft(alice, shop, 1e6, 2);
        late.validBefore = block.timestamp - WINDOW;
        late.validAfter = late.validBefore - 1 hours;
        late.signature = signBytes(aliceKey, vaultDigest(codeStruct(late)));
        expectFailure(0, late, OfflineVault.Failure.SettlementWindowClosed);
        assertEq(settleAs(shop, one(late)), 0);

        OfflineVault.OfflineCode memory early = draft(alice, shop, 1e6, 3);
        early.validAfter = block.timestamp;
        early.signature = signBytes(aliceKey, vaultDigest(codeStruct(early)));
        expectFailure(0, early, OfflineVault.Failure.NotYetValid);
        settleAs(shop, one(early));

        OfflineVault.OfflineCode memory long = draft(alice, shop, 1e6, 4);
        long.validBefore = long.validAfter + MAX_VALIDITY + 1;
        long.signature = signBytes(aliceKey, vaultDigest(codeStruct(long)));
        expectFailure(0, long, OfflineVault.Failure.ValidityTooLong);
        settleAs(shop, one(long));

        OfflineVault.OfflineCode memory backwards = draft(alice, shop, 1e6, 5);
        backwards.validBefore = backwards.validAfter - 1;
        backwards.signature = signBytes(aliceKey, vaultDigest(codeStruct(backwards)));
        expectFailure(0, backwards, OfflineVault.Failure.ValidityTooLong);
        settleAs(shop, one(backwards));
        assertEq(token.balanceOf(shop), 10e6);
    }

    function test_settle_refusesBadSignaturesWithoutBurningTheNonce() public {
        OfflineVault.OfflineCode memory byBob = signed(bobKey, alice, shop, 10e6, 1);
        expectFailure(0, byBob, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(byBob));

        OfflineVault.OfflineCode memory tampered = signed(aliceKey, alice, shop, 10e6, 1);
        tampered.amount = 90e6;
        expectFailure(0, tampered, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(tampered));

        OfflineVault.OfflineCode memory redirected = signed(aliceKey, alice, shop, 10e6, 1);
        redirected.merchant = relayer;
        expectFailure(0, redirected, OfflineVault.Failure.InvalidSignature);
        settleAs(relayer, one(redirected));

        OfflineVault.OfflineCode memory garbage = signed(aliceKey, alice, shop, 10e6, 1);
        garbage.signature = hex"1234";
        expectFailure(0, garbage, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(garbage));

        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, vaultDigest(codeStruct(garbage)));
        (v, r, s) = highS(v, r, s);
        garbage.signature = abi.encodePacked(r, s, v);
        expectFailure(0, garbage, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(garbage));

        assertFalse(vault.isNonceUsed(alice, shop, 1));
        assertEq(settleAs(shop, one(signed(aliceKey, alice, shop, 10e6, 1))), 1);
    }

    function test_settle_refusesOtherDomains() public {
        OfflineVault.OfflineCode memory c = draft(alice, shop, 10e6, 1);
        OfflineVault otherVault = new OfflineVault(MAX_VALIDITY, WINDOW, DELAY);
        c.signature = signBytes(aliceKey, vaultDigestFor(address(otherVault), block.chainid, codeStruct(c)));
        expectFailure(0, c, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(c));

        c.signature = signBytes(aliceKey, vaultDigestFor(address(vault), block.chainid + 1, codeStruct(c)));
        expectFailure(0, c, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(c));

        // signed here, replayed on a fork with another chain id
        c.signature = signBytes(aliceKey, vaultDigest(codeStruct(c)));
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        expectFailure(0, c, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(c));
        vm.chainId(chainId);
        assertEq(settleAs(shop, one(c)), 1);
        assertEq(vault.hashCode(c), vaultDigest(codeStruct(c)));
    }

    function test_settle_refusesInvalidFields() public {
        OfflineVault.OfflineCode memory zero = signed(aliceKey, alice, shop, 0, 1);
        expectFailure(0, zero, OfflineVault.Failure.InvalidAmount);
        settleAs(shop, one(zero));
        OfflineVault.OfflineCode memory huge = signed(aliceKey, alice, shop, uint256(type(uint128).max) + 1, 1);
        expectFailure(0, huge, OfflineVault.Failure.InvalidAmount);
        settleAs(shop, one(huge));
        OfflineVault.OfflineCode memory nobody = signed(aliceKey, alice, address(0), 1e6, 1);
        expectFailure(0, nobody, OfflineVault.Failure.NotMerchant);
        settleAs(shop, one(nobody));
        assertEq(balanceOfReserve(alice), RESERVE);
    }

    function test_settle_passkeyAccountCodesViaERC1271() public {
        PasskeyAccount acct = newAccount(phoneKey);
        mintTo(address(acct), FUNDS);
        reserveAs(address(acct), 50e6);
        OfflineVault.OfflineCode memory c = signedByPasskey(phoneKey, address(acct), shop, 20e6, 0);
        assertEq(settleAs(shop, one(c)), 1);
        assertEq(token.balanceOf(shop), 20e6);

        OfflineVault.OfflineCode memory stranger = signedByPasskey(strangerKey, address(acct), shop, 20e6, 1);
        expectFailure(0, stranger, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(stranger));

        OfflineVault.OfflineCode memory noUv = draft(address(acct), shop, 20e6, 2);
        noUv.signature = assertion(phoneKey, messageDigest(address(acct), vaultDigest(codeStruct(noUv))), FLAG_UP);
        expectFailure(0, noUv, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(noUv));

        // the bare code hash (not wrapped in OrioleMessage) is refused
        OfflineVault.OfflineCode memory bare = draft(address(acct), shop, 20e6, 3);
        bare.signature = assertion(phoneKey, vaultDigest(codeStruct(bare)), FLAGS_UP_UV);
        expectFailure(0, bare, OfflineVault.Failure.InvalidSignature);
        settleAs(shop, one(bare));
        assertEq(balanceOfReserve(address(acct)), 30e6);
    }

    // ------------------------------------------------------------ double spending

    function test_doubleSpend_bouncesTheOverAllowanceCodeAndRecordsTheShortfall() public {
        // alice (reserve 100) gives 70 to shop and 60 to otherShop with the SAME nonce
        OfflineVault.OfflineCode memory first = signed(aliceKey, alice, shop, 70e6, 5);
        OfflineVault.OfflineCode memory second = signed(aliceKey, alice, otherShop, 60e6, 5);
        assertEq(settleAs(shop, one(first)), 1);
        bytes32 h = vault.hashCode(second);
        vm.expectEmit(address(vault));
        emit OfflineVault.OfflinePaymentBounced(h, alice, otherShop, address(token), 5, 30e6, 30e6);
        vm.expectEmit(address(vault));
        emit OfflineVault.PayerDefaulted(alice, address(token), 30e6);
        expectFailure(0, second, OfflineVault.Failure.AllowanceExhausted);
        assertEq(settleAs(otherShop, one(second)), 1);
        assertEq(token.balanceOf(otherShop), 30e6);
        assertTrue(vault.isDefaulted(alice, address(token)));
        assertEq(debtOf(alice), 30e6);
        assertEq(vault.claimOf(h), 30e6);
        assertEq(balanceOfReserve(alice), 0);

        // nothing is free: a further code bounces entirely, the claim waits
        OfflineVault.OfflineCode memory third = signed(aliceKey, alice, shop, 1e6, 6);
        settleAs(shop, one(third));
        assertEq(debtOf(alice), 31e6);
        expectFailure(0, second, OfflineVault.Failure.AllowanceExhausted);
        assertEq(settleAs(otherShop, one(second)), 0);

        // withdrawing is refused while in default
        vm.prank(alice);
        vault.requestWithdrawal(address(token), 1);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(OfflineVault.OfflineVaultPayerDefaulted.selector, alice, address(token), 31e6)
        );
        vault.withdraw(alice, address(token));

        // alice reserves 40: the claims are paid when re-submitted, even long after the window
        reserveAs(alice, 40e6);
        OfflineVault.OfflineCode memory fresh = signed(aliceKey, alice, shop, 9e6, 7);
        OfflineVault.OfflineCode[] memory batch = new OfflineVault.OfflineCode[](2);
        batch[0] = fresh; // only balance - debt = 9 is free for fresh codes
        batch[1] = third;
        assertEq(settleAs(shop, batch), 2);
        vm.expectEmit(address(vault));
        emit OfflineVault.ClaimPaid(h, alice, otherShop, 30e6, 0);
        assertEq(settleAs(otherShop, one(second)), 1);
        assertEq(token.balanceOf(otherShop), 60e6);
        assertEq(token.balanceOf(shop), 80e6);
        assertFalse(vault.isDefaulted(alice, address(token)));
        assertEq(vault.claimOf(h), 0);
        expectFailure(0, second, OfflineVault.Failure.NonceUsed);
        settleAs(otherShop, one(second));
    }

    function test_doubleSpend_freshCodesCannotJumpAheadOfClaims() public {
        settleAs(shop, one(signed(aliceKey, alice, shop, 100e6, 1)));
        OfflineVault.OfflineCode memory bounced = signed(aliceKey, alice, otherShop, 10e6, 1);
        settleAs(otherShop, one(bounced));
        reserveAs(alice, 10e6);
        OfflineVault.OfflineCode memory fresh = signed(aliceKey, alice, shop, 5e6, 2);
        expectFailure(0, fresh, OfflineVault.Failure.AllowanceExhausted);
        settleAs(shop, one(fresh));
        assertEq(token.balanceOf(shop), 100e6, "nothing free for fresh codes while the claim is owed");
        assertEq(debtOf(alice), 15e6);
    }

    // ------------------------------------------------------------ withdrawals

    function test_withdraw_waitsForTheNoticeAndKeepsAcceptedCodesCovered() public {
        vm.expectEmit(address(vault));
        emit OfflineVault.WithdrawalRequested(alice, address(token), RESERVE, block.timestamp + DELAY);
        vm.prank(alice);
        vault.requestWithdrawal(address(token), RESERVE);
        // a code accepted just before the request still settles within its window
        OfflineVault.OfflineCode memory c = signed(aliceKey, alice, shop, 25e6, 1);
        vm.warp(c.validBefore + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                OfflineVault.OfflineVaultWithdrawalLocked.selector, 1_700_000_000 + DELAY, block.timestamp
            )
        );
        vault.withdraw(alice, address(token));
        assertEq(settleAs(shop, one(c)), 1);
        vm.warp(1_700_000_000 + DELAY);
        vm.prank(relayer); // anyone may execute it; the tokens go to alice
        assertEq(vault.withdraw(alice, address(token)), RESERVE - 25e6);
        assertEq(token.balanceOf(alice), FUNDS - 25e6);
        assertEq(balanceOfReserve(alice), 0);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultNoWithdrawal.selector, alice, address(token)));
        vault.withdraw(alice, address(token));
    }

    function test_withdraw_newRequestRestartsTheDelayAndZeroCancels() public {
        vm.prank(alice);
        vault.requestWithdrawal(address(token), 1e6);
        vm.warp(block.timestamp + DELAY - 1);
        vm.prank(alice);
        vault.requestWithdrawal(address(token), RESERVE);
        vm.warp(block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(OfflineVault.OfflineVaultWithdrawalLocked.selector, block.timestamp - 1 + DELAY, block.timestamp)
        );
        vault.withdraw(alice, address(token));
        vm.prank(alice);
        vault.requestWithdrawal(address(token), 0);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultNoWithdrawal.selector, alice, address(token)));
        vault.withdraw(alice, address(token));
        // one payer's request never touches another's reserve
        vm.prank(bob);
        vault.requestWithdrawal(address(token), RESERVE);
        vm.warp(block.timestamp + DELAY);
        assertEq(vault.withdraw(bob, address(token)), 0);
        assertEq(balanceOfReserve(alice), RESERVE);
    }

    function test_requestWithdrawalWithSig_eoaAndPasskey() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = vaultDigest(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, alice, address(token), 5e6, 0, deadline)));
        bytes memory byBob = signBytes(bobKey, digest);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, alice));
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, byBob);
        bytes memory sig = signBytes(aliceKey, digest);
        vm.prank(relayer);
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, sig);
        (,, uint256 pending, uint256 unlockAt) = vault.reserveOf(alice, address(token));
        assertEq(pending, 5e6);
        assertEq(unlockAt, block.timestamp + DELAY);
        assertEq(vault.withdrawalNonce(alice), 1);
        // replay: the nonce moved on
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, alice));
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, sig);
        // expired
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultExpired.selector, deadline, deadline + 1));
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, sig);

        PasskeyAccount acct = newAccount(phoneKey);
        deadline = block.timestamp + 1 hours;
        bytes32 d2 = vaultDigest(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, address(acct), address(token), 1, 0, deadline)));
        vault.requestWithdrawalWithSig(
            address(acct), address(token), 1, deadline, assertion(phoneKey, messageDigest(address(acct), d2), FLAGS_UP_UV)
        );
        (,, pending,) = vault.reserveOf(address(acct), address(token));
        assertEq(pending, 1);
    }

    function test_requestWithdrawalWithSig_passkeyNeedsUserVerificationAndItsOwnDevice() public {
        PasskeyAccount acct = newAccount(phoneKey);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 d = vaultDigest(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, address(acct), address(token), 1, 0, deadline)));
        bytes32 challenge = messageDigest(address(acct), d);
        // up but not user-verified, another device's assertion, another vault's domain: refused, the nonce unused
        bytes32 elsewhere = vaultDigestFor(address(0xbeef), block.chainid, keccak256(abi.encode(WITHDRAWAL_TYPEHASH, address(acct), address(token), 1, 0, deadline)));
        bytes[3] memory bad = [
            assertion(phoneKey, challenge, 0x01),
            assertion(strangerKey, challenge, FLAGS_UP_UV),
            assertion(phoneKey, messageDigest(address(acct), elsewhere), FLAGS_UP_UV)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, address(acct)));
            vault.requestWithdrawalWithSig(address(acct), address(token), 1, deadline, bad[i]);
        }
        assertEq(vault.withdrawalNonce(address(acct)), 0);
        bytes memory good = assertion(phoneKey, challenge, FLAGS_UP_UV);
        vm.expectEmit(address(vault));
        emit OfflineVault.WithdrawalRequested(address(acct), address(token), 1, block.timestamp + DELAY);
        vault.requestWithdrawalWithSig(address(acct), address(token), 1, deadline, good);
        assertEq(vault.withdrawalNonce(address(acct)), 1);
    }

    /// @dev A signed request runs only as signed: any other payer, token, amount or deadline is refused and burns no nonce.
    function testFuzz_requestWithdrawalWithSig_tamperedFieldIsRefused(uint8 field, uint96 value) public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            signBytes(aliceKey, vaultDigest(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, alice, address(token), 5e6, 0, deadline))));
        address payer = alice;
        address tok = address(token);
        uint256 amount = 5e6;
        uint256 dl = deadline;
        field %= 4;
        if (field == 0) payer = address(uint160(value) + 0x1000);
        else if (field == 1) tok = address(uint160(value) + 0x1000);
        else if (field == 2) amount = value;
        else dl = block.timestamp + value;
        vm.assume(payer != alice || tok != address(token) || amount != 5e6 || dl != deadline);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, payer));
        vault.requestWithdrawalWithSig(payer, tok, amount, dl, sig);
        assertEq(vault.withdrawalNonce(alice), 0);
        assertEq(vault.withdrawalNonce(payer), 0);
    }

    // ------------------------------------------------------------ fuzz

    /// @dev Any sequence of codes from one payer: paid + still owed == sum of valid codes, paid <= reserve.
    function testFuzz_settle_neverPaysBeyondTheReserve(uint64[8] memory amounts, bool[8] memory toOther) public {
        OfflineVault.OfflineCode[] memory codes = new OfflineVault.OfflineCode[](8);
        uint256 total = 0;
        for (uint256 i = 0; i < 8; ++i) {
            uint256 amount = bound(amounts[i], 1, 60e6);
            total += amount;
            codes[i] = signed(aliceKey, alice, toOther[i] ? otherShop : shop, amount, i);
        }
        for (uint256 i = 0; i < 8; ++i) settleAs(codes[i].merchant, one(codes[i]));
        uint256 paid = token.balanceOf(shop) + token.balanceOf(otherShop);
        assertEq(paid, total < RESERVE ? total : RESERVE);
        assertEq(paid + debtOf(alice), total);
        assertEq(token.balanceOf(address(vault)), RESERVE - paid);
        assertEq(balanceOfReserve(alice), RESERVE - paid);
        assertEq(vault.isDefaulted(alice, address(token)), total > RESERVE);
    }

    /// @dev A code with any tampered field is refused.
    function testFuzz_settle_tamperedFieldIsRefused(uint8 field, uint256 value) public {
        OfflineVault.OfflineCode memory c = signed(aliceKey, alice, shop, 10e6, 9);
        field = field % 4;
        if (field == 0) c.payer = bob;
        else if (field == 1) c.amount = bound(value, 1, 10e6 - 1);
        else if (field == 2) c.nonce = bound(value, 10, type(uint256).max);
        else c.validBefore = c.validBefore - bound(value, 1, 1 hours);
        assertEq(settleAs(shop, one(c)), 0);
        assertEq(balanceOfReserve(alice), RESERVE);
    }
}
