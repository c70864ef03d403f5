// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @title TransferSpray
 * @notice Test and bench helper: pulls `amount` from the caller and spreads
 * it as many small transfers in one transaction, so that tens of thousands of
 * real Transfer events can be produced quickly. Not part of the protocol.
 */
contract TransferSpray {
    /// @notice Sends `amountEach` of `token` from the caller to each of `recipients`.
    /// @dev The caller must have approved this contract for the total.
    function spray(IERC20 token, address[] calldata recipients, uint256 amountEach) external {
        for (uint256 i = 0; i < recipients.length; ++i) {
            // Safe here: the token is ours and reverts on failure.
            // slither-disable-next-line unchecked-transfer
            token.transferFrom(msg.sender, recipients[i], amountEach);
        }
    }
}
