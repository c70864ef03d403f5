// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Account as OZAccount} from "@openzeppelin/contracts/account/Account.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {PasskeyAccountFactory} from "../../contracts/account/PasskeyAccountFactory.sol";
import {PaymentRelay} from "../../contracts/account/PaymentRelay.sol";

/// @dev Passkey accounts on top of the StableToken setup: P-256 device keys (vm.signP256) and
/// hand-built WebAuthn assertions (authenticatorData, clientDataJSON), as a browser would make them.
abstract contract PasskeyTestBase is StableTokenTestBase {
    // P-256 group order
    uint256 internal constant P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;

    bytes1 internal constant FLAG_UP = 0x01;
    bytes1 internal constant FLAG_UV = 0x04;
    bytes1 internal constant FLAGS_UP_UV = 0x05;

    uint256 internal constant LIMIT_RAISE_DELAY = 1 days;
    uint256 internal constant RECOVERY_DELAY = 2 days;
    string internal constant SUFFIX = "\",\"origin\":\"http://localhost:8787\",\"crossOrigin\":false}";

    bytes32 internal constant INTENT_TYPEHASH = keccak256(
        "PaymentIntent(address token,address to,uint256 amount,bytes32 reference,uint256 nonce,uint256 deadline,uint256 maxRelayerFee)"
    );
    bytes32 internal constant ACCOUNT_CALL_TYPEHASH_ = keccak256("AccountCall(bytes data,uint256 nonce,uint256 deadline)");
    bytes32 internal constant RECOVERY_TYPEHASH_ =
        keccak256("Recovery(bytes32 qx,bytes32 qy,uint256 recoveryNonce,uint256 deadline)");
    bytes32 internal constant MESSAGE_TYPEHASH = keccak256("OrioleMessage(bytes32 hash)");

    PasskeyAccount internal accountImpl;
    PasskeyAccountFactory internal factory;
    PaymentRelay internal paymentRelay;
    uint256 internal phoneKey = uint256(keccak256("oriole.test.phone")) % P256_N;
    uint256 internal laptopKey = uint256(keccak256("oriole.test.laptop")) % P256_N;
    uint256 internal strangerKey = uint256(keccak256("oriole.test.stranger")) % P256_N;

    function setUp() public virtual override {
        super.setUp();
        accountImpl = new PasskeyAccount(LIMIT_RAISE_DELAY, RECOVERY_DELAY);
        factory = new PasskeyAccountFactory(accountImpl);
        paymentRelay = new PaymentRelay(factory);
    }

    /// @dev An account deployed by the factory (salt 0) with `deviceKey` as its first device.
    function newAccount(uint256 deviceKey) internal returns (PasskeyAccount acct) {
        (bytes32 qx, bytes32 qy) = pubKey(deviceKey);
        acct = PasskeyAccount(payable(factory.createAccount(qx, qy, 0)));
    }

    /// @dev A bare clone, initialized here (no factory).
    function newClone(uint256 deviceKey) internal returns (PasskeyAccount acct) {
        acct = PasskeyAccount(payable(Clones.clone(address(accountImpl))));
        (bytes32 qx, bytes32 qy) = pubKey(deviceKey);
        acct.initialize(qx, qy);
    }

    function pubKey(uint256 deviceKey) internal pure returns (bytes32 qx, bytes32 qy) {
        (uint256 x, uint256 y) = vm.publicKeyP256(deviceKey);
        return (bytes32(x), bytes32(y));
    }

    // ------------------------------------------------------------ WebAuthn

    function authenticatorData(bytes1 flags) internal pure returns (bytes memory) {
        // rpIdHash ‖ flags ‖ signCount
        return abi.encodePacked(sha256("localhost"), flags, uint32(7));
    }

    function base64Url(bytes32 challenge) internal pure returns (string memory) {
        return Base64.encodeURL(abi.encodePacked(challenge));
    }

    function clientData(bytes32 challenge) internal pure returns (string memory) {
        return string.concat("{\"type\":\"webauthn.get\",\"challenge\":\"", Base64.encodeURL(abi.encodePacked(challenge)), SUFFIX);
    }

    /// @dev A WebAuthn assertion by `deviceKey` over `challenge`, encoded for PasskeyAccount.
    function assertion(uint256 deviceKey, bytes32 challenge, bytes1 flags) internal pure returns (bytes memory) {
        (bytes32 qx, bytes32 qy) = pubKey(deviceKey);
        return assertionAs(deviceKey, qx, qy, challenge, flags);
    }

    /// @dev Same, but claiming the public key `(qx, qy)` (which may not be `deviceKey`'s).
    function assertionAs(uint256 deviceKey, bytes32 qx, bytes32 qy, bytes32 challenge, bytes1 flags)
        internal
        pure
        returns (bytes memory)
    {
        return assertionWith(deviceKey, qx, qy, authenticatorData(flags), clientData(challenge), bytes(SUFFIX), false);
    }

    /**
     * @dev The general form: signs `authData ‖ sha256(json)` with `deviceKey`, and encodes `(qx, qy)`,
     * `authData` and `suffix` in the compact format (`highS`: keep / force the high-s form).
     */
    function assertionWith(
        uint256 deviceKey,
        bytes32 qx,
        bytes32 qy,
        bytes memory authData,
        string memory json,
        bytes memory suffix,
        bool highS
    ) internal pure returns (bytes memory) {
        bytes32 message = sha256(abi.encodePacked(authData, sha256(bytes(json))));
        (bytes32 r, bytes32 s) = vm.signP256(deviceKey, message);
        bool isHigh = uint256(s) > P256_N / 2;
        if (isHigh != highS) s = bytes32(P256_N - uint256(s)); // WebAuthn clients must send low s
        return abi.encodePacked(qx, qy, r, s, uint16(authData.length), authData, suffix);
    }

    // ------------------------------------------------------------ EIP-712 (computed without the account)

    function accountDigest(address acct, bytes32 structHash) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Oriole PasskeyAccount"),
                keccak256("1"),
                block.chainid,
                acct
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function intentFor(address to, uint256 amount, bytes32 ref, uint256 nonce, uint256 maxFee)
        internal
        view
        returns (PasskeyAccount.PaymentIntent memory)
    {
        return PasskeyAccount.PaymentIntent({
            token: address(token),
            to: to,
            amount: amount,
            ref: ref,
            nonce: nonce,
            deadline: block.timestamp + 10 minutes,
            maxRelayerFee: maxFee
        });
    }

    function intentDigest(address acct, PasskeyAccount.PaymentIntent memory i) internal view returns (bytes32) {
        return accountDigest(
            acct,
            keccak256(
                abi.encode(INTENT_TYPEHASH, i.token, i.to, i.amount, i.ref, i.nonce, i.deadline, i.maxRelayerFee)
            )
        );
    }

    function signIntent(uint256 deviceKey, address acct, PasskeyAccount.PaymentIntent memory i)
        internal
        view
        returns (bytes memory)
    {
        return assertion(deviceKey, intentDigest(acct, i), FLAGS_UP_UV);
    }

    function accountCallDigest(address acct, bytes memory data, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return accountDigest(acct, keccak256(abi.encode(ACCOUNT_CALL_TYPEHASH_, keccak256(data), nonce, deadline)));
    }

    function recoveryDigest(address acct, bytes32 qx, bytes32 qy, uint256 recoveryNonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return accountDigest(acct, keccak256(abi.encode(RECOVERY_TYPEHASH_, qx, qy, recoveryNonce, deadline)));
    }

    /// @dev Runs `data` on `acct` through executeWithSig, signed by `deviceKey`.
    function callWithSig(PasskeyAccount acct, uint256 deviceKey, bytes memory data, uint256 nonce) internal {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(deviceKey, accountCallDigest(address(acct), data, nonce, deadline), FLAGS_UP_UV);
        acct.executeWithSig(data, nonce, deadline, sig);
    }

    /// @dev Same, expecting the revert `err` (signed first: signing calls the sha256 precompile).
    function callWithSigReverts(PasskeyAccount acct, uint256 deviceKey, bytes memory data, uint256 nonce, bytes memory err)
        internal
    {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(deviceKey, accountCallDigest(address(acct), data, nonce, deadline), FLAGS_UP_UV);
        vm.expectRevert(err);
        acct.executeWithSig(data, nonce, deadline, sig);
    }

    function messageDigest(address acct, bytes32 hash) internal view returns (bytes32) {
        return accountDigest(acct, keccak256(abi.encode(MESSAGE_TYPEHASH, hash)));
    }
}

/// @dev One funded passkey account (the phone as its device) with the usual helpers.
abstract contract PasskeyFixture is PasskeyTestBase {
    PasskeyAccount internal account;
    bytes32 internal phoneQx;
    bytes32 internal phoneQy;
    bytes32 internal laptopQx;
    bytes32 internal laptopQy;
    bytes32 internal constant REF = keccak256("invoice-42");
    bytes4 internal constant MAGIC = 0x1626ba7e;

    function setUp() public virtual override {
        super.setUp();
        account = newAccount(phoneKey);
        vm.label(address(account), "passkeyAccount");
        (phoneQx, phoneQy) = pubKey(phoneKey);
        (laptopQx, laptopQy) = pubKey(laptopKey);
        mintTo(address(account), FUNDS);
    }

    /// @dev The relayer submits `i`, its fee going to `collector`.
    function relay(PasskeyAccount.PaymentIntent memory i, uint256 fee, bytes memory sig) internal {
        vm.prank(relayer);
        account.executePayment(i, fee, collector, sig);
    }

    /// @dev Signs `i` with the phone and relays it with fee 0.
    function pay(PasskeyAccount.PaymentIntent memory i) internal {
        relay(i, 0, signIntent(phoneKey, address(account), i));
    }

    function addLaptop() internal {
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy)), 900);
    }

    /// @dev The next call must revert because the phone's assertion does not sign `digest`.
    function expectInvalidPhoneSignature(bytes32 digest) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountInvalidSignature.selector, account.keyIdOf(phoneQx, phoneQy), digest
            )
        );
    }

    function expectNotSelf(address caller) internal {
        vm.expectRevert(abi.encodeWithSelector(OZAccount.AccountUnauthorized.selector, caller));
    }
}
