// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

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
    /// @dev n/2 for the P-256 group order n: the largest low s.
    uint256 private constant HALF_N = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8;

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
        // Hand-written: the bounds are checked once here, instead of on every slice.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            authenticatorData.offset := sig.offset
            authenticatorData.length := 0
            suffix.offset := sig.offset
            suffix.length := 0
            if iszero(lt(sig.length, MIN_SIGNATURE_LENGTH)) {
                let adLength := shr(240, calldataload(add(sig.offset, 128)))
                let adEnd := add(HEADER_LENGTH, adLength)
                // the suffix holds at least the closing quote (0x22)
                wellFormed := and(
                    and(iszero(lt(adLength, MIN_AUTHENTICATOR_DATA_LENGTH)), lt(adEnd, sig.length)),
                    eq(byte(0, calldataload(add(sig.offset, adEnd))), 0x22)
                )
                if wellFormed {
                    authenticatorData.offset := add(sig.offset, HEADER_LENGTH)
                    authenticatorData.length := adLength
                    suffix.offset := add(sig.offset, adEnd)
                    suffix.length := sub(sig.length, adEnd)
                }
            }
        }
    }

    /// @notice Whether the authenticatorData's flags have both UP and UV set (`authenticatorData.length >= 33`).
    function userVerified(bytes calldata authenticatorData) internal pure returns (bool) {
        return flags(authenticatorData) & FLAGS_UP_UV == FLAGS_UP_UV;
    }

    /// @notice The authenticatorData's flags byte (`authenticatorData.length >= 33`).
    function flags(bytes calldata authenticatorData) internal pure returns (uint8 f) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            f := byte(0, calldataload(add(authenticatorData.offset, 32)))
        }
    }

    /// @notice The device public key a compact signature claims (`sig.length >= 64`).
    function publicKey(bytes calldata sig) internal pure returns (bytes32 qx, bytes32 qy) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            qx := calldataload(sig.offset)
            qy := calldataload(add(sig.offset, 32))
        }
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
        bytes32 message = _message(challenge, authenticatorData, suffix);
        bytes32 r;
        bytes32 s;
        bytes32 qx;
        bytes32 qy;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            qx := calldataload(sig.offset)
            qy := calldataload(add(sig.offset, 32))
            r := calldataload(add(sig.offset, 64))
            s := calldataload(add(sig.offset, 96))
        }
        // Malleability: like OpenZeppelin's P256, only the low-s form is accepted.
        if (uint256(s) > HALF_N) return false;
        // Fast path: the EIP-7951 precompile answers 1 for a valid signature (it checks r, s
        // and the public key itself). Anything else (invalid, or no precompile on this chain)
        // goes to OpenZeppelin's P256.verify, which tells the two apart and falls back to Solidity.
        bool valid;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, message)
            mstore(add(m, 0x20), r)
            mstore(add(m, 0x40), s)
            mstore(add(m, 0x60), qx)
            mstore(add(m, 0x80), qy)
            mstore(0x00, 0)
            let ok := staticcall(gas(), 0x100, m, 0xa0, 0x00, 0x20)
            valid := and(ok, eq(mload(0x00), 1))
        }
        return valid || P256.verify(message, r, s, qx, qy);
    }

    /**
     * @dev `sha256(authenticatorData ‖ sha256(prefix ‖ base64url(challenge) ‖ suffix))`, built in
     * scratch memory past the free memory pointer (never allocated).
     */
    function _message(bytes32 challenge, bytes calldata authenticatorData, bytes calldata suffix)
        private
        view
        returns (bytes32 message)
    {
        // 43 characters: 32 for the top 192 bits, then 11 for the low 64 bits and 2 zero bits
        uint256 first = _base64Url32(uint256(challenge) >> 64);
        uint256 rest = _base64Url32((uint256(challenge) & type(uint64).max) << 128);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            let adLength := authenticatorData.length
            // clientDataJSON goes past room for authenticatorData ‖ sha256(clientDataJSON)
            let json := add(m, add(adLength, 0x20))
            // '{"type":"webauthn.get","challenge":"' (36 bytes)
            mstore(json, 0x7b2274797065223a22776562617574686e2e676574222c226368616c6c656e67)
            mstore(add(json, 0x20), 0x65223a2200000000000000000000000000000000000000000000000000000000)
            let out := add(json, 36)
            mstore(out, first)
            mstore(add(out, 0x20), rest)
            calldatacopy(add(out, 43), suffix.offset, suffix.length)
            // sha256 (precompile 2) cannot fail given enough gas; a failure leaves a wrong hash
            // that no signature matches.
            pop(staticcall(gas(), 2, json, add(79, suffix.length), add(m, adLength), 0x20))
            calldatacopy(m, authenticatorData.offset, adLength)
            pop(staticcall(gas(), 2, m, add(adLength, 0x20), 0x00, 0x20))
            message := mload(0x00)
        }
    }

    /**
     * @dev base64url of the 192-bit `x` (bits 191..0): 32 ASCII bytes, first character on top.
     * All 32 characters at once (SWAR), ~1,400 gas less per challenge than a table lookup per character.
     */
    function _base64Url32(uint256 x) private pure returns (uint256 w) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // spread the 32 six-bit groups into the 32 bytes of the word, first group on top:
            // 2 x 96 bits into 128-bit lanes, 48 into 64, 24 into 32, then 6 into each byte
            x := or(shl(32, and(x, 0xffffffffffffffffffffffff000000000000000000000000)), and(x, 0xffffffffffffffffffffffff))
            x := or(
                shl(16, and(x, 0xffffffffffff00000000000000000000ffffffffffff000000000000)),
                and(x, 0xffffffffffff00000000000000000000ffffffffffff)
            )
            x := or(
                shl(8, and(x, 0xffffff0000000000ffffff0000000000ffffff0000000000ffffff000000)),
                and(x, 0xffffff0000000000ffffff0000000000ffffff0000000000ffffff)
            )
            x := or(
                or(
                    shl(6, and(x, 0xfc000000fc000000fc000000fc000000fc000000fc000000fc000000fc0000)),
                    shl(4, and(x, 0x3f0000003f0000003f0000003f0000003f0000003f0000003f0000003f000))
                ),
                or(
                    shl(2, and(x, 0xfc000000fc000000fc000000fc000000fc000000fc000000fc000000fc0)),
                    and(x, 0x3f0000003f0000003f0000003f0000003f0000003f0000003f0000003f)
                )
            )
            // each byte v (0..63) becomes 'A'+v, then +6 if v >= 26 ('a'), -75 if v >= 52 ('0'),
            // -13 if v >= 62 ('-'), +49 if v >= 63 ('_'). "v >= k" is bit 7 of v + 128 - k; no
            // byte carries or borrows (every partial sum stays in 0..255).
            let high := 0x8080808080808080808080808080808080808080808080808080808080808080
            let a := 0x4141414141414141414141414141414141414141414141414141414141414141
            w := sub(
                add(
                    add(x, a),
                    add(
                        mul(6, shr(7, and(add(x, 0x6666666666666666666666666666666666666666666666666666666666666666), high))),
                        mul(49, shr(7, and(add(x, a), high)))
                    )
                ),
                add(
                    mul(75, shr(7, and(add(x, 0x4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c), high))),
                    mul(13, shr(7, and(add(x, 0x4242424242424242424242424242424242424242424242424242424242424242), high)))
                )
            )
        }
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
