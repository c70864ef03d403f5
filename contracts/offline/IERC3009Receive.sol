// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IERC3009Receive
 * @notice ERC-3009 `receiveWithAuthorization` in its `bytes signature` form
 * (ECDSA or ERC-1271), as StableToken and USDC v2.2 implement it.
 */
interface IERC3009Receive {
    /// @notice Moves `value` from `from` to `to` (who must be the caller) on `from`'s signed ReceiveWithAuthorization.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;
}
