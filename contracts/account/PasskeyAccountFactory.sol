// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {PasskeyAccount} from "./PasskeyAccount.sol";

/**
 * @title PasskeyAccountFactory
 * @notice Deploys PasskeyAccounts as ERC-1167 clones at CREATE2 addresses fixed by the
 * first device's public key and a salt, so a wallet knows (and can receive funds at)
 * its address before it exists; its first payment deploys it.
 * @dev The clone salt is `keccak256(abi.encode(qx, qy, salt))`: the address commits to
 * the first device, so nobody can deploy a different account there.
 */
contract PasskeyAccountFactory {
    PasskeyAccount private immutable IMPLEMENTATION;

    /// @notice `account` was deployed for the first device `(qx, qy)` and `salt`.
    event AccountCreated(address indexed account, bytes32 qx, bytes32 qy, uint256 salt);

    /// @param implementation_ the PasskeyAccount every account clones
    constructor(PasskeyAccount implementation_) {
        IMPLEMENTATION = implementation_;
    }

    /// @notice The PasskeyAccount implementation every account clones.
    function implementation() external view returns (address) {
        return address(IMPLEMENTATION);
    }

    /**
     * @notice The address of the account with first device `(qx, qy)` and `salt`, deployed or not.
     * @param qx x coordinate of the first device's P-256 public key
     * @param qy y coordinate of the first device's P-256 public key
     * @param salt distinguishes several accounts of one device
     * @return the account's address
     */
    function accountAddress(bytes32 qx, bytes32 qy, uint256 salt) public view returns (address) {
        return Clones.predictDeterministicAddress(address(IMPLEMENTATION), _cloneSalt(qx, qy, salt));
    }

    /**
     * @notice Deploys and initializes the account with first device `(qx, qy)` and `salt`;
     * returns its address. Idempotent: an existing account is returned as is.
     * @param qx x coordinate of the first device's P-256 public key
     * @param qy y coordinate of the first device's P-256 public key
     * @param salt distinguishes several accounts of one device
     * @return account the account's address
     */
    function createAccount(bytes32 qx, bytes32 qy, uint256 salt) external returns (address account) {
        account = accountAddress(qx, qy, salt);
        if (account.code.length != 0) return account;
        Clones.cloneDeterministic(address(IMPLEMENTATION), _cloneSalt(qx, qy, salt));
        emit AccountCreated(account, qx, qy, salt);
        PasskeyAccount(payable(account)).initialize(qx, qy);
    }

    function _cloneSalt(bytes32 qx, bytes32 qy, uint256 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(qx, qy, salt));
    }
}
