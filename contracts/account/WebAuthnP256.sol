// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/**
 * @title WebAuthnP256
 * @notice Oriole's compact encoding of a WebAuthn assertion by a P-256 device, and its check.
 *
 * Signature layout (bytes):
 * `qx (32) ‖ qy (32) ‖ r (32) ‖ s (32, s <= n/2) ‖ uint16 BE len(authenticatorData) (2)
 *  ‖ authenticatorData ‖ clientDataJSONSuffix`.
 *
 * The authenticator signed `sha256(authenticatorData ‖ sha256(clientDataJSON))` with
 * `clientDataJSON = '{"type":"webauthn.get","challenge":"' ‖ base64url(challenge) ‖ suffix`.
 * WebAuthn L3 fixes the order of `type` and `challenge`, so every browser's clientDataJSON
 * starts with that prefix; rebuilding it from the expected challenge proves both the type
 * and the challenge without parsing JSON. The suffix must start with the closing quote,
 * so the 43 base64url characters cannot be followed by more challenge characters.
 *
 * @dev The P-256 check is OpenZeppelin's `P256.verify`: the EIP-7951 precompile where the
 * chain has one, OpenZeppelin's Solidity implementation where it does not. It refuses
 * high-s signatures (`s > n/2`) and invalid public keys.
 */
library WebAuthnP256 {
    /// @notice The fixed start of every WebAuthn assertion's clientDataJSON, up to the challenge.
    bytes internal constant CLIENT_DATA_PREFIX = "{\"type\":\"webauthn.get\",\"challenge\":\"";
    /// @notice qx, qy, r, s and the authenticatorData length.
    uint256 internal constant HEADER_LENGTH = 130;
    /// @notice rpIdHash (32) ‖ flags (1) ‖ signCount (4).
    uint256 internal constant MIN_AUTHENTICATOR_DATA_LENGTH = 37;
    /// @notice Header, the shortest authenticatorData and a one-byte suffix.
    uint256 internal constant MIN_SIGNATURE_LENGTH = 168;
    /// @notice authenticatorData flags: user present (UP) and user verified (UV).
    uint8 internal constant FLAGS_UP_UV = 0x05;

    /**
     * @notice Splits a compact signature; `wellFormed` is false when the lengths do not add
     * up or the suffix does not start with `"`.
     * @param sig the compact signature
     * @return wellFormed whether the layout is valid
     * @return authenticatorData the authenticatorData (empty when not well formed)
     * @return suffix the clientDataJSON after the challenge (empty when not well formed)
     */
    function parse(bytes calldata sig)
        internal
        pure
        returns (bool wellFormed, bytes calldata authenticatorData, bytes calldata suffix)
    {
        authenticatorData = sig[0:0];
        suffix = sig[0:0];
        if (sig.length < MIN_SIGNATURE_LENGTH) return (false, authenticatorData, suffix);
        uint256 adEnd = HEADER_LENGTH + uint16(bytes2(sig[128:130]));
        // the suffix holds at least the closing quote
        if (adEnd < HEADER_LENGTH + MIN_AUTHENTICATOR_DATA_LENGTH || adEnd >= sig.length) {
            return (false, authenticatorData, suffix);
        }
        if (sig[adEnd] != "\"") return (false, authenticatorData, suffix);
        return (true, sig[HEADER_LENGTH:adEnd], sig[adEnd:]);
    }

    /// @notice Whether the authenticatorData's flags have both UP and UV set (`authenticatorData.length >= 33`).
    function userVerified(bytes calldata authenticatorData) internal pure returns (bool) {
        return uint8(authenticatorData[32]) & FLAGS_UP_UV == FLAGS_UP_UV;
    }

    /// @notice The device public key a compact signature claims (`sig.length >= 64`).
    function publicKey(bytes calldata sig) internal pure returns (bytes32 qx, bytes32 qy) {
        return (bytes32(sig[0:32]), bytes32(sig[32:64]));
    }

    /**
     * @notice Whether `sig`'s P-256 signature (r, s at bytes 64..128) by its public key is over
     * the assertion of `challenge` made of `authenticatorData` and `suffix` (as returned by {parse}).
     * Does not check the flags.
     */
    function verifyAssertion(
        bytes32 challenge,
        bytes calldata sig,
        bytes calldata authenticatorData,
        bytes calldata suffix
    ) internal view returns (bool) {
        bytes memory clientDataJSON =
            bytes.concat(CLIENT_DATA_PREFIX, bytes(Base64.encodeURL(abi.encodePacked(challenge))), suffix);
        bytes32 message = sha256(bytes.concat(authenticatorData, sha256(clientDataJSON)));
        return P256.verify(message, bytes32(sig[64:96]), bytes32(sig[96:128]), bytes32(sig[0:32]), bytes32(sig[32:64]));
    }

    /**
     * @notice Whether `sig` is a well-formed, user-verified (UP and UV) assertion over
     * `challenge` by the public key it carries. Never reverts.
     */
    function verify(bytes32 challenge, bytes calldata sig) internal view returns (bool) {
        (bool wellFormed, bytes calldata authenticatorData, bytes calldata suffix) = parse(sig);
        return wellFormed && userVerified(authenticatorData)
            && verifyAssertion(challenge, sig, authenticatorData, suffix);
    }
}
