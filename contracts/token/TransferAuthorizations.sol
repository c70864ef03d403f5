// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {Permit} from "./Permit.sol";

/**
 * @title TransferAuthorizations
 * @notice ERC-3009: transfers authorized by the payer's EIP-712 signature and
 * submitted by anyone (`transferWithAuthorization`) or by the payee only
 * (`receiveWithAuthorization`, safe against front-running when called from a
 * contract), and `cancelAuthorization`. Nonces are random bytes32 values;
 * each authorization is valid strictly after `validAfter` and strictly before
 * `validBefore`. Every function comes in the (v, r, s) form of the EIP and in
 * a `bytes signature` form for ERC-1271 contract wallets.
 *
 * @dev ERC-7201 namespace `oriole.storage.Authorizations`. The type strings
 * are exactly those of EIP-3009.
 */
abstract contract TransferAuthorizations is Permit {
    /// @custom:storage-location erc7201:oriole.storage.Authorizations
    struct AuthorizationsStorage {
        mapping(address authorizer => mapping(bytes32 nonce => bool)) used;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.Authorizations")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant AUTHORIZATIONS_STORAGE =
        0xe846569c0dfeae75a14f942880f0818fbf15a438f28c73c649ed0be6138fd200;

    /// @notice keccak256 of the EIP-3009 TransferWithAuthorization type.
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @notice keccak256 of the EIP-3009 ReceiveWithAuthorization type.
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @notice keccak256 of the EIP-3009 CancelAuthorization type.
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    /// @notice The authorization `nonce` of `authorizer` was used.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    /// @notice The authorization `nonce` of `authorizer` was canceled.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice The authorization is valid only after `validAfter`; it is now `timestamp`.
    error StableTokenAuthorizationNotYetValid(uint256 validAfter, uint256 timestamp);
    /// @notice The authorization was valid only before `validBefore`; it is now `timestamp`.
    error StableTokenAuthorizationExpired(uint256 validBefore, uint256 timestamp);
    /// @notice `authorizer`'s authorization `nonce` was already used or canceled.
    error StableTokenAuthorizationUsed(address authorizer, bytes32 nonce);
    /// @notice Only the payee `payee` may submit a receiveWithAuthorization; `caller` is not it.
    error StableTokenCallerNotPayee(address caller, address payee);

    function _authorizations() private pure returns (AuthorizationsStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := AUTHORIZATIONS_STORAGE
        }
    }

    /// @notice Whether `authorizer`'s authorization `nonce` was used or canceled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizations().used[authorizer][nonce];
    }

    /**
     * @notice Moves `value` from `from` to `to` on `from`'s signed
     * TransferWithAuthorization. Anyone may submit it.
     * @dev Emits {AuthorizationUsed} and {Transfer}.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        bytes32 digest =
            _useAuthorization(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce);
        _requireValidSignature(from, digest, v, r, s);
        _transfer(from, to, value);
    }

    /// @notice {transferWithAuthorization} with the signature as bytes (ECDSA or ERC-1271).
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        bytes32 digest =
            _useAuthorization(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce);
        _requireValidSignature(from, digest, signature);
        _transfer(from, to, value);
    }

    /**
     * @notice Like {transferWithAuthorization} for a ReceiveWithAuthorization,
     * which only the payee `to` may submit.
     * @dev Emits {AuthorizationUsed} and {Transfer}.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (msg.sender != to) revert StableTokenCallerNotPayee(msg.sender, to);
        bytes32 digest =
            _useAuthorization(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce);
        _requireValidSignature(from, digest, v, r, s);
        _transfer(from, to, value);
    }

    /// @notice {receiveWithAuthorization} with the signature as bytes (ECDSA or ERC-1271).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (msg.sender != to) revert StableTokenCallerNotPayee(msg.sender, to);
        bytes32 digest =
            _useAuthorization(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce);
        _requireValidSignature(from, digest, signature);
        _transfer(from, to, value);
    }

    /**
     * @notice Cancels `authorizer`'s unused authorization `nonce`, on
     * `authorizer`'s signed CancelAuthorization. Anyone may submit it.
     * @dev Refused while paused. Emits {AuthorizationCanceled}.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _requireValidSignature(authorizer, _cancelAuthorization(authorizer, nonce), v, r, s);
    }

    /// @notice {cancelAuthorization} with the signature as bytes (ECDSA or ERC-1271).
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        _requireValidSignature(authorizer, _cancelAuthorization(authorizer, nonce), signature);
    }

    /// @dev Checks the validity window, marks the nonce used and returns the digest to verify.
    function _useAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) private returns (bytes32) {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp <= validAfter) revert StableTokenAuthorizationNotYetValid(validAfter, block.timestamp);
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp >= validBefore) revert StableTokenAuthorizationExpired(validBefore, block.timestamp);
        _markUsed(from, nonce);
        emit AuthorizationUsed(from, nonce);
        return _hashTypedData(keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce) private returns (bytes32) {
        _requireNotPaused();
        _markUsed(authorizer, nonce);
        emit AuthorizationCanceled(authorizer, nonce);
        return _hashTypedData(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
    }

    function _markUsed(address authorizer, bytes32 nonce) private {
        mapping(bytes32 => bool) storage used = _authorizations().used[authorizer];
        if (used[nonce]) revert StableTokenAuthorizationUsed(authorizer, nonce);
        used[nonce] = true;
    }
}
