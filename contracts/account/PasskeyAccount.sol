// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC7821} from "@openzeppelin/contracts/account/extensions/draft-ERC7821.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
import {IOriolePaymentToken} from "./IOriolePaymentToken.sol";

/**
 * @title PasskeyAccount
 * @notice A smart account owned by WebAuthn P-256 public keys ("devices", one per
 * phone or laptop; several per account). Every action needs a WebAuthn assertion
 * from a registered device WITH user verification (the UV flag: biometrics or
 * PIN), so the biometric confirmation is a rule of the ledger.
 *
 * Ways in:
 * - {executePayment}: anyone (Oriole's relayer) submits a device-signed EIP-712
 *   `PaymentIntent`; the account calls the token's `pay(to, amount, ref)` and
 *   pays the submitter a fee of at most `maxRelayerFee` in the same token.
 * - {addDeviceWithSig} / {removeDeviceWithSig}: device management approved by an
 *   existing device's assertion over an EIP-712 `AddDevice` / `RemoveDevice`.
 * - {isValidSignature} (ERC-1271): the account signs EIP-2612 permits and ERC-3009
 *   authorizations with a passkey.
 * - ERC-4337: built on OpenZeppelin {Account}; `validateUserOp` accepts a device's
 *   assertion over the `userOpHash`. Oriole pays through its own relayer for
 *   speed and gas, but the door stays open. ERC-7821 `execute` (batched calls)
 *   is open to the EntryPoint and to the account itself.
 *
 * Signature encoding (every path): `abi.encodePacked(qx, qy, abi.encode(r, s,
 * challengeIndex, typeIndex, authenticatorData, clientDataJSON))`: the device's
 * public key, then OpenZeppelin's `WebAuthn.WebAuthnAuth` fields (`s` must be
 * low, `s <= n/2`). The WebAuthn challenge (base64url in `clientDataJSON`) is the
 * 32-byte digest being approved:
 * - `PaymentIntent`, `AddDevice`, `RemoveDevice`: their EIP-712 digest under this
 *   account's domain (name "Oriole PasskeyAccount", version "1", chainId, this address);
 * - ERC-1271 `hash`: the EIP-712 digest of `OrioleMessage(bytes32 hash)` under the
 *   same domain ({replaySafeHash}), so one assertion never validates for another
 *   account or chain that shares the device key;
 * - ERC-4337: the `userOpHash` itself (it already binds the account and chain).
 *
 * Nonces (for `PaymentIntent`, `AddDevice` and `RemoveDevice`, one shared space):
 * Permit2-style UNORDERED nonces, bit `nonce & 255` of word `nonceBitmap(nonce >> 8)`.
 * Several devices and a concurrent relayer can then have intents in flight at
 * once, and they may land in any order; a device that counts up from a local
 * counter reuses a warm word (5,000 gas instead of 20,000 for a fresh slot).
 *
 * The P-256 check uses the EIP-7951 precompile where the chain has one and
 * OpenZeppelin's Solidity implementation where it does not (`P256.verify`).
 *
 * @dev Deployed as an implementation behind clones / proxies (the account factory
 * initializes each one): the constructor locks the implementation's initializer.
 * State lives in the ERC-7201 namespace `oriole.storage.PasskeyAccount`.
 */
contract PasskeyAccount is Account, ERC7821, EIP712, Initializable, IERC1271 {
    using SafeERC20 for IERC20;

    /// @notice A payment the account's owner approved with a device.
    struct PaymentIntent {
        address token;
        address to;
        uint256 amount;
        bytes32 ref; // signed as `reference` (a reserved word in Solidity)
        uint256 nonce;
        uint256 deadline;
        uint256 maxRelayerFee;
    }

    /// @custom:storage-location erc7201:oriole.storage.PasskeyAccount
    struct PasskeyAccountStorage {
        mapping(bytes32 keyId => bool) devices;
        uint256 deviceCount;
        mapping(uint256 wordPos => uint256) nonceBitmap;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.PasskeyAccount")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x0ddcc04bc6ce1b28ccdda6f57de70d9df8ac2518aecd767e928901ccc1383f00;

    /// @notice EIP-712 type hash of a payment intent.
    bytes32 public constant PAYMENT_INTENT_TYPEHASH = keccak256(
        "PaymentIntent(address token,address to,uint256 amount,bytes32 reference,uint256 nonce,uint256 deadline,uint256 maxRelayerFee)"
    );
    /// @notice EIP-712 type hash of a device addition.
    bytes32 public constant ADD_DEVICE_TYPEHASH =
        keccak256("AddDevice(bytes32 qx,bytes32 qy,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type hash of a device removal.
    bytes32 public constant REMOVE_DEVICE_TYPEHASH =
        keccak256("RemoveDevice(bytes32 qx,bytes32 qy,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type hash wrapping an ERC-1271 hash (see {replaySafeHash}).
    bytes32 public constant ORIOLE_MESSAGE_TYPEHASH = keccak256("OrioleMessage(bytes32 hash)");

    /// @notice A device `keyId = keccak256(qx, qy)` was registered.
    event DeviceAdded(bytes32 indexed keyId, bytes32 qx, bytes32 qy);
    /// @notice A device was unregistered.
    event DeviceRemoved(bytes32 indexed keyId, bytes32 qx, bytes32 qy);
    /// @notice `nonce` was used (by a payment or a device change) or invalidated.
    event NonceUsed(uint256 indexed nonce);
    /// @notice A payment intent was executed: `amount` of `token` paid to `to` for `ref`;
    /// `relayer` received `relayerFee` of the same token.
    event PaymentExecuted(
        uint256 indexed nonce,
        address indexed token,
        address indexed to,
        uint256 amount,
        bytes32 ref,
        address relayer,
        uint256 relayerFee
    );

    /// @notice The public key is not a valid P-256 point.
    error PasskeyAccountInvalidPublicKey(bytes32 qx, bytes32 qy);
    /// @notice The device is already registered.
    error PasskeyAccountDeviceExists(bytes32 keyId);
    /// @notice The device is not registered.
    error PasskeyAccountUnknownDevice(bytes32 keyId);
    /// @notice Removing the account's only device would lock it.
    error PasskeyAccountLastDevice(bytes32 keyId);
    /// @notice The signature is malformed or is not a valid user-verified assertion of `keyId` over `digest`.
    error PasskeyAccountInvalidSignature(bytes32 keyId, bytes32 digest);
    /// @notice The signature is too short to hold a public key and an assertion.
    error PasskeyAccountMalformedSignature(uint256 length);
    /// @notice The message expired at `deadline`; it is now `timestamp`.
    error PasskeyAccountExpired(uint256 deadline, uint256 timestamp);
    /// @notice `nonce` was already used or invalidated.
    error PasskeyAccountNonceUsed(uint256 nonce);
    /// @notice The relayer asked for `fee`, more than the intent's `maxFee`.
    error PasskeyAccountRelayerFeeTooHigh(uint256 fee, uint256 maxFee);
    /// @notice The token's `pay` returned false instead of reverting.
    error PasskeyAccountPaymentFailed(address token, address to, uint256 amount);

    /// @dev Locks the implementation; clones and proxies are initialized by {initialize}.
    constructor() EIP712("Oriole PasskeyAccount", "1") {
        _disableInitializers();
    }

    /**
     * @notice Registers the account's first device.
     * @param qx x coordinate of the device's P-256 public key
     * @param qy y coordinate of the device's P-256 public key
     */
    function initialize(bytes32 qx, bytes32 qy) external initializer {
        _addDevice(qx, qy);
    }

    // ------------------------------------------------------------------
    // Payments
    // ------------------------------------------------------------------

    /**
     * @notice Executes a payment intent signed by a registered device, and pays the
     * caller (the relayer) `relayerFee` of the same token.
     * @dev Checks, in order: the deadline, the fee cap, the nonce, the assertion
     * (UV required); then uses the nonce and calls `intent.token.pay(to, amount, ref)`.
     * @param intent the signed intent
     * @param relayerFee what the caller takes, at most `intent.maxRelayerFee`
     * @param signature a device's assertion over {hashPaymentIntent}`(intent)` (see contract docs)
     */
    function executePayment(PaymentIntent calldata intent, uint256 relayerFee, bytes calldata signature) external {
        if (block.timestamp > intent.deadline) revert PasskeyAccountExpired(intent.deadline, block.timestamp);
        if (relayerFee > intent.maxRelayerFee) revert PasskeyAccountRelayerFeeTooHigh(relayerFee, intent.maxRelayerFee);
        _useNonce(intent.nonce);
        _checkSignature(hashPaymentIntent(intent), signature);

        // StableToken reverts on failure; a token that reports failure by
        // returning false must not look like a successful payment.
        if (!IOriolePaymentToken(intent.token).pay(intent.to, intent.amount, intent.ref)) {
            revert PasskeyAccountPaymentFailed(intent.token, intent.to, intent.amount);
        }
        if (relayerFee != 0) IERC20(intent.token).safeTransfer(msg.sender, relayerFee);
        emit PaymentExecuted(intent.nonce, intent.token, intent.to, intent.amount, intent.ref, msg.sender, relayerFee);
    }

    /// @notice The EIP-712 digest a device signs (as the WebAuthn challenge) to approve `intent`.
    function hashPaymentIntent(PaymentIntent calldata intent) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    PAYMENT_INTENT_TYPEHASH,
                    intent.token,
                    intent.to,
                    intent.amount,
                    intent.ref,
                    intent.nonce,
                    intent.deadline,
                    intent.maxRelayerFee
                )
            )
        );
    }

    // ------------------------------------------------------------------
    // Devices
    // ------------------------------------------------------------------

    /**
     * @notice Registers the device `(qx, qy)`, approved by an existing device's
     * assertion over the EIP-712 `AddDevice(qx, qy, nonce, deadline)`.
     */
    function addDeviceWithSig(bytes32 qx, bytes32 qy, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert PasskeyAccountExpired(deadline, block.timestamp);
        _useNonce(nonce);
        _checkSignature(_hashTypedDataV4(keccak256(abi.encode(ADD_DEVICE_TYPEHASH, qx, qy, nonce, deadline))), signature);
        _addDevice(qx, qy);
    }

    /**
     * @notice Unregisters the device `(qx, qy)`, approved by a registered device's
     * assertion (possibly the removed one's) over the EIP-712 `RemoveDevice(qx, qy, nonce, deadline)`.
     * The last device cannot be removed.
     */
    function removeDeviceWithSig(bytes32 qx, bytes32 qy, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert PasskeyAccountExpired(deadline, block.timestamp);
        _useNonce(nonce);
        _checkSignature(
            _hashTypedDataV4(keccak256(abi.encode(REMOVE_DEVICE_TYPEHASH, qx, qy, nonce, deadline))), signature
        );
        _removeDevice(qx, qy);
    }

    /// @notice Registers a device; callable by the account itself or the ERC-4337 EntryPoint.
    function addDevice(bytes32 qx, bytes32 qy) external onlyEntryPointOrSelf {
        _addDevice(qx, qy);
    }

    /// @notice Unregisters a device (never the last); callable by the account itself or the EntryPoint.
    function removeDevice(bytes32 qx, bytes32 qy) external onlyEntryPointOrSelf {
        _removeDevice(qx, qy);
    }

    /// @notice Whether `(qx, qy)` is a registered device.
    function isDevice(bytes32 qx, bytes32 qy) external view returns (bool) {
        return _storage().devices[keyIdOf(qx, qy)];
    }

    /// @notice How many devices are registered.
    function deviceCount() external view returns (uint256) {
        return _storage().deviceCount;
    }

    /// @notice A device's id: `keccak256(abi.encode(qx, qy))`.
    function keyIdOf(bytes32 qx, bytes32 qy) public pure returns (bytes32 keyId) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, qx)
            mstore(0x20, qy)
            keyId := keccak256(0x00, 0x40)
        }
    }

    // ------------------------------------------------------------------
    // Nonces
    // ------------------------------------------------------------------

    /// @notice Word `wordPos` of the unordered nonce bitmap (bit `nonce & 255` of word `nonce >> 8`).
    function nonceBitmap(uint256 wordPos) external view returns (uint256) {
        return _storage().nonceBitmap[wordPos];
    }

    /// @notice Whether `nonce` was used or invalidated.
    function isNonceUsed(uint256 nonce) public view returns (bool) {
        return (_storage().nonceBitmap[nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    /// @notice Invalidates an unused `nonce` (cancels an intent); callable by the account itself or the EntryPoint.
    function invalidateNonce(uint256 nonce) external onlyEntryPointOrSelf {
        _useNonce(nonce);
    }

    // ------------------------------------------------------------------
    // ERC-1271 and ERC-4337
    // ------------------------------------------------------------------

    /**
     * @notice ERC-1271: whether `signature` is a registered device's user-verified
     * assertion whose challenge is {replaySafeHash}`(hash)`.
     * @return magic `0x1626ba7e` if valid, `0xffffffff` otherwise (never reverts on a bad signature)
     */
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4 magic) {
        return _rawSignatureValidation(replaySafeHash(hash), signature)
            ? IERC1271.isValidSignature.selector
            : bytes4(0xffffffff);
    }

    /// @notice The challenge a device signs for the ERC-1271 `hash`: the EIP-712 digest of
    /// `OrioleMessage(bytes32 hash)` under this account's domain.
    function replaySafeHash(bytes32 hash) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ORIOLE_MESSAGE_TYPEHASH, hash)));
    }

    /**
     * @dev Whether `signature` (see contract docs) is a registered device's assertion,
     * with user verification, whose challenge is `hash`. Used by ERC-4337 `validateUserOp`
     * (with the raw `userOpHash`) and by {isValidSignature}.
     */
    function _rawSignatureValidation(bytes32 hash, bytes calldata signature) internal view override returns (bool) {
        if (signature.length < 64) return false;
        bytes32 qx = bytes32(signature[0:32]);
        bytes32 qy = bytes32(signature[32:64]);
        if (!_storage().devices[keyIdOf(qx, qy)]) return false;
        (bool decoded, WebAuthn.WebAuthnAuth calldata auth) = WebAuthn.tryDecodeAuth(signature[64:]);
        return decoded && WebAuthn.verify(abi.encodePacked(hash), auth, qx, qy, true);
    }

    /// @dev ERC-7821 `execute` is callable by the account itself and by the ERC-4337 EntryPoint.
    function _erc7821AuthorizedExecutor(address caller, bytes32 mode, bytes calldata executionData)
        internal
        view
        override
        returns (bool)
    {
        return caller == address(entryPoint()) || super._erc7821AuthorizedExecutor(caller, mode, executionData);
    }

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    /// @dev Reverts unless `signature` is a registered device's user-verified assertion over `digest`.
    function _checkSignature(bytes32 digest, bytes calldata signature) private view {
        if (signature.length < 64) revert PasskeyAccountMalformedSignature(signature.length);
        bytes32 keyId = keyIdOf(bytes32(signature[0:32]), bytes32(signature[32:64]));
        if (!_storage().devices[keyId]) revert PasskeyAccountUnknownDevice(keyId);
        if (!_rawSignatureValidation(digest, signature)) revert PasskeyAccountInvalidSignature(keyId, digest);
    }

    /// @dev Marks `nonce` used; reverts if it already was.
    function _useNonce(uint256 nonce) private {
        PasskeyAccountStorage storage $ = _storage();
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = $.nonceBitmap[nonce >> 8];
        if (word & bit != 0) revert PasskeyAccountNonceUsed(nonce);
        $.nonceBitmap[nonce >> 8] = word | bit;
        emit NonceUsed(nonce);
    }

    function _addDevice(bytes32 qx, bytes32 qy) private {
        if (!P256.isValidPublicKey(qx, qy)) revert PasskeyAccountInvalidPublicKey(qx, qy);
        PasskeyAccountStorage storage $ = _storage();
        bytes32 keyId = keyIdOf(qx, qy);
        if ($.devices[keyId]) revert PasskeyAccountDeviceExists(keyId);
        $.devices[keyId] = true;
        ++$.deviceCount;
        emit DeviceAdded(keyId, qx, qy);
    }

    function _removeDevice(bytes32 qx, bytes32 qy) private {
        PasskeyAccountStorage storage $ = _storage();
        bytes32 keyId = keyIdOf(qx, qy);
        if (!$.devices[keyId]) revert PasskeyAccountUnknownDevice(keyId);
        if ($.deviceCount == 1) revert PasskeyAccountLastDevice(keyId);
        $.devices[keyId] = false;
        --$.deviceCount;
        emit DeviceRemoved(keyId, qx, qy);
    }

    function _storage() private pure returns (PasskeyAccountStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := STORAGE_SLOT
        }
    }
}
