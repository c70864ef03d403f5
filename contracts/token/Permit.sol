// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {TypedSignatures} from "./TypedSignatures.sol";
import {AccountWord} from "./AccountWord.sol";

/**
 * @title Permit
 * @notice EIP-2612 `permit`: an approval signed off-chain, with sequential
 * nonces, in the (v, r, s) form of the EIP and in a `bytes signature` form for
 * contract wallets (ERC-1271) whose signatures do not fit 65 bytes.
 *
 * @dev The nonce lives in the owner's {AccountWord}. Refused while paused and
 * when the owner or the spender is frozen.
 */
abstract contract Permit is TypedSignatures {
    using AccountWord for uint256;

    /// @notice keccak256 of the EIP-2612 Permit type.
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @notice The permit's `deadline` has passed.
    error ERC2612ExpiredSignature(uint256 deadline);

    /// @notice The next permit nonce of `owner`.
    function nonces(address owner) external view returns (uint256) {
        return _accountWord(owner).nonce();
    }

    /**
     * @notice Sets `spender`'s allowance over `owner`'s tokens to `value`, on
     * `owner`'s EIP-712 signature of Permit(owner, spender, value, nonce, deadline).
     * @dev Emits {Approval}.
     */
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        _requireValidSignature(owner, _usePermitNonce(owner, spender, value, deadline), v, r, s);
        _approve(owner, spender, value);
    }

    /**
     * @notice {permit} with the signature as bytes (65-byte ECDSA, or any
     * signature the owner contract accepts through ERC-1271).
     */
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external
    {
        _requireValidSignature(owner, _usePermitNonce(owner, spender, value, deadline), signature);
        _approve(owner, spender, value);
    }

    /// @dev Checks everything but the signature, consumes the nonce and returns the digest to sign.
    function _usePermitNonce(address owner, address spender, uint256 value, uint256 deadline)
        internal
        returns (bytes32 digest)
    {
        _requireNotPaused();
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        uint256 word = _accountWord(owner);
        if (word.isFrozen()) revert StableTokenAccountFrozen(owner);
        _requireNotFrozen(spender);
        digest = _hashTypedData(keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, word.nonce(), deadline)));
        unchecked {
            // 2^64 permits by one owner cannot happen.
            _setAccountWord(owner, word + AccountWord.NONCE_ONE);
        }
    }
}
