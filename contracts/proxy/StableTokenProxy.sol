// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/**
 * @title StableTokenProxy
 * @notice The proxy in front of each StableToken: OpenZeppelin's ERC1967Proxy,
 * unchanged, under a name that says what it fronts. Upgrades are UUPS: the
 * logic to upgrade lives in the implementation (StableToken, admin only).
 */
contract StableTokenProxy is ERC1967Proxy {
    /// @param implementation The StableToken implementation.
    /// @param data The `initialize` call, run in the proxy's context.
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}
