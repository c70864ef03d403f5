// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title ERC1271WalletMock
 * @notice Test helper: a contract wallet that accepts (ERC-1271) signatures
 * made by its owner's key while `accepting` is true, and rejects every
 * signature otherwise. Not part of the protocol.
 */
contract ERC1271WalletMock is IERC1271 {
    // solhint-disable-next-line immutable-vars-naming
    address public immutable owner;
    bool public accepting = true;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Makes the wallet accept (its owner's) or reject (all) signatures.
    function setAccepting(bool accepting_) external {
        accepting = accepting_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (!accepting) return 0xffffffff;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
