// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";

/// @dev Passkey accounts on top of the StableToken setup: P-256 device keys (vm.signP256) and
/// hand-built WebAuthn assertions (authenticatorData, clientDataJSON), as a browser would make them.
abstract contract PasskeyTestBase is StableTokenTestBase {
    // P-256 group order
    uint256 internal constant P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;

    bytes1 internal constant FLAG_UP = 0x01;
    bytes1 internal constant FLAG_UV = 0x04;
    bytes1 internal constant FLAGS_UP_UV = 0x05;

    // offsets of "type" and "challenge" in the clientDataJSON built by {clientData}
    uint256 internal constant TYPE_INDEX = 1;
    uint256 internal constant CHALLENGE_INDEX = 23;

    bytes32 internal constant INTENT_TYPEHASH = keccak256(
        "PaymentIntent(address token,address to,uint256 amount,bytes32 reference,uint256 nonce,uint256 deadline,uint256 maxRelayerFee)"
    );
    bytes32 internal constant ADD_DEVICE_TYPEHASH_ =
        keccak256("AddDevice(bytes32 qx,bytes32 qy,uint256 nonce,uint256 deadline)");
    bytes32 internal constant REMOVE_DEVICE_TYPEHASH_ =
        keccak256("RemoveDevice(bytes32 qx,bytes32 qy,uint256 nonce,uint256 deadline)");
    bytes32 internal constant MESSAGE_TYPEHASH = keccak256("OrioleMessage(bytes32 hash)");

    PasskeyAccount internal accountImpl;
    uint256 internal phoneKey = uint256(keccak256("oriole.test.phone")) % P256_N;
    uint256 internal laptopKey = uint256(keccak256("oriole.test.laptop")) % P256_N;
    uint256 internal strangerKey = uint256(keccak256("oriole.test.stranger")) % P256_N;

    function setUp() public virtual override {
        super.setUp();
        accountImpl = new PasskeyAccount();
    }

    function newAccount(uint256 deviceKey) internal returns (PasskeyAccount acct) {
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

    function clientData(bytes32 challenge) internal pure returns (string memory) {
        return string.concat(
            "{\"type\":\"webauthn.get\",\"challenge\":\"",
            Base64.encodeURL(abi.encodePacked(challenge)),
            "\",\"origin\":\"http://localhost:8545\",\"crossOrigin\":false}"
        );
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
        bytes memory authData = authenticatorData(flags);
        string memory json = clientData(challenge);
        bytes32 message = sha256(abi.encodePacked(authData, sha256(bytes(json))));
        (bytes32 r, bytes32 s) = vm.signP256(deviceKey, message);
        if (uint256(s) > P256_N / 2) s = bytes32(P256_N - uint256(s)); // WebAuthn clients must send low s
        return abi.encodePacked(qx, qy, abi.encode(r, s, CHALLENGE_INDEX, TYPE_INDEX, authData, json));
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

    function addDeviceDigest(address acct, bytes32 qx, bytes32 qy, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return accountDigest(acct, keccak256(abi.encode(ADD_DEVICE_TYPEHASH_, qx, qy, nonce, deadline)));
    }

    function removeDeviceDigest(address acct, bytes32 qx, bytes32 qy, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return accountDigest(acct, keccak256(abi.encode(REMOVE_DEVICE_TYPEHASH_, qx, qy, nonce, deadline)));
    }

    function messageDigest(address acct, bytes32 hash) internal view returns (bytes32) {
        return accountDigest(acct, keccak256(abi.encode(MESSAGE_TYPEHASH, hash)));
    }
}
