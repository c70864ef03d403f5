// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line no-console
import {console} from "forge-std/console.sol";
import {Account as OZAccount} from "@openzeppelin/contracts/account/Account.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {FalsePayTokenMock} from "../../contracts/mocks/FalsePayTokenMock.sol";

/// @dev Passkey account: relayed payments, devices, ERC-1271, ERC-4337 validation. Runs with the
/// P-256 precompile (default network, osaka) and without it (`--network prague`).
contract PasskeyAccountTest is PasskeyTestBase {
    PasskeyAccount internal account;
    bytes32 internal phoneQx;
    bytes32 internal phoneQy;
    bytes32 internal laptopQx;
    bytes32 internal laptopQy;
    bytes32 internal constant REF = keccak256("invoice-42");

    bytes4 internal constant MAGIC = 0x1626ba7e;

    function setUp() public override {
        super.setUp();
        account = newAccount(phoneKey);
        vm.label(address(account), "passkeyAccount");
        (phoneQx, phoneQy) = pubKey(phoneKey);
        (laptopQx, laptopQy) = pubKey(laptopKey);
        mintTo(address(account), FUNDS);
    }

    function relay(PasskeyAccount.PaymentIntent memory i, uint256 fee, bytes memory sig) internal {
        vm.prank(relayer);
        account.executePayment(i, fee, sig);
    }

    function addLaptop() internal {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(phoneKey, addDeviceDigest(address(account), laptopQx, laptopQy, 900, deadline), FLAGS_UP_UV);
        account.addDeviceWithSig(laptopQx, laptopQy, 900, deadline, sig);
    }

    // ------------------------------------------------------------ setup

    /// @dev The next call must revert because the phone's assertion does not sign `digest`.
    function expectInvalidPhoneSignature(bytes32 digest) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountInvalidSignature.selector, account.keyIdOf(phoneQx, phoneQy), digest
            )
        );
    }

    function test_Initialize_RegistersFirstDevice() public view {
        assertTrue(account.isDevice(phoneQx, phoneQy));
        assertFalse(account.isDevice(laptopQx, laptopQy));
        assertEq(account.deviceCount(), 1);
    }

    function test_RevertWhen_InitializedTwice() public {
        vm.expectRevert(bytes4(keccak256("InvalidInitialization()")));
        account.initialize(laptopQx, laptopQy);
    }

    function test_RevertWhen_ImplementationInitialized() public {
        vm.expectRevert(bytes4(keccak256("InvalidInitialization()")));
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
    }

    // ------------------------------------------------------------ payments

    function test_Pay_HappyPath() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 100e6, REF, 1, 1e6);
        bytes memory sig = signIntent(phoneKey, address(account), i);

        vm.expectEmit(address(token));
        emit Payments.Payment(REF, address(account), merchant, 100e6, 0);
        vm.expectEmit(address(account));
        emit PasskeyAccount.PaymentExecuted(1, address(token), merchant, 100e6, REF, relayer, 0.5e6);
        relay(i, 0.5e6, sig);

        assertEq(token.balanceOf(address(account)), FUNDS - 100.5e6);
        assertEq(token.balanceOf(merchant), 1 + 100e6);
        assertEq(token.balanceOf(relayer), 0.5e6);
        assertTrue(account.isNonceUsed(1));
        assertEq(account.nonceBitmap(0), 1 << 1);
    }

    function test_Pay_ZeroFeeAndAtDeadline() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 2, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.warp(i.deadline);
        relay(i, 0, sig);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
        assertEq(token.balanceOf(relayer), 0);
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
    }

    function test_Pay_AnyoneCanRelay() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 10);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.prank(bob);
        account.executePayment(i, 10, sig);
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

    function test_RevertWhen_AmountChanged() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        i.amount = 2e6;
        expectInvalidPhoneSignature(intentDigest(address(account), i));
        relay(i, 0, sig);
    }

    function test_RevertWhen_PayeeChanged() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        i.to = bob;
        expectInvalidPhoneSignature(intentDigest(address(account), i));
        relay(i, 0, sig);
    }

    function test_RevertWhen_IntentForAnotherAccount() public {
        PasskeyAccount other = newAccount(phoneKey); // same device key, different account
        mintTo(address(other), FUNDS);
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        expectInvalidPhoneSignature(intentDigest(address(other), i));
        other.executePayment(i, 0, sig);
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

    function test_RevertWhen_UserNotVerified() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory sig = assertion(phoneKey, digest, FLAG_UP); // user present, no biometric/PIN
        expectInvalidPhoneSignature(digest);
        relay(i, 0, sig);
    }

    function test_RevertWhen_UserNotPresent() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory sig = assertion(phoneKey, digest, FLAG_UV);
        expectInvalidPhoneSignature(digest);
        relay(i, 0, sig);
    }

    /// @dev Any authenticator flags: accepted iff user present, user verified, and not "backed up but not eligible".
    function testFuzz_Pay_AuthenticatorFlags(uint8 flags) public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory sig = assertion(phoneKey, digest, bytes1(flags));
        bool up = flags & 0x01 != 0;
        bool uv = flags & 0x04 != 0;
        bool be = flags & 0x08 != 0;
        bool bs = flags & 0x10 != 0;
        if (!(up && uv && (be || !bs))) {
            expectInvalidPhoneSignature(digest);
        }
        relay(i, 0, sig);
    }

    function test_RevertWhen_HighS() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes32 digest = intentDigest(address(account), i);
        bytes memory sig = assertion(phoneKey, digest, FLAGS_UP_UV);
        // s is the 4th word (after qx, qy, r): replace it by n - s
        uint256 s;
        assembly ("memory-safe") {
            s := mload(add(sig, 0x80))
        }
        uint256 high = P256_N - s;
        assembly ("memory-safe") {
            mstore(add(sig, 0x80), high)
        }
        expectInvalidPhoneSignature(digest);
        relay(i, 0, sig);
    }

    function test_RevertWhen_MalformedSignature() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountMalformedSignature.selector, 63));
        relay(i, 0, new bytes(63));

        bytes memory truncated = abi.encodePacked(phoneQx, phoneQy, bytes32(0));
        expectInvalidPhoneSignature(intentDigest(address(account), i));
        relay(i, 0, truncated);
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
        vm.expectRevert();
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
        assertEq(token.balanceOf(relayer), fee);
        assertTrue(account.isNonceUsed(nonce));
    }

    // ------------------------------------------------------------ devices

    function test_AddDevice_ApprovedByExistingDevice() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(phoneKey, addDeviceDigest(address(account), laptopQx, laptopQy, 5, deadline), FLAGS_UP_UV);
        vm.expectEmit(address(account));
        emit PasskeyAccount.NonceUsed(5);
        vm.expectEmit(address(account));
        emit PasskeyAccount.DeviceAdded(account.keyIdOf(laptopQx, laptopQy), laptopQx, laptopQy);
        vm.prank(relayer);
        account.addDeviceWithSig(laptopQx, laptopQy, 5, deadline, sig);
        assertTrue(account.isDevice(laptopQx, laptopQy));
        assertEq(account.deviceCount(), 2);

        // the new device pays
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 3e6, REF, 6, 0);
        relay(i, 0, signIntent(laptopKey, address(account), i));
        assertEq(token.balanceOf(merchant), 1 + 3e6);
    }

    function test_RevertWhen_AddDeviceByStranger() public {
        uint256 deadline = block.timestamp + 1 hours;
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        bytes memory sig = assertion(strangerKey, addDeviceDigest(address(account), sx, sy, 1, deadline), FLAGS_UP_UV);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(sx, sy))
        );
        account.addDeviceWithSig(sx, sy, 1, deadline, sig);
    }

    function test_RevertWhen_AddDeviceWithoutUV() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = addDeviceDigest(address(account), laptopQx, laptopQy, 1, deadline);
        bytes memory sig = assertion(phoneKey, digest, FLAG_UP);
        expectInvalidPhoneSignature(digest);
        account.addDeviceWithSig(laptopQx, laptopQy, 1, deadline, sig);
    }

    function test_RevertWhen_AddDeviceOtherKeyThanSigned() public {
        uint256 deadline = block.timestamp + 1 hours;
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        bytes memory sig =
            assertion(phoneKey, addDeviceDigest(address(account), laptopQx, laptopQy, 1, deadline), FLAGS_UP_UV);
        expectInvalidPhoneSignature(addDeviceDigest(address(account), sx, sy, 1, deadline));
        account.addDeviceWithSig(sx, sy, 1, deadline, sig);
    }

    function test_RevertWhen_AddDeviceExpiredOrReplayed() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(phoneKey, addDeviceDigest(address(account), laptopQx, laptopQy, 1, deadline), FLAGS_UP_UV);
        uint256 snap = vm.snapshotState();
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountExpired.selector, deadline, deadline + 1));
        account.addDeviceWithSig(laptopQx, laptopQy, 1, deadline, sig);
        vm.revertToState(snap);

        account.addDeviceWithSig(laptopQx, laptopQy, 1, deadline, sig);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, 1));
        account.addDeviceWithSig(laptopQx, laptopQy, 1, deadline, sig);
    }

    function test_RevertWhen_AddDeviceTwice() public {
        bytes32 keyId = account.keyIdOf(phoneQx, phoneQy);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(phoneKey, addDeviceDigest(address(account), phoneQx, phoneQy, 1, deadline), FLAGS_UP_UV);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountDeviceExists.selector, keyId));
        account.addDeviceWithSig(phoneQx, phoneQy, 1, deadline, sig);
    }

    function test_RevertWhen_AddInvalidPublicKey() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 qy = bytes32(uint256(laptopQy) ^ 1); // not on the curve
        bytes memory sig =
            assertion(phoneKey, addDeviceDigest(address(account), laptopQx, qy, 1, deadline), FLAGS_UP_UV);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidPublicKey.selector, laptopQx, qy)
        );
        account.addDeviceWithSig(laptopQx, qy, 1, deadline, sig);
    }

    function test_RemoveDevice_RemovedDeviceRefused() public {
        addLaptop();
        uint256 deadline = block.timestamp + 1 hours;
        // the laptop removes the (lost) phone
        bytes memory sig =
            assertion(laptopKey, removeDeviceDigest(address(account), phoneQx, phoneQy, 2, deadline), FLAGS_UP_UV);
        vm.expectEmit(address(account));
        emit PasskeyAccount.DeviceRemoved(account.keyIdOf(phoneQx, phoneQy), phoneQx, phoneQy);
        account.removeDeviceWithSig(phoneQx, phoneQy, 2, deadline, sig);
        assertFalse(account.isDevice(phoneQx, phoneQy));
        assertEq(account.deviceCount(), 1);

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

    function test_RevertWhen_RemoveLastDevice() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(phoneKey, removeDeviceDigest(address(account), phoneQx, phoneQy, 1, deadline), FLAGS_UP_UV);
        vm.expectRevert(
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountLastDevice.selector, account.keyIdOf(phoneQx, phoneQy))
        );
        account.removeDeviceWithSig(phoneQx, phoneQy, 1, deadline, sig);
    }

    function test_RevertWhen_RemoveUnknownDevice() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(phoneKey, removeDeviceDigest(address(account), laptopQx, laptopQy, 1, deadline), FLAGS_UP_UV);
        vm.expectRevert(
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(laptopQx, laptopQy)
            )
        );
        account.removeDeviceWithSig(laptopQx, laptopQy, 1, deadline, sig);
    }

    function test_RevertWhen_DirectDeviceCallsFromOutsiders() public {
        vm.expectRevert(abi.encodeWithSelector(OZAccount.AccountUnauthorized.selector, bob));
        vm.prank(bob);
        account.addDevice(laptopQx, laptopQy);
        vm.expectRevert(abi.encodeWithSelector(OZAccount.AccountUnauthorized.selector, bob));
        vm.prank(bob);
        account.removeDevice(phoneQx, phoneQy);
        vm.expectRevert(abi.encodeWithSelector(OZAccount.AccountUnauthorized.selector, bob));
        vm.prank(bob);
        account.invalidateNonce(1);
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
        // another hash
        assertEq(account.isValidSignature(keccak256("other"), assertion(phoneKey, challenge, FLAGS_UP_UV)), bad);
        // the raw hash as challenge (not wrapped for this account)
        assertEq(account.isValidSignature(h, assertion(phoneKey, h, FLAGS_UP_UV)), bad);
        // an unregistered key
        assertEq(account.isValidSignature(h, assertion(strangerKey, challenge, FLAGS_UP_UV)), bad);
        // a stranger claiming the phone's key
        assertEq(account.isValidSignature(h, assertionAs(strangerKey, phoneQx, phoneQy, challenge, FLAGS_UP_UV)), bad);
        // no user verification
        assertEq(account.isValidSignature(h, assertion(phoneKey, challenge, FLAG_UP)), bad);
        // malformed: never reverts
        assertEq(account.isValidSignature(h, ""), bad);
        assertEq(account.isValidSignature(h, abi.encodePacked(phoneQx, phoneQy, bytes32(0))), bad);
        // signed for another account sharing the device key
        PasskeyAccount other = newAccount(phoneKey);
        assertEq(
            other.isValidSignature(h, assertion(phoneKey, challenge, FLAGS_UP_UV)), bad
        );
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

    function test_ERC1271_PermitWithoutUVRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = permitDigest(token, address(account), relayer, 50e6, 0, deadline);
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), digest), FLAG_UP);
        vm.expectRevert();
        token.permit(address(account), relayer, 50e6, deadline, sig);
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

        vm.expectRevert(abi.encodeWithSelector(OZAccount.AccountUnauthorized.selector, address(this)));
        account.validateUserOp(op, userOpHash, 0);
    }

    // ------------------------------------------------------------ gas

    /// @dev Steady state: the account paid before (warm nonce word, non-zero balances), the merchant and the
    /// relayer hold tokens. Storage and accounts are cooled first, so the figure is the call's execution gas as
    /// in its own transaction, without the 21,000 base cost and calldata.
    function test_Gas_PaySteadyState() public {
        PasskeyAccount.PaymentIntent memory first = intentFor(merchant, 1e6, REF, 1, 1);
        relay(first, 1, signIntent(phoneKey, address(account), first));

        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 2, 1);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        PasskeyAccount.PaymentIntent memory j = intentFor(merchant, 1e6, REF, 3, 0);
        bytes memory sigJ = signIntent(phoneKey, address(account), j);

        _cool();
        vm.prank(relayer);
        uint256 before = gasleft();
        account.executePayment(i, 1, sig);
        uint256 withFee = before - gasleft();

        _cool();
        vm.prank(relayer);
        before = gasleft();
        account.executePayment(j, 0, sigJ);
        uint256 noFee = before - gasleft();

        uint256 txFee = 21_000 + calldataGas(abi.encodeCall(PasskeyAccount.executePayment, (i, 1, sig))) + withFee;
        uint256 txNoFee = 21_000 + calldataGas(abi.encodeCall(PasskeyAccount.executePayment, (j, 0, sigJ))) + noFee;
        // solhint-disable no-console
        console.log("gas.passkey.payment execution, relayer fee:", withFee);
        console.log("gas.passkey.payment execution, no fee:", noFee);
        console.log("gas.passkey.payment tx (21000 + calldata + execution), relayer fee:", txFee);
        console.log("gas.passkey.payment tx (21000 + calldata + execution), no fee:", txNoFee);
        console.log("signature bytes:", sig.length);
        // solhint-enable no-console
    }

    /// @dev EIP-2028 calldata cost (4 per zero byte, 16 otherwise); the EIP-7623 floor is lower here.
    function calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 k = 0; k < data.length; ++k) {
            gas += data[k] == 0 ? 4 : 16;
        }
    }

    function _cool() internal {
        vm.cool(address(account));
        vm.cool(address(accountImpl));
        vm.cool(address(token));
        // ERC-1967 implementation slot (low 160 bits; bit 255 is the pause flag)
        bytes32 impl = vm.load(address(token), 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc);
        vm.cool(address(uint160(uint256(impl))));
        vm.cool(merchant);
        vm.cool(relayer);
        vm.cool(address(0x100));
    }
}
