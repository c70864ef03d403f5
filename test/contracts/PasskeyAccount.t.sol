// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PasskeyFixture} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";
import {FalsePayTokenMock} from "../../contracts/mocks/FalsePayTokenMock.sol";

/// @dev Passkey account: relayed payments, the signature format, devices, owner calls, ERC-1271 and
/// ERC-4337 validation. Runs with the P-256 precompile (osaka) and without it (`--network prague`).
contract PasskeyAccountTest is PasskeyFixture {
    // ------------------------------------------------------------ setup

    function test_Initialize_RegistersFirstDevice() public view {
        assertTrue(account.isDevice(phoneQx, phoneQy));
        assertFalse(account.isDevice(laptopQx, laptopQy));
        assertEq(account.deviceCount(), 1);
        bytes32[] memory ids = account.deviceIds();
        assertEq(ids.length, 1);
        assertEq(ids[0], account.keyIdOf(phoneQx, phoneQy));
        assertEq(account.limitRaiseDelay(), LIMIT_RAISE_DELAY);
        assertEq(account.recoveryDelay(), RECOVERY_DELAY);
    }

    function test_RevertWhen_InitializedTwice() public {
        vm.expectRevert(PasskeyAccount.PasskeyAccountAlreadyInitialized.selector);
        account.initialize(laptopQx, laptopQy);
    }

    function test_RevertWhen_ImplementationInitialized() public {
        vm.expectRevert(PasskeyAccount.PasskeyAccountAlreadyInitialized.selector);
        accountImpl.initialize(phoneQx, phoneQy);
    }

    function test_HashPaymentIntent_MatchesIndependentEIP712() public view {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 5e6, REF, 1, 0);
        assertEq(account.hashPaymentIntent(i), intentDigest(address(account), i));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = account.eip712Domain();
        assertEq(name, "Oriole PasskeyAccount");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(account));
        bytes memory data = abi.encodeCall(PasskeyAccount.invalidateNonce, (5));
        assertEq(account.hashAccountCall(data, 7, 100), accountCallDigest(address(account), data, 7, 100));
    }

    // ------------------------------------------------------------ payments

    function test_Pay_HappyPath_FeeToFeeRecipient() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 100e6, REF, 1, 1e6);
        bytes memory sig = signIntent(phoneKey, address(account), i);

        vm.expectEmit(address(account));
        emit PasskeyAccount.PaymentExecuted(1);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(account), merchant, 100e6);
        vm.expectEmit(address(token));
        emit Payments.Payment(REF, address(account), merchant, 100e6, 0);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(account), collector, 0.5e6); // the fee: a plain Transfer after the Payment
        relay(i, 0.5e6, sig);

        assertEq(token.balanceOf(address(account)), FUNDS - 100.5e6);
        assertEq(token.balanceOf(merchant), 1 + 100e6);
        assertEq(token.balanceOf(collector), 0.5e6);
        assertEq(token.balanceOf(relayer), 0, "the caller gets nothing, the fee recipient does");
        assertTrue(account.isNonceUsed(1));
        assertEq(account.nonceBitmap(0), 1 << 1);
    }

    function test_Pay_ZeroFeeAndAtDeadline() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 2, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.warp(i.deadline);
        relay(i, 0, sig);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
        assertEq(token.balanceOf(collector), 0);
    }

    function test_Pay_UnorderedNonces() public {
        PasskeyAccount.PaymentIntent memory a = intentFor(merchant, 1e6, REF, 1000, 0);
        PasskeyAccount.PaymentIntent memory b = intentFor(merchant, 2e6, REF, 3, 0);
        bytes memory sigA = signIntent(phoneKey, address(account), a);
        bytes memory sigB = signIntent(phoneKey, address(account), b);
        relay(a, 0, sigA);
        relay(b, 0, sigB);
        assertTrue(account.isNonceUsed(1000) && account.isNonceUsed(3));
        assertFalse(account.isNonceUsed(4));
        assertEq(account.nonceBitmap(1000 >> 8), 1 << (1000 & 255));
    }

    function test_Pay_AnyoneCanRelay() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 10);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.prank(bob);
        account.executePayment(i, 10, bob, sig);
        assertEq(token.balanceOf(bob), FUNDS + 10);
    }

    function test_RevertWhen_TokenPayReturnsFalse() public {
        FalsePayTokenMock falseToken = new FalsePayTokenMock();
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 7, 0);
        i.token = address(falseToken);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountPaymentFailed.selector, address(falseToken), merchant, 1e6)
        );
        relay(i, 0, sig);
        assertFalse(account.isNonceUsed(7));
    }

    function test_RevertWhen_UnregisteredKey() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(strangerKey, address(account), i);
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(sx, sy))
        );
        relay(i, 0, sig);
    }

    function test_RevertWhen_WrongKeyClaimsRegisteredDevice() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory sig = assertionAs(strangerKey, phoneQx, phoneQy, digest, FLAGS_UP_UV);
        expectInvalidPhoneSignature(digest);
        relay(i, 0, sig);
    }

    /// @dev Changing any one field of a signed intent invalidates the signature.
    function testFuzz_RevertWhen_IntentFieldChanged(uint8 field, uint256 value) public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 1e6);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        field = field % 7;
        if (field == 0) i.token = address(uint160(bound(value, 1, type(uint160).max)));
        else if (field == 1) i.to = address(uint160(value));
        else if (field == 2) i.amount = bound(value, 0, 1e6 - 1);
        else if (field == 3) i.ref = bytes32(value);
        else if (field == 4) i.nonce = bound(value, 2, type(uint256).max);
        else if (field == 5) i.deadline = bound(value, block.timestamp, i.deadline - 1);
        else i.maxRelayerFee = bound(value, 1e6 + 1, type(uint256).max);
        vm.assume(intentDigest(address(account), i) != intentDigest(address(account), intentFor(merchant, 1e6, REF, 1, 1e6)));
        expectInvalidPhoneSignature(intentDigest(address(account), i));
        relay(i, 0, sig);
    }

    function test_RevertWhen_IntentForAnotherAccount() public {
        PasskeyAccount other = newClone(phoneKey); // same device key, different account
        mintTo(address(other), FUNDS);
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        expectInvalidPhoneSignature(intentDigest(address(other), i));
        other.executePayment(i, 0, collector, sig);
    }

    function test_RevertWhen_Replayed() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 7, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        relay(i, 0, sig);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, 7));
        relay(i, 0, sig);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
    }

    function test_RevertWhen_Expired() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.warp(i.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountExpired.selector, i.deadline, i.deadline + 1)
        );
        relay(i, 0, sig);
    }

    function test_RevertWhen_RelayerFeeAboveMax() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0.1e6);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountRelayerFeeTooHigh.selector, 0.1e6 + 1, 0.1e6)
        );
        relay(i, 0.1e6 + 1, sig);
    }

    function test_RevertWhen_InsufficientBalance_NonceNotUsed() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, FUNDS + 1, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.expectRevert(); // the token's insufficient-balance error
        relay(i, 0, sig);
        assertFalse(account.isNonceUsed(1));
    }

    function testFuzz_Pay_FeeUpToMax(uint64 amount, uint64 maxFee, uint64 fee, uint256 nonce) public {
        amount = uint64(bound(amount, 1, FUNDS / 2));
        maxFee = uint64(bound(maxFee, 0, FUNDS / 2));
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, amount, REF, nonce, maxFee);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        if (fee > maxFee) {
            vm.expectRevert(
                abi.encodeWithSelector(PasskeyAccount.PasskeyAccountRelayerFeeTooHigh.selector, fee, maxFee)
            );
            relay(i, fee, sig);
            return;
        }
        relay(i, fee, sig);
        assertEq(token.balanceOf(address(account)), FUNDS - amount - fee);
        assertEq(token.balanceOf(merchant), 1 + uint256(amount));
        assertEq(token.balanceOf(collector), fee);
        assertTrue(account.isNonceUsed(nonce));
    }

    // ------------------------------------------------------------ signature format

    function test_RevertWhen_UserNotVerified() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = assertion(phoneKey, intentDigest(address(account), i), FLAG_UP); // no biometric/PIN
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUserVerificationRequired.selector, uint8(FLAG_UP))
        );
        relay(i, 0, sig);
    }

    function test_RevertWhen_UserNotPresent() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = assertion(phoneKey, intentDigest(address(account), i), FLAG_UV);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUserVerificationRequired.selector, uint8(FLAG_UV))
        );
        relay(i, 0, sig);
    }

    /// @dev Any authenticator flags: accepted iff user present and user verified (BE/BS are not policy here).
    function testFuzz_Pay_AuthenticatorFlags(uint8 flags) public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = assertion(phoneKey, intentDigest(address(account), i), bytes1(flags));
        if (flags & 0x05 != 0x05) {
            vm.expectRevert(
                abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUserVerificationRequired.selector, flags)
            );
        }
        relay(i, 0, sig);
    }

    function test_RevertWhen_SuffixDoesNotStartWithQuote() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        // a clientDataJSON whose challenge continues past the 43 characters: `...<b64>A",...`;
        // the authenticator really signed it, but the challenge is not `digest`
        bytes memory suffix = bytes(string.concat("A", SUFFIX));
        string memory json = string.concat(
            "{\"type\":\"webauthn.get\",\"challenge\":\"", base64Url(digest), string(suffix)
        );
        bytes memory sig = assertionWith(phoneKey, phoneQx, phoneQy, authenticatorData(FLAGS_UP_UV), json, suffix, false);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountMalformedSignature.selector, sig.length));
        relay(i, 0, sig);
    }

    function test_RevertWhen_OtherWebAuthnType() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        // a registration ceremony's clientDataJSON (webauthn.create) with the same challenge
        string memory json = string.concat("{\"type\":\"webauthn.create\",\"challenge\":\"", base64Url(digest), SUFFIX);
        bytes memory sig =
            assertionWith(phoneKey, phoneQx, phoneQy, authenticatorData(FLAGS_UP_UV), json, bytes(SUFFIX), false);
        expectInvalidPhoneSignature(digest);
        relay(i, 0, sig);
    }

    function test_RevertWhen_HighS() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory sig = assertionWith(
            phoneKey, phoneQx, phoneQy, authenticatorData(FLAGS_UP_UV), clientData(digest), bytes(SUFFIX), true
        );
        expectInvalidPhoneSignature(digest);
        relay(i, 0, sig);
    }

    function test_LongerAuthenticatorData_Accepted() public {
        // authenticatorData with extensions (ED flag): longer than 37 bytes
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory authData = abi.encodePacked(authenticatorData(0x85), hex"a16b6372656450726f7465637402");
        bytes memory sig = assertionWith(phoneKey, phoneQx, phoneQy, authData, clientData(digest), bytes(SUFFIX), false);
        relay(i, 0, sig);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
    }

    function test_RevertWhen_MalformedSignature() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory good = signIntent(phoneKey, address(account), i);

        // too short
        expectMalformed(167);
        relay(i, 0, new bytes(167));
        expectMalformed(0);
        relay(i, 0, "");

        // authenticatorData shorter than 37 bytes
        bytes memory bad = bytes.concat(good);
        bad[128] = 0x00;
        bad[129] = 0x24;
        expectMalformed(bad.length);
        relay(i, 0, bad);

        // authenticatorData length reaching past the end (no suffix left)
        bad = bytes.concat(good);
        uint256 tooLong = good.length - 130;
        bad[128] = bytes1(uint8(tooLong >> 8));
        bad[129] = bytes1(uint8(tooLong));
        expectMalformed(bad.length);
        relay(i, 0, bad);

        // truncated suffix: well formed but the assertion no longer matches
        bad = new bytes(good.length - 1);
        for (uint256 k = 0; k < bad.length; ++k) bad[k] = good[k];
        expectInvalidPhoneSignature(intentDigest(address(account), i));
        relay(i, 0, bad);
    }

    function expectMalformed(uint256 length) internal {
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountMalformedSignature.selector, length));
    }

    /// @dev Random bytes never pass as a signature: a custom error, never a panic or success.
    function testFuzz_RevertWhen_GarbageSignature(bytes memory garbage) public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        vm.prank(relayer);
        (bool ok, bytes memory ret) =
            address(account).call(abi.encodeCall(PasskeyAccount.executePayment, (i, 0, collector, garbage)));
        assertFalse(ok);
        bytes4 err = bytes4(ret);
        assertTrue(
            err == PasskeyAccount.PasskeyAccountMalformedSignature.selector
                || err == PasskeyAccount.PasskeyAccountUnknownDevice.selector,
            "custom error"
        );
    }

    // ------------------------------------------------------------ devices and owner calls

    function test_AddDevice_ApprovedByExistingDevice() public {
        bytes memory data = abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy));
        vm.expectEmit(address(account));
        emit PasskeyAccount.NonceUsed(5);
        vm.expectEmit(address(account));
        emit PasskeyAccount.DeviceAdded(account.keyIdOf(laptopQx, laptopQy), laptopQx, laptopQy);
        callWithSig(account, phoneKey, data, 5);
        assertTrue(account.isDevice(laptopQx, laptopQy));
        assertEq(account.deviceCount(), 2);

        // the new device pays
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 3e6, REF, 6, 0);
        relay(i, 0, signIntent(laptopKey, address(account), i));
        assertEq(token.balanceOf(merchant), 1 + 3e6);
    }

    function test_RevertWhen_OwnerCallByStranger() public {
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        callWithSigReverts(account, strangerKey, abi.encodeCall(PasskeyAccount.addDevice, (sx, sy)), 1, abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(sx, sy)));
    }

    function test_RevertWhen_OwnerCallWithoutUV() public {
        bytes memory data = abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(phoneKey, accountCallDigest(address(account), data, 1, deadline), FLAG_UP);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUserVerificationRequired.selector, uint8(FLAG_UP))
        );
        account.executeWithSig(data, 1, deadline, sig);
    }

    function test_RevertWhen_OwnerCallDataChanged() public {
        bytes memory data = abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy));
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        bytes memory other = abi.encodeCall(PasskeyAccount.addDevice, (sx, sy));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(phoneKey, accountCallDigest(address(account), data, 1, deadline), FLAGS_UP_UV);
        expectInvalidPhoneSignature(accountCallDigest(address(account), other, 1, deadline));
        account.executeWithSig(other, 1, deadline, sig);
    }

    function test_RevertWhen_OwnerCallExpiredOrReplayed() public {
        bytes memory data = abi.encodeCall(PasskeyAccount.invalidateNonce, (77));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(phoneKey, accountCallDigest(address(account), data, 1, deadline), FLAGS_UP_UV);
        uint256 snap = vm.snapshotState();
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountExpired.selector, deadline, deadline + 1));
        account.executeWithSig(data, 1, deadline, sig);
        vm.revertToState(snap);

        account.executeWithSig(data, 1, deadline, sig);
        assertTrue(account.isNonceUsed(77));
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, 1));
        account.executeWithSig(data, 1, deadline, sig);
    }

    function test_OwnerCall_NonceSharedWithIntents() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 4, 0);
        pay(i);
        bytes memory data = abi.encodeCall(PasskeyAccount.invalidateNonce, (5));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(phoneKey, accountCallDigest(address(account), data, 4, deadline), FLAGS_UP_UV);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, 4));
        account.executeWithSig(data, 4, deadline, sig);
    }

    function test_OwnerCall_EveryAllowedSelector() public {
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy)), 1);
        assertEq(account.deviceCount(), 2);
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.removeDevice, (laptopQx, laptopQy)), 2);
        assertEq(account.deviceCount(), 1);
        address[] memory gs = new address[](1);
        gs[0] = alice;
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.setGuardians, (gs, 1)), 3);
        (address[] memory list, uint256 threshold) = account.guardians();
        assertEq(list.length, 1);
        assertEq(threshold, 1);
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.setDailyLimit, (address(token), 5e6)), 4);
        (uint256 limit,,,) = account.dailyLimit(address(token));
        assertEq(limit, 5e6);
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.invalidateNonce, (99)), 5);
        assertTrue(account.isNonceUsed(99));
        // cancelRecovery is allowed (its own revert bubbles up when nothing is pending)
        callWithSigReverts(account, phoneKey, abi.encodeCall(PasskeyAccount.cancelRecovery, ()), 6, abi.encodePacked(PasskeyAccount.PasskeyAccountNoRecovery.selector));
    }

    function test_RevertWhen_OwnerCallForbiddenSelector() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes[6] memory forbidden = [
            abi.encodeCall(PasskeyAccount.executePayment, (i, 0, collector, "")),
            abi.encodeCall(PasskeyAccount.initialize, (laptopQx, laptopQy)),
            abi.encodeCall(PasskeyAccount.completeRecovery, ()),
            abi.encodeWithSignature("execute(bytes32,bytes)", bytes32(0), ""),
            abi.encodeWithSignature("transfer(address,uint256)", bob, 1),
            hex"0102"
        ];
        for (uint256 k = 0; k < forbidden.length; ++k) {
            bytes memory data = forbidden[k];
            bytes4 selector = data.length < 4 ? bytes4(0) : bytes4(data);
            callWithSigReverts(account, phoneKey, data, 10 + k, abi.encodeWithSelector(PasskeyAccount.PasskeyAccountCallNotAllowed.selector, selector));
        }
    }

    function test_RevertWhen_AddDeviceTwice() public {
        bytes32 keyId = account.keyIdOf(phoneQx, phoneQy);
        callWithSigReverts(account, phoneKey, abi.encodeCall(PasskeyAccount.addDevice, (phoneQx, phoneQy)), 1, abi.encodeWithSelector(PasskeyAccount.PasskeyAccountDeviceExists.selector, keyId));
    }

    function test_RevertWhen_AddInvalidPublicKey() public {
        bytes32 qy = bytes32(uint256(laptopQy) ^ 1); // not on the curve
        callWithSigReverts(account, phoneKey, abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, qy)), 1, abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidPublicKey.selector, laptopQx, qy));
    }

    function test_RevertWhen_TooManyDevices() public {
        vm.startPrank(address(account));
        for (uint256 k = 1; k < account.MAX_DEVICES(); ++k) {
            (bytes32 qx, bytes32 qy) = pubKey(uint256(keccak256(abi.encode("device", k))) % P256_N);
            account.addDevice(qx, qy);
        }
        (bytes32 x, bytes32 y) = pubKey(laptopKey);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountTooManyDevices.selector, 16));
        account.addDevice(x, y);
        vm.stopPrank();
    }

    function test_RemoveDevice_RemovedDeviceRefused() public {
        addLaptop();
        // the laptop removes the (lost) phone
        vm.expectEmit(address(account));
        emit PasskeyAccount.DeviceRemoved(account.keyIdOf(phoneQx, phoneQy));
        callWithSig(account, laptopKey, abi.encodeCall(PasskeyAccount.removeDevice, (phoneQx, phoneQy)), 2);
        assertFalse(account.isDevice(phoneQx, phoneQy));
        assertEq(account.deviceCount(), 1);
        assertEq(account.deviceIds()[0], account.keyIdOf(laptopQx, laptopQy));

        // an intent the phone signs now is refused...
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 3, 0);
        bytes memory phoneSig = signIntent(phoneKey, address(account), i);
        vm.expectRevert(
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(phoneQx, phoneQy)
            )
        );
        relay(i, 0, phoneSig);
        // ...and so is its ERC-1271 signature
        bytes32 h = keccak256("hello");
        assertEq(
            account.isValidSignature(h, assertion(phoneKey, messageDigest(address(account), h), FLAGS_UP_UV)),
            bytes4(0xffffffff)
        );
        // the laptop still pays
        relay(i, 0, signIntent(laptopKey, address(account), i));
    }

    function test_RemoveDevice_AnyPositionInTheList() public {
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        vm.startPrank(address(account));
        account.addDevice(laptopQx, laptopQy);
        account.addDevice(sx, sy); // list: stranger, laptop, phone
        account.removeDevice(laptopQx, laptopQy); // middle
        assertEq(account.deviceCount(), 2);
        account.removeDevice(sx, sy); // head
        account.addDevice(laptopQx, laptopQy);
        account.removeDevice(phoneQx, phoneQy); // tail
        vm.stopPrank();
        bytes32[] memory ids = account.deviceIds();
        assertEq(ids.length, 1);
        assertEq(ids[0], account.keyIdOf(laptopQx, laptopQy));
        assertTrue(account.isDevice(laptopQx, laptopQy));
        assertFalse(account.isDevice(phoneQx, phoneQy) || account.isDevice(sx, sy));
    }

    function test_RevertWhen_RemoveLastDevice() public {
        callWithSigReverts(
            account,
            phoneKey,
            abi.encodeCall(PasskeyAccount.removeDevice, (phoneQx, phoneQy)),
            1,
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountLastDevice.selector, account.keyIdOf(phoneQx, phoneQy))
        );
    }

    function test_RevertWhen_RemoveUnknownDevice() public {
        callWithSigReverts(account, phoneKey, abi.encodeCall(PasskeyAccount.removeDevice, (laptopQx, laptopQy)), 1, abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(laptopQx, laptopQy)
            ));
    }

    function test_RevertWhen_SelfOnlyFunctionsCalledByOthers() public {
        address[] memory gs = new address[](0);
        address[2] memory callers = [bob, relayer];
        for (uint256 k = 0; k < callers.length; ++k) {
            address c = callers[k];
            vm.startPrank(c);
            expectNotSelf(c);
            account.addDevice(laptopQx, laptopQy);
            expectNotSelf(c);
            account.removeDevice(phoneQx, phoneQy);
            expectNotSelf(c);
            account.invalidateNonce(1);
            expectNotSelf(c);
            account.setDailyLimit(address(token), 1);
            expectNotSelf(c);
            account.setGuardians(gs, 0);
            expectNotSelf(c);
            account.cancelRecovery();
            vm.stopPrank();
        }
    }

    function test_EntryPointManagesDevicesAndNonces() public {
        address ep = address(account.entryPoint());
        vm.startPrank(ep);
        account.addDevice(laptopQx, laptopQy);
        account.removeDevice(phoneQx, phoneQy);
        account.invalidateNonce(9);
        vm.stopPrank();
        assertTrue(account.isDevice(laptopQx, laptopQy));
        assertFalse(account.isDevice(phoneQx, phoneQy));
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 9, 0);
        bytes memory sig = signIntent(laptopKey, address(account), i);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, 9));
        relay(i, 0, sig);
    }

    // ------------------------------------------------------------ ERC-1271

    function test_ERC1271_AcceptsAnyRegisteredDevice() public {
        bytes32 h = keccak256("any hash");
        bytes32 challenge = messageDigest(address(account), h);
        assertEq(account.replaySafeHash(h), challenge);
        assertEq(account.isValidSignature(h, assertion(phoneKey, challenge, FLAGS_UP_UV)), MAGIC);
        addLaptop();
        assertEq(account.isValidSignature(h, assertion(laptopKey, challenge, FLAGS_UP_UV)), MAGIC);
    }

    function test_ERC1271_Rejects() public {
        bytes32 h = keccak256("any hash");
        bytes32 challenge = messageDigest(address(account), h);
        bytes4 bad = 0xffffffff;
        bytes memory good = assertion(phoneKey, challenge, FLAGS_UP_UV);
        // another hash
        assertEq(account.isValidSignature(keccak256("other"), good), bad);
        // the raw hash as challenge (not wrapped for this account)
        assertEq(account.isValidSignature(h, assertion(phoneKey, h, FLAGS_UP_UV)), bad);
        // an unregistered key
        assertEq(account.isValidSignature(h, assertion(strangerKey, challenge, FLAGS_UP_UV)), bad);
        // a stranger claiming the phone's key
        assertEq(account.isValidSignature(h, assertionAs(strangerKey, phoneQx, phoneQy, challenge, FLAGS_UP_UV)), bad);
        // no user verification, no user presence
        assertEq(account.isValidSignature(h, assertion(phoneKey, challenge, FLAG_UP)), bad);
        assertEq(account.isValidSignature(h, assertion(phoneKey, challenge, FLAG_UV)), bad);
        // high s
        assertEq(
            account.isValidSignature(
                h,
                assertionWith(
                    phoneKey, phoneQx, phoneQy, authenticatorData(FLAGS_UP_UV), clientData(challenge), bytes(SUFFIX), true
                )
            ),
            bad
        );
        // malformed: never reverts
        assertEq(account.isValidSignature(h, ""), bad);
        assertEq(account.isValidSignature(h, abi.encodePacked(phoneQx, phoneQy, bytes32(0))), bad);
        bytes memory cut = bytes.concat(good);
        cut[129] = 0xff; // authenticatorData length past the end
        assertEq(account.isValidSignature(h, cut), bad);
        // signed for another account sharing the device key
        PasskeyAccount other = newClone(phoneKey);
        assertEq(other.isValidSignature(h, good), bad);
        assertEq(account.isValidSignature(h, good), MAGIC);
    }

    function test_ERC1271_PasskeySignsPermit() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = permitDigest(token, address(account), relayer, 50e6, 0, deadline);
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), digest), FLAGS_UP_UV);
        token.permit(address(account), relayer, 50e6, deadline, sig);
        assertEq(token.allowance(address(account), relayer), 50e6);
    }

    function test_ERC1271_PasskeySignsTransferWithAuthorization() public {
        bytes32 nonce = keccak256("code-1");
        uint256 validBefore = block.timestamp + 1 hours;
        bytes32 digest = authDigest(token, TWA_TYPEHASH, address(account), merchant, 7e6, 0, validBefore, nonce);
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), digest), FLAGS_UP_UV);
        token.transferWithAuthorization(address(account), merchant, 7e6, 0, validBefore, nonce, sig);
        assertEq(token.balanceOf(merchant), 1 + 7e6);
    }

    function test_ERC1271_AuthorizationForAnotherAccountSharingTheKeyRefused() public {
        PasskeyAccount other = newClone(phoneKey);
        mintTo(address(other), FUNDS);
        bytes32 nonce = keccak256("code-2");
        uint256 validBefore = block.timestamp + 1 hours;
        // signed for `account`'s wrapper, presented as `other`'s authorization
        bytes32 digest = authDigest(token, TWA_TYPEHASH, address(other), merchant, 7e6, 0, validBefore, nonce);
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), digest), FLAGS_UP_UV);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(other)));
        token.transferWithAuthorization(address(other), merchant, 7e6, 0, validBefore, nonce, sig);
        assertEq(token.balanceOf(address(other)), FUNDS);
    }

    function test_ERC1271_PermitWithoutUVRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = permitDigest(token, address(account), relayer, 50e6, 0, deadline);
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), digest), FLAG_UP);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(account)));
        token.permit(address(account), relayer, 50e6, deadline, sig);
        assertEq(token.allowance(address(account), relayer), 0);
    }

    // ------------------------------------------------------------ ERC-4337

    function test_ERC4337_ValidateUserOp() public {
        bytes32 userOpHash = keccak256("userOp");
        PackedUserOperation memory op;
        op.sender = address(account);
        op.signature = assertion(phoneKey, userOpHash, FLAGS_UP_UV);
        vm.prank(address(account.entryPoint()));
        assertEq(account.validateUserOp(op, userOpHash, 0), 0); // SIG_VALIDATION_SUCCESS

        op.signature = assertion(phoneKey, userOpHash, FLAG_UP);
        vm.prank(address(account.entryPoint()));
        assertEq(account.validateUserOp(op, userOpHash, 0), 1); // SIG_VALIDATION_FAILED

        expectNotSelf(address(this));
        account.validateUserOp(op, userOpHash, 0);
    }
}
