// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StableToken} from "../token/StableToken.sol";

/**
 * @title StableTokenV2Mock
 * @notice Test helper: a next version of StableToken, to test UUPS upgrades.
 * It keeps every namespace of V1 and adds one of its own. Not part of the protocol.
 */
contract StableTokenV2Mock is StableToken {
    /// @custom:storage-location erc7201:oriole.storage.V2Mock
    struct V2Storage {
        uint256 answer;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.V2Mock")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant V2_STORAGE = keccak256(abi.encode(uint256(keccak256("oriole.storage.V2Mock")) - 1))
        & ~bytes32(uint256(0xff));

    function _v2() private pure returns (V2Storage storage $) {
        bytes32 slot = V2_STORAGE;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := slot
        }
    }

    /// @notice Runs once, after the upgrade to V2.
    function initializeV2(uint256 answer_) external reinitializer(2) {
        _v2().answer = answer_;
    }

    /// @notice The implementation version.
    function version() external pure returns (string memory) {
        return "2";
    }

    /// @notice A value only V2 stores.
    function answer() external view returns (uint256) {
        return _v2().answer;
    }
}
