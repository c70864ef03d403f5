// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyFixture} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";

/// @dev Guardian recovery: EOA guardians and a PasskeyAccount guardian (ERC-1271), threshold, delay, cancel.
contract PasskeyRecoveryTest is PasskeyFixture {
    PasskeyAccount internal friend; // a guardian that is itself a passkey account (the laptop is its device)
    uint256 internal carolKey;
    address internal carol;
    bytes32 internal newQx;
    bytes32 internal newQy;
    uint256 internal newKey = uint256(keccak256("oriole.test.new-phone")) % P256_N;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        friend = newAccount(laptopKey);
        (newQx, newQy) = pubKey(newKey);
        // alice, carol and the friend's account; 2 of 3
        address[] memory gs = new address[](3);
        (gs[0], gs[1], gs[2]) = (alice, carol, address(friend));
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.setGuardians, (gs, 2)), 1);
    }

    function deadline() internal view returns (uint256) {
        return block.timestamp + 7 days;
    }

    function eoaApproval(uint256 key, bytes32 qx, bytes32 qy, uint256 dl) internal view returns (bytes memory) {
        bytes32 digest = recoveryDigest(address(account), qx, qy, account.recoveryNonce(), dl);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function friendApproval(bytes32 qx, bytes32 qy, uint256 dl) internal view returns (bytes memory) {
        bytes32 digest = recoveryDigest(address(account), qx, qy, account.recoveryNonce(), dl);
        return assertion(laptopKey, messageDigest(address(friend), digest), FLAGS_UP_UV);
    }

    /// @dev Two approvals (alice and the friend account), sorted by address.
    function approvals(uint256 dl) internal view returns (address[] memory gs, bytes[] memory sigs) {
        gs = new address[](2);
        sigs = new bytes[](2);
        (address a, bytes memory sa) = (alice, eoaApproval(aliceKey, newQx, newQy, dl));
        (address b, bytes memory sb) = (address(friend), friendApproval(newQx, newQy, dl));
        if (a > b) (a, sa, b, sb) = (b, sb, a, sa);
        (gs[0], sigs[0], gs[1], sigs[1]) = (a, sa, b, sb);
    }

    function start() internal returns (address[] memory gs, bytes[] memory sigs, uint256 dl) {
        dl = deadline();
        (gs, sigs) = approvals(dl);
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_SetGuardians() public view {
        (address[] memory list, uint256 threshold) = account.guardians();
        assertEq(list.length, 3);
        assertEq(list[2], address(friend));
        assertEq(threshold, 2);
    }

    function test_FullRecovery_ReplacesEveryDevice() public {
        addLaptop();
        uint256 t0 = block.timestamp;
        uint256 dl = deadline();
        (address[] memory gs, bytes[] memory sigs) = approvals(dl);
        vm.expectEmit(address(account));
        emit PasskeyAccount.RecoveryStarted(0, newQx, newQy, t0 + RECOVERY_DELAY);
        vm.prank(bob); // anyone holding the approvals
        account.startRecovery(newQx, newQy, dl, gs, sigs);
        (bytes32 qx,, uint256 readyAt) = account.pendingRecovery();
        assertEq(qx, newQx);
        assertEq(readyAt, t0 + RECOVERY_DELAY);

        vm.warp(t0 + RECOVERY_DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountRecoveryNotReady.selector, t0 + RECOVERY_DELAY, t0 + RECOVERY_DELAY - 1)
        );
        account.completeRecovery();

        vm.warp(t0 + RECOVERY_DELAY);
        vm.expectEmit(address(account));
        emit PasskeyAccount.RecoveryCompleted(0, newQx, newQy);
        vm.prank(bob);
        account.completeRecovery();
        assertEq(account.deviceCount(), 1);
        assertTrue(account.isDevice(newQx, newQy));
        assertFalse(account.isDevice(phoneQx, phoneQy));
        assertFalse(account.isDevice(laptopQx, laptopQy));
        assertEq(account.recoveryNonce(), 1);

        // old devices no longer pay; the new one does
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 50, 0);
        bytes memory oldSig = signIntent(phoneKey, address(account), i);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(phoneQx, phoneQy))
        );
        relay(i, 0, oldSig);
        relay(i, 0, signIntent(newKey, address(account), i));
        assertEq(token.balanceOf(merchant), 1 + 1e6);

        // the approvals cannot start another recovery
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardianSignature.selector, gs[0]));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
        vm.expectRevert(PasskeyAccount.PasskeyAccountNoRecovery.selector);
        account.completeRecovery();
    }

    function test_Cancel_ByOwner() public {
        (address[] memory gs, bytes[] memory sigs, uint256 dl) = start();
        vm.expectEmit(address(account));
        emit PasskeyAccount.RecoveryCancelled(0);
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.cancelRecovery, ()), 2);
        assertEq(account.recoveryNonce(), 1);
        (,, uint256 readyAt) = account.pendingRecovery();
        assertEq(readyAt, 0);

        vm.warp(block.timestamp + RECOVERY_DELAY);
        vm.expectRevert(PasskeyAccount.PasskeyAccountNoRecovery.selector);
        account.completeRecovery();
        assertTrue(account.isDevice(phoneQx, phoneQy));
        // the cancelled approvals cannot be replayed
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardianSignature.selector, gs[0]));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_RevertWhen_CancelByOthers() public {
        start();
        expectNotSelf(alice);
        vm.prank(alice);
        account.cancelRecovery();
    }

    function test_RevertWhen_StartTwice() public {
        (address[] memory gs, bytes[] memory sigs, uint256 dl) = start();
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountRecoveryInProgress.selector, 0));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_ThreeEoaAndAccountGuardians() public {
        uint256 dl = deadline();
        address[] memory gs = new address[](3);
        bytes[] memory sigs = new bytes[](3);
        address[3] memory who = [alice, carol, address(friend)];
        bytes[3] memory s =
            [eoaApproval(aliceKey, newQx, newQy, dl), eoaApproval(carolKey, newQx, newQy, dl), friendApproval(newQx, newQy, dl)];
        // sort by address
        for (uint256 k = 0; k < 3; ++k) {
            uint256 rank;
            for (uint256 j = 0; j < 3; ++j) {
                if (who[j] < who[k]) ++rank;
            }
            gs[rank] = who[k];
            sigs[rank] = s[k];
        }
        account.startRecovery(newQx, newQy, dl, gs, sigs);
        (,, uint256 readyAt) = account.pendingRecovery();
        assertGt(readyAt, 0);
    }

    function test_RevertWhen_BelowThreshold() public {
        uint256 dl = deadline();
        address[] memory gs = new address[](1);
        bytes[] memory sigs = new bytes[](1);
        (gs[0], sigs[0]) = (alice, eoaApproval(aliceKey, newQx, newQy, dl));
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountBelowThreshold.selector, 1, 2));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_RevertWhen_NoGuardians() public {
        PasskeyAccount lonely = newClone(strangerKey);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountBelowThreshold.selector, 0, 0));
        lonely.startRecovery(newQx, newQy, deadline(), new address[](0), new bytes[](0));
    }

    function test_RevertWhen_UnsortedOrDuplicateGuardians() public {
        uint256 dl = deadline();
        (address[] memory gs, bytes[] memory sigs) = approvals(dl);
        address[] memory rev = new address[](2);
        bytes[] memory revSigs = new bytes[](2);
        (rev[0], rev[1], revSigs[0], revSigs[1]) = (gs[1], gs[0], sigs[1], sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardian.selector, gs[0]));
        account.startRecovery(newQx, newQy, dl, rev, revSigs);

        address[] memory dup = new address[](2);
        bytes[] memory dupSigs = new bytes[](2);
        (dup[0], dup[1], dupSigs[0], dupSigs[1]) = (alice, alice, sigs[0], sigs[0]);
        bytes memory aliceSig = eoaApproval(aliceKey, newQx, newQy, dl);
        (dupSigs[0], dupSigs[1]) = (aliceSig, aliceSig);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardian.selector, alice));
        account.startRecovery(newQx, newQy, dl, dup, dupSigs);
    }

    function test_RevertWhen_NotAGuardian() public {
        uint256 dl = deadline();
        address[] memory gs = new address[](2);
        bytes[] memory sigs = new bytes[](2);
        (address a, bytes memory sa) = (alice, eoaApproval(aliceKey, newQx, newQy, dl));
        (address b, bytes memory sb) = (bob, eoaApproval(bobKey, newQx, newQy, dl));
        if (a > b) (a, sa, b, sb) = (b, sb, a, sa);
        (gs[0], sigs[0], gs[1], sigs[1]) = (a, sa, b, sb);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNotGuardian.selector, bob));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_RevertWhen_BadGuardianSignature() public {
        uint256 dl = deadline();
        (address[] memory gs, bytes[] memory sigs) = approvals(dl);
        // approvals for another new key, presented for ours
        bytes32 otherQx;
        bytes32 otherQy;
        (otherQx, otherQy) = pubKey(strangerKey);
        uint256 aliceIdx = gs[0] == alice ? 0 : 1;
        sigs[aliceIdx] = eoaApproval(aliceKey, otherQx, otherQy, dl);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardianSignature.selector, alice));
        account.startRecovery(newQx, newQy, dl, gs, sigs);

        // the friend account's device without user verification
        (gs, sigs) = approvals(dl);
        uint256 friendIdx = 1 - (gs[0] == alice ? 0 : 1);
        bytes32 digest = recoveryDigest(address(account), newQx, newQy, 0, dl);
        sigs[friendIdx] = assertion(laptopKey, messageDigest(address(friend), digest), FLAG_UP);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardianSignature.selector, address(friend))
        );
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_RevertWhen_ApprovalExpired() public {
        uint256 dl = deadline();
        (address[] memory gs, bytes[] memory sigs) = approvals(dl);
        vm.warp(dl + 1);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountExpired.selector, dl, dl + 1));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }

    function test_RevertWhen_LengthMismatch() public {
        uint256 dl = deadline();
        (address[] memory gs,) = approvals(dl);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountLengthMismatch.selector, 2, 1));
        account.startRecovery(newQx, newQy, dl, gs, new bytes[](1));
    }

    function test_RevertWhen_InvalidNewKey() public {
        uint256 dl = deadline();
        (address[] memory gs, bytes[] memory sigs) = approvals(dl);
        bytes32 badQy = bytes32(uint256(newQy) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidPublicKey.selector, newQx, badQy));
        account.startRecovery(newQx, badQy, dl, gs, sigs);
    }

    function test_RevertWhen_InvalidGuardianSets() public {
        vm.startPrank(address(account));
        address[] memory gs = new address[](2);
        (gs[0], gs[1]) = (alice, carol);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardians.selector, 2, 3));
        account.setGuardians(gs, 3);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardians.selector, 2, 0));
        account.setGuardians(gs, 0);
        (gs[0], gs[1]) = (alice, alice);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardian.selector, alice));
        account.setGuardians(gs, 1);
        (gs[0], gs[1]) = (alice, address(0));
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardian.selector, address(0)));
        account.setGuardians(gs, 1);
        (gs[0], gs[1]) = (alice, address(account));
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardian.selector, address(account)));
        account.setGuardians(gs, 1);
        // clearing
        account.setGuardians(new address[](0), 0);
        vm.stopPrank();
        (address[] memory list, uint256 threshold) = account.guardians();
        assertEq(list.length + threshold, 0);
    }

    function test_ReplacedGuardiansCannotRecover() public {
        uint256 dl = deadline();
        (address[] memory gs, bytes[] memory sigs) = approvals(dl);
        address[] memory only = new address[](1);
        only[0] = carol;
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.setGuardians, (only, 1)), 2);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNotGuardian.selector, gs[0]));
        account.startRecovery(newQx, newQy, dl, gs, sigs);
    }
}
