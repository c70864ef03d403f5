// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {PackedERC20} from "./PackedERC20.sol";

/**
 * @title TypedSignatures
 * @notice The EIP-712 domain of a StableToken (name = the token's name,
 * version "1", the chain id and the token's own address; ERC-5267
 * `eip712Domain()` publishes it) and the one signature check every signed
 * path uses.
 *
 * A signature is accepted when it is a valid 65-byte ECDSA signature by the
 * signer with a low `s` (OpenZeppelin ECDSA), or, for a signer with code, when
 * the signer's ERC-1271 `isValidSignature` returns the magic value.
 * ECDSA recovery is tried first so that EOA signers cost no EXTCODESIZE of a
 * cold account; a contract's address has no private key, so recovery can
 * never succeed for it by accident.
 *
 * @dev ERC-7201 namespace `oriole.storage.EIP712`: the hash of the domain name.
 */
abstract contract TypedSignatures is PackedERC20, IERC5267 {
    /// @custom:storage-location erc7201:oriole.storage.EIP712
    struct EIP712Storage {
        bytes32 hashedName;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.EIP712")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant EIP712_STORAGE = 0xb1abaa1fb4d433351da17764a103b4f0c12fc0d51715b96fddb210c385135e00;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @notice The EIP-712 domain version.
    string public constant EIP712_VERSION = "1";
    bytes32 private constant HASHED_VERSION = keccak256(bytes(EIP712_VERSION));

    /// @notice The ECDSA signature recovers to `recovered`, not to `signer`.
    error StableTokenInvalidSigner(address recovered, address signer);
    /// @notice The contract `signer` did not accept the signature (ERC-1271).
    error StableTokenInvalidContractSignature(address signer);

    function _eip712() private pure returns (EIP712Storage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := EIP712_STORAGE
        }
    }

    function _setDomainName(string memory name_) internal {
        _eip712().hashedName = keccak256(bytes(name_));
        emit EIP712DomainChanged();
    }

    /// @notice The EIP-712 domain separator for the current chain.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _erc20().name, EIP712_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    function _domainSeparator() internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, _eip712().hashedName, HASHED_VERSION, block.chainid, address(this)));
    }

    /// @dev The EIP-712 digest of `structHash` in this token's domain.
    function _hashTypedData(bytes32 structHash) internal view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(_domainSeparator(), structHash);
    }

    /// @dev Whether `signature` is `signer`'s signature of `digest` (ECDSA or ERC-1271). Never reverts.
    function _isValidSignature(address signer, bytes32 digest, bytes memory signature) internal view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }

    /// @dev Calldata form of {_isValidSignature}: no copy to memory.
    function _isValidSignatureCalldata(address signer, bytes32 digest, bytes calldata signature)
        internal
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return signer.code.length != 0
            && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    /// @dev Reverts unless `signature` is `signer`'s signature of `digest`, saying why.
    function _requireValidSignature(address signer, bytes32 digest, bytes calldata signature) internal view {
        if (_isValidSignatureCalldata(signer, digest, signature)) return;
        _revertInvalidSignature(signer, digest, signature);
    }

    /// @dev Reverts with the reason `signature` is not `signer`'s signature of `digest`.
    function _revertInvalidSignature(address signer, bytes32 digest, bytes memory signature) private view {
        if (signer.code.length != 0) revert StableTokenInvalidContractSignature(signer);
        (address recovered, ECDSA.RecoverError err, bytes32 arg) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.InvalidSignatureLength) revert ECDSA.ECDSAInvalidSignatureLength(uint256(arg));
        if (err == ECDSA.RecoverError.InvalidSignatureS) revert ECDSA.ECDSAInvalidSignatureS(arg);
        if (err == ECDSA.RecoverError.InvalidSignature) revert ECDSA.ECDSAInvalidSignature();
        revert StableTokenInvalidSigner(recovered, signer);
    }

    /// @dev (v, r, s) form of {_requireValidSignature}; contract signers receive `r ‖ s ‖ v`.
    function _requireValidSignature(address signer, bytes32 digest, uint8 v, bytes32 r, bytes32 s) internal view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, v, r, s);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        bytes memory packed = abi.encodePacked(r, s, v);
        if (signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, packed)) return;
        _revertInvalidSignature(signer, digest, packed);
    }
}
