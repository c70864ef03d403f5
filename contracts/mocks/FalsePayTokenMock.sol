// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FalsePayTokenMock
 * @notice A token whose `pay` and `payWithTip` report failure by returning false instead of
 * reverting, to test that callers check the result. Not part of the protocol.
 */
contract FalsePayTokenMock is ERC20 {
    constructor() ERC20("False Pay", "FALSE") {}

    /// @notice Always returns false and moves nothing.
    function pay(address, uint256, bytes32) external pure returns (bool) {
        return false;
    }

    /// @notice Always returns false and moves nothing.
    function payWithTip(address, uint256, bytes32, address, uint256) external pure returns (bool) {
        return false;
    }
}
