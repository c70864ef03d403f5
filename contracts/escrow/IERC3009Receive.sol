// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IERC3009Receive
 * @notice The ERC-3009 `receiveWithAuthorization` of Oriole's StableToken, in the
 * `bytes signature` form that also takes ERC-1271 signatures (passkey accounts).
 */
interface IERC3009Receive {
    /**
     * @notice Moves `value` from `from` to `to` on `from`'s signed ReceiveWithAuthorization;
     * only `to` may submit it.
     */
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
