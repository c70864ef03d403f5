// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title OZBaselineToken
 * @notice A plain OpenZeppelin ERC20, deployed by the bench in the same run as
 * StableToken so that gas numbers are compared against a baseline measured
 * under identical conditions. Not part of the protocol.
 */
contract OZBaselineToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("OZ Baseline", "OZB") {
        _mint(holder, supply);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
