// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC7821} from "@openzeppelin/contracts/account/extensions/draft-ERC7821.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IOriolePaymentToken} from "./IOriolePaymentToken.sol";
import {WebAuthnP256} from "./WebAuthnP256.sol";

/**
 * @title PasskeyAccount
 * @notice A smart account owned by WebAuthn P-256 public keys ("devices", one per
 * phone or laptop; several per account). Every action needs a WebAuthn assertion
 * from a registered device WITH user verification (the UV flag: biometrics or
 * PIN), so the biometric confirmation is a rule of the ledger.
 *
 * Ways in:
 * - {executePayment}: anyone (Oriole's relayer) submits a device-signed EIP-712
 *   `PaymentIntent`; the account calls the token's `payWithTip(to, amount, ref,
 *   feeRecipient, fee)`: the payment, and a relayer fee of at most `maxRelayerFee`
 *   in the same token.
 * - {executeWithSig}: owner calls (device management, guardians, daily limits,
 *   cancelling a recovery or a nonce) approved by a device over an EIP-712 `AccountCall`.
 * - {startRecovery} / {completeRecovery}: guardians replace every device with a new
 *   one after `recoveryDelay`, unless the owner cancels.
 * - {isValidSignature} (ERC-1271): the account signs EIP-2612 permits and ERC-3009
 *   authorizations with a passkey.
 * - ERC-4337: built on OpenZeppelin {Account}; `validateUserOp` accepts a device's
 *   assertion over the `userOpHash`. ERC-7821 `execute` (batched calls) is open to
 *   the EntryPoint and to the account itself.
 *
 * Signatures use the compact encoding of {WebAuthnP256}. The WebAuthn challenge is
 * the 32-byte digest being approved:
 * - `PaymentIntent`, `AccountCall`: their EIP-712 digest under this account's domain
 *   (name "Oriole PasskeyAccount", version "1", chainId, this address);
 * - ERC-1271 `hash`: the EIP-712 digest of `OrioleMessage(bytes32 hash)` under the
 *   same domain ({replaySafeHash}), so one assertion never validates for another
 *   account or chain that shares the device key;
 * - ERC-4337: the `userOpHash` itself (it already binds the account and chain).
 *
 * Nonces (intents and account calls share one space): Permit2-style UNORDERED nonces,
 * bit `nonce & 255` of word `nonceBitmap(nonce >> 8)`, so several devices and a
 * concurrent relayer can have intents in flight that land in any order.
 *
 * Daily limits (per token, UTC days `block.timestamp / 1 days`): never set = unlimited.
 * A payment counts `amount + relayerFee`. Lowering applies at once; raising (or removing
 * the limit with `type(uint256).max`) is scheduled and applies `limitRaiseDelay` later,
 * so a stolen unlocked phone cannot lift the limit and drain the account at once.
 *
 * @dev Deployed as an implementation behind clones (see PasskeyAccountFactory): the
 * implementation itself cannot be initialized; the delays are immutables shared
 * by every clone. State lives in the ERC-7201 namespace `oriole.storage.PasskeyAccount`.
 */
contract PasskeyAccount is Account, ERC7821, EIP712, IERC1271 {
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

    /// @dev One token's daily limit, packed in one slot (read and written once per payment).
    struct DailyLimit {
        uint96 limit;
        uint96 spent; // on `day`
        uint40 day;
        bool enabled; // false: unlimited
        bool pending; // a raise is scheduled in `pendingLimits`
    }

    /// @dev A scheduled raise of a daily limit.
    struct PendingLimit {
        uint96 limit;
        uint40 since;
        bool unlimited;
    }

    /// @dev A recovery started by the guardians.
    struct PendingRecovery {
        bytes32 qx;
        bytes32 qy;
        uint64 readyAt; // 0: none
    }

    /// @custom:storage-location erc7201:oriole.storage.PasskeyAccount
    struct PasskeyAccountStorage {
        // The devices form a linked list through one mapping: `deviceNext[SENTINEL]` is the first
        // keyId, each device points to the next and the last to SENTINEL; 0 means "not a device".
        // A payment reads one slot, and the first device costs two fresh slots, not an array's four.
        mapping(bytes32 keyId => bytes32 next) deviceNext;
        mapping(uint256 wordPos => uint256) nonceBitmap;
        mapping(address token => DailyLimit) limits;
        mapping(address token => PendingLimit) pendingLimits;
        address[] guardians;
        uint256 guardianThreshold;
        uint256 recoveryNonce;
        PendingRecovery recovery;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.PasskeyAccount")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x0ddcc04bc6ce1b28ccdda6f57de70d9df8ac2518aecd767e928901ccc1383f00;

    /// @notice EIP-712 type hash of a payment intent.
    bytes32 public constant PAYMENT_INTENT_TYPEHASH = keccak256(
        "PaymentIntent(address token,address to,uint256 amount,bytes32 reference,uint256 nonce,uint256 deadline,uint256 maxRelayerFee)"
    );
    /// @notice EIP-712 type hash of an owner call ({executeWithSig}).
    bytes32 public constant ACCOUNT_CALL_TYPEHASH = keccak256("AccountCall(bytes data,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type hash of a guardian's recovery approval.
    bytes32 public constant RECOVERY_TYPEHASH =
        keccak256("Recovery(bytes32 qx,bytes32 qy,uint256 recoveryNonce,uint256 deadline)");
    /// @notice EIP-712 type hash wrapping an ERC-1271 hash (see {replaySafeHash}).
    bytes32 public constant ORIOLE_MESSAGE_TYPEHASH = keccak256("OrioleMessage(bytes32 hash)");

    /// @dev Head and tail marker of the device list (no keccak256 output is 1 in practice).
    bytes32 private constant SENTINEL = bytes32(uint256(1));
    /// @dev The implementation's own address: only clones can be initialized.
    address private immutable SELF = address(this);

    /// @notice Most devices an account holds (bounds the work of {completeRecovery}).
    uint256 public constant MAX_DEVICES = 16;
    /// @notice Most guardians an account holds.
    uint256 public constant MAX_GUARDIANS = 16;

    // The getters are part of the account's interface: mixedCase, like functions.
    /// @notice Seconds before a raised daily limit applies.
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable limitRaiseDelay;
    /// @notice Seconds between {startRecovery} and {completeRecovery}.
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable recoveryDelay;

    /// @notice A device `keyId = keccak256(qx, qy)` was registered.
    event DeviceAdded(bytes32 indexed keyId, bytes32 qx, bytes32 qy);
    /// @notice The device `keyId` was unregistered (its key is in its {DeviceAdded}).
    event DeviceRemoved(bytes32 indexed keyId);
    /// @notice `nonce` was used by an account call or invalidated.
    event NonceUsed(uint256 indexed nonce);
    /// @notice The intent with `nonce` was paid; it also marks `nonce` used. The rest is in the token's
    /// events that follow: the `Payment` (and its `Transfer`s), then the relayer fee's `Transfer`
    /// from this account to the fee recipient (none when the fee is 0).
    event PaymentExecuted(uint256 indexed nonce);
    /// @notice `token`'s daily limit is now `limit` (`type(uint256).max`: unlimited); a scheduled raise is dropped.
    event DailyLimitSet(address indexed token, uint256 limit);
    /// @notice `token`'s daily limit will become `limit` at `effectiveAt` (`type(uint256).max`: unlimited).
    event DailyLimitRaiseScheduled(address indexed token, uint256 limit, uint256 effectiveAt);
    /// @notice The guardians are now `guardians`, `threshold` of whom can start a recovery.
    event GuardiansSet(address[] guardians, uint256 threshold);
    /// @notice Guardians started recovery `recoveryNonce` to the device `(qx, qy)`, ready at `readyAt`.
    event RecoveryStarted(uint256 indexed recoveryNonce, bytes32 qx, bytes32 qy, uint256 readyAt);
    /// @notice The owner cancelled recovery `recoveryNonce`.
    event RecoveryCancelled(uint256 indexed recoveryNonce);
    /// @notice Recovery `recoveryNonce` replaced every device with `(qx, qy)`.
    event RecoveryCompleted(uint256 indexed recoveryNonce, bytes32 qx, bytes32 qy);

    /// @notice The account was initialized already, or this is the implementation.
    error PasskeyAccountAlreadyInitialized();
    /// @notice The public key is not a valid P-256 point.
    error PasskeyAccountInvalidPublicKey(bytes32 qx, bytes32 qy);
    /// @notice The device is already registered.
    error PasskeyAccountDeviceExists(bytes32 keyId);
    /// @notice The device is not registered.
    error PasskeyAccountUnknownDevice(bytes32 keyId);
    /// @notice Removing the account's only device would lock it.
    error PasskeyAccountLastDevice(bytes32 keyId);
    /// @notice The account already holds `max` devices.
    error PasskeyAccountTooManyDevices(uint256 max);
    /// @notice The signature is not a valid assertion of `keyId` over `digest`.
    error PasskeyAccountInvalidSignature(bytes32 keyId, bytes32 digest);
    /// @notice The signature's layout is invalid (see {WebAuthnP256}).
    error PasskeyAccountMalformedSignature(uint256 length);
    /// @notice The assertion's authenticatorData `flags` lack UP or UV (user verification is required).
    error PasskeyAccountUserVerificationRequired(uint8 flags);
    /// @notice The message expired at `deadline`; it is now `timestamp`.
    error PasskeyAccountExpired(uint256 deadline, uint256 timestamp);
    /// @notice `nonce` was already used or invalidated.
    error PasskeyAccountNonceUsed(uint256 nonce);
    /// @notice The relayer asked for `fee`, more than the intent's `maxFee`.
    error PasskeyAccountRelayerFeeTooHigh(uint256 fee, uint256 maxFee);
    /// @notice The token's `pay` returned false instead of reverting.
    error PasskeyAccountPaymentFailed(address token, address to, uint256 amount);
    /// @notice Paying `requested` (amount + fee) of `token` exceeds what is left of today's limit.
    error PasskeyAccountDailyLimitExceeded(address token, uint256 requested, uint256 remaining);
    /// @notice A daily limit must be below `max`, or `type(uint256).max` for unlimited.
    error PasskeyAccountDailyLimitTooLarge(uint256 limit, uint256 max);
    /// @notice {executeWithSig} may not call the function `selector`.
    error PasskeyAccountCallNotAllowed(bytes4 selector);
    /// @notice The guardian list or threshold is invalid (`count` guardians, `threshold`).
    error PasskeyAccountInvalidGuardians(uint256 count, uint256 threshold);
    /// @notice `guardian` is zero, the account itself, repeated, or out of ascending order.
    error PasskeyAccountInvalidGuardian(address guardian);
    /// @notice `guardian` is not one of the account's guardians.
    error PasskeyAccountNotGuardian(address guardian);
    /// @notice `count` guardian approvals, fewer than the `threshold` needed.
    error PasskeyAccountBelowThreshold(uint256 count, uint256 threshold);
    /// @notice `guardians` and `signatures` differ in length.
    error PasskeyAccountLengthMismatch(uint256 guardians, uint256 signatures);
    /// @notice `guardian`'s recovery approval is invalid.
    error PasskeyAccountInvalidGuardianSignature(address guardian);
    /// @notice A recovery is already in progress.
    error PasskeyAccountRecoveryInProgress(uint256 recoveryNonce);
    /// @notice No recovery is in progress.
    error PasskeyAccountNoRecovery();
    /// @notice The recovery can complete at `readyAt`; it is now `timestamp`.
    error PasskeyAccountRecoveryNotReady(uint256 readyAt, uint256 timestamp);

    /**
     * @param limitRaiseDelay_ seconds before a raised daily limit applies
     * @param recoveryDelay_ seconds the owner has to cancel a recovery
     * @dev The implementation stays uninitialized and refuses {initialize}; clones are initialized.
     */
    constructor(uint256 limitRaiseDelay_, uint256 recoveryDelay_) EIP712("Oriole PasskeyAccount", "1") {
        limitRaiseDelay = limitRaiseDelay_;
        recoveryDelay = recoveryDelay_;
    }

    /**
     * @notice Registers the account's first device.
     * @param qx x coordinate of the device's P-256 public key
     * @param qy y coordinate of the device's P-256 public key
     */
    function initialize(bytes32 qx, bytes32 qy) external {
        // an initialized account always has a device (the last one cannot be removed)
        if (address(this) == SELF || _storage().deviceNext[SENTINEL] != 0) revert PasskeyAccountAlreadyInitialized();
        _addDevice(qx, qy);
    }

    // ------------------------------------------------------------------
    // Payments
    // ------------------------------------------------------------------

    /**
     * @notice Executes a payment intent signed by a registered device, and pays
     * `feeRecipient` `relayerFee` of the same token.
     * @dev Checks, in order: the deadline, the fee cap, the nonce, the device and its
     * assertion (UV required), the daily limit on `amount + relayerFee`; then calls
     * `intent.token.payWithTip(to, amount, ref, feeRecipient, relayerFee)`.
     * @param intent the signed intent
     * @param relayerFee what the relayer takes, at most `intent.maxRelayerFee`
     * @param feeRecipient who receives `relayerFee`
     * @param signature a device's assertion over {hashPaymentIntent}`(intent)`
     */
    function executePayment(
        PaymentIntent calldata intent,
        uint256 relayerFee,
        address feeRecipient,
        bytes calldata signature
    ) external {
        if (block.timestamp > intent.deadline) revert PasskeyAccountExpired(intent.deadline, block.timestamp);
        if (relayerFee > intent.maxRelayerFee) revert PasskeyAccountRelayerFeeTooHigh(relayerFee, intent.maxRelayerFee);
        _useNonce(intent.nonce);
        _checkSignature(hashPaymentIntent(intent), signature);
        _spend(intent.token, intent.amount + relayerFee);
        emit PaymentExecuted(intent.nonce);

        // StableToken reverts on failure; a token that reports failure by
        // returning false must not look like a successful payment.
        // One token call pays the merchant and the relayer (its fee is a plain Transfer after the Payment).
        if (!IOriolePaymentToken(intent.token).payWithTip(intent.to, intent.amount, intent.ref, feeRecipient, relayerFee)) {
            revert PasskeyAccountPaymentFailed(intent.token, intent.to, intent.amount);
        }
    }

    /// @notice The EIP-712 digest a device signs (as the WebAuthn challenge) to approve `intent`.
    function hashPaymentIntent(PaymentIntent calldata intent) public view returns (bytes32) {
        bytes32 structHash;
        bytes32 typeHash = PAYMENT_INTENT_TYPEHASH;
        // The struct is seven static words in calldata, in the signed order: hash them as they are.
        // (Dirty high bits in an address would change the hash, so such a call fails the signature.)
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            calldatacopy(add(m, 0x20), intent, 0xe0)
            structHash := keccak256(m, 0x100)
        }
        return _hashTypedDataV4(structHash);
    }

    // ------------------------------------------------------------------
    // Owner calls
    // ------------------------------------------------------------------

    /**
     * @notice Runs `data` as a call from the account to itself, approved by a device's
     * assertion over the EIP-712 `AccountCall(data, nonce, deadline)`. Only {addDevice},
     * {removeDevice}, {setGuardians}, {setDailyLimit}, {cancelRecovery} and
     * {invalidateNonce} may be called this way; a revert of the call is re-thrown.
     * @param data the ABI-encoded call
     * @param nonce an unused nonce (shared with payment intents)
     * @param deadline last valid timestamp
     * @param signature a device's assertion over {hashAccountCall}`(data, nonce, deadline)`
     */
    function executeWithSig(bytes calldata data, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert PasskeyAccountExpired(deadline, block.timestamp);
        bytes4 selector = data.length < 4 ? bytes4(0) : bytes4(data[0:4]);
        if (
            selector != this.addDevice.selector && selector != this.removeDevice.selector
                && selector != this.setGuardians.selector && selector != this.setDailyLimit.selector
                && selector != this.cancelRecovery.selector && selector != this.invalidateNonce.selector
        ) revert PasskeyAccountCallNotAllowed(selector);
        _useNonce(nonce);
        emit NonceUsed(nonce);
        _checkSignature(hashAccountCall(data, nonce, deadline), signature);

        // A self-call, so `onlyEntryPointOrSelf` admits it.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(this).call(data);
        if (!ok) {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    /// @notice The EIP-712 digest a device signs to approve {executeWithSig}`(data, nonce, deadline)`.
    function hashAccountCall(bytes calldata data, uint256 nonce, uint256 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ACCOUNT_CALL_TYPEHASH, keccak256(data), nonce, deadline)));
    }

    // ------------------------------------------------------------------
    // Devices
    // ------------------------------------------------------------------

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
        return _storage().deviceNext[keyIdOf(qx, qy)] != 0;
    }

    /// @notice How many devices are registered.
    function deviceCount() external view returns (uint256) {
        return _deviceCount(_storage());
    }

    /// @notice The registered devices' ids (`keyIdOf(qx, qy)`), newest first.
    function deviceIds() external view returns (bytes32[] memory ids) {
        PasskeyAccountStorage storage $ = _storage();
        ids = new bytes32[](_deviceCount($));
        bytes32 k = $.deviceNext[SENTINEL];
        for (uint256 i = 0; i < ids.length; ++i) {
            ids[i] = k;
            k = $.deviceNext[k];
        }
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
        emit NonceUsed(nonce);
    }

    // ------------------------------------------------------------------
    // Daily limits
    // ------------------------------------------------------------------

    /**
     * @notice Sets `token`'s daily limit (`type(uint256).max`: unlimited). Lowering applies
     * at once (and drops a scheduled raise); raising is scheduled for `limitRaiseDelay`
     * later. Callable by the account itself or the EntryPoint.
     */
    function setDailyLimit(address token, uint256 limit) external onlyEntryPointOrSelf {
        if (limit >= type(uint96).max && limit != type(uint256).max) {
            revert PasskeyAccountDailyLimitTooLarge(limit, type(uint96).max);
        }
        PasskeyAccountStorage storage $ = _storage();
        DailyLimit memory lim = _currentLimit($, token);
        bool unlimited = limit == type(uint256).max;
        bool raise = lim.enabled && (unlimited || limit > lim.limit);
        if (raise) {
            uint40 since = uint40(block.timestamp);
            $.pendingLimits[token] = PendingLimit({limit: uint96(unlimited ? 0 : limit), since: since, unlimited: unlimited});
            lim.pending = true;
            $.limits[token] = lim;
            emit DailyLimitRaiseScheduled(token, limit, block.timestamp + limitRaiseDelay);
            return;
        }
        if (lim.pending) delete $.pendingLimits[token];
        if (unlimited) {
            delete $.limits[token];
        } else {
            uint40 today = uint40(block.timestamp / 1 days);
            uint96 spent = lim.enabled && lim.day == today ? lim.spent : 0;
            if (spent > limit) spent = uint96(limit); // keeps spentToday <= limit
            $.limits[token] =
                DailyLimit({limit: uint96(limit), spent: spent, day: today, enabled: true, pending: false});
        }
        emit DailyLimitSet(token, limit);
    }

    /**
     * @notice `token`'s daily limit as it applies now.
     * @return limit the limit (`type(uint256).max`: unlimited)
     * @return spentToday what payments spent today (UTC), fees included
     * @return pendingLimit a scheduled raise (`type(uint256).max`: to unlimited; 0 with `pendingSince` 0: none)
     * @return pendingSince when the raise was scheduled; it applies `limitRaiseDelay` later
     */
    function dailyLimit(address token)
        external
        view
        returns (uint256 limit, uint256 spentToday, uint256 pendingLimit, uint256 pendingSince)
    {
        PasskeyAccountStorage storage $ = _storage();
        DailyLimit memory lim = _currentLimit($, token);
        if (!lim.enabled) return (type(uint256).max, 0, 0, 0);
        limit = lim.limit;
        spentToday = lim.day == block.timestamp / 1 days ? lim.spent : 0;
        if (lim.pending) {
            PendingLimit memory p = $.pendingLimits[token];
            (pendingLimit, pendingSince) = (p.unlimited ? type(uint256).max : p.limit, p.since);
        }
    }

    // ------------------------------------------------------------------
    // Guardians and recovery
    // ------------------------------------------------------------------

    /**
     * @notice Replaces the guardians (EOAs or ERC-1271 contracts, e.g. other passkey
     * accounts); `threshold` of them can start a recovery. An empty list with threshold 0
     * removes recovery. Callable by the account itself or the EntryPoint.
     */
    function setGuardians(address[] calldata newGuardians, uint256 threshold) external onlyEntryPointOrSelf {
        uint256 n = newGuardians.length;
        if (n > MAX_GUARDIANS || threshold > n || (threshold == 0 && n != 0)) {
            revert PasskeyAccountInvalidGuardians(n, threshold);
        }
        for (uint256 i = 0; i < n; ++i) {
            address g = newGuardians[i];
            if (g == address(0) || g == address(this)) revert PasskeyAccountInvalidGuardian(g);
            for (uint256 j = 0; j < i; ++j) {
                if (newGuardians[j] == g) revert PasskeyAccountInvalidGuardian(g);
            }
        }
        PasskeyAccountStorage storage $ = _storage();
        $.guardians = newGuardians;
        $.guardianThreshold = threshold;
        emit GuardiansSet(newGuardians, threshold);
    }

    /// @notice The guardians and how many of them a recovery needs.
    function guardians() external view returns (address[] memory list, uint256 threshold) {
        PasskeyAccountStorage storage $ = _storage();
        return ($.guardians, $.guardianThreshold);
    }

    /// @notice Incremented by every cancelled or completed recovery; guardians sign it.
    function recoveryNonce() external view returns (uint256) {
        return _storage().recoveryNonce;
    }

    /// @notice The recovery in progress (`readyAt` 0: none).
    function pendingRecovery() external view returns (bytes32 qx, bytes32 qy, uint256 readyAt) {
        PendingRecovery memory r = _storage().recovery;
        return (r.qx, r.qy, r.readyAt);
    }

    /// @notice The EIP-712 digest a guardian signs to approve recovery to `(qx, qy)`.
    function hashRecovery(bytes32 qx, bytes32 qy, uint256 nonce, uint256 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RECOVERY_TYPEHASH, qx, qy, nonce, deadline)));
    }

    /**
     * @notice Starts replacing every device with `(qx, qy)`, approved by at least the
     * threshold of guardians; {completeRecovery} finishes it after `recoveryDelay` unless
     * the owner calls {cancelRecovery}. Callable by anyone holding the approvals.
     * @param qx x coordinate of the new device's public key
     * @param qy y coordinate of the new device's public key
     * @param deadline last valid timestamp of the approvals
     * @param guardians_ the approving guardians, strictly ascending
     * @param signatures each guardian's signature (EOA or ERC-1271) over
     * {hashRecovery}`(qx, qy, recoveryNonce(), deadline)`
     */
    function startRecovery(
        bytes32 qx,
        bytes32 qy,
        uint256 deadline,
        address[] calldata guardians_,
        bytes[] calldata signatures
    ) external {
        PasskeyAccountStorage storage $ = _storage();
        uint256 rn = $.recoveryNonce;
        if ($.recovery.readyAt != 0) revert PasskeyAccountRecoveryInProgress(rn);
        if (block.timestamp > deadline) revert PasskeyAccountExpired(deadline, block.timestamp);
        if (guardians_.length != signatures.length) {
            revert PasskeyAccountLengthMismatch(guardians_.length, signatures.length);
        }
        uint256 threshold = $.guardianThreshold;
        if (threshold == 0 || guardians_.length < threshold) {
            revert PasskeyAccountBelowThreshold(guardians_.length, threshold);
        }
        if (!P256.isValidPublicKey(qx, qy)) revert PasskeyAccountInvalidPublicKey(qx, qy);
        bytes32 digest = hashRecovery(qx, qy, rn, deadline);
        address previous = address(0);
        for (uint256 i = 0; i < guardians_.length; ++i) {
            address g = guardians_[i];
            if (g <= previous) revert PasskeyAccountInvalidGuardian(g);
            previous = g;
            if (!_isGuardian($, g)) revert PasskeyAccountNotGuardian(g);
            if (!SignatureChecker.isValidSignatureNow(g, digest, signatures[i])) {
                revert PasskeyAccountInvalidGuardianSignature(g);
            }
        }
        uint256 readyAt = block.timestamp + recoveryDelay;
        $.recovery = PendingRecovery({qx: qx, qy: qy, readyAt: uint64(readyAt)});
        emit RecoveryStarted(rn, qx, qy, readyAt);
    }

    /// @notice Cancels the recovery in progress; callable by the account itself or the EntryPoint.
    function cancelRecovery() external onlyEntryPointOrSelf {
        PasskeyAccountStorage storage $ = _storage();
        if ($.recovery.readyAt == 0) revert PasskeyAccountNoRecovery();
        uint256 rn = $.recoveryNonce;
        delete $.recovery;
        $.recoveryNonce = rn + 1;
        emit RecoveryCancelled(rn);
    }

    /// @notice Completes the recovery once its delay passed: drops ALL devices and installs the new one.
    function completeRecovery() external {
        PasskeyAccountStorage storage $ = _storage();
        PendingRecovery memory r = $.recovery;
        if (r.readyAt == 0) revert PasskeyAccountNoRecovery();
        if (block.timestamp < r.readyAt) revert PasskeyAccountRecoveryNotReady(r.readyAt, block.timestamp);
        uint256 rn = $.recoveryNonce;
        delete $.recovery;
        $.recoveryNonce = rn + 1;
        bytes32 k = $.deviceNext[SENTINEL];
        while (k != SENTINEL) {
            bytes32 next = $.deviceNext[k];
            delete $.deviceNext[k];
            emit DeviceRemoved(k);
            k = next;
        }
        delete $.deviceNext[SENTINEL];
        _addDevice(r.qx, r.qy);
        emit RecoveryCompleted(rn, r.qx, r.qy);
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
     * @dev Whether `signature` is a registered device's user-verified assertion whose
     * challenge is `hash`. Used by ERC-4337 `validateUserOp` (with the raw `userOpHash`)
     * and by {isValidSignature}.
     */
    function _rawSignatureValidation(bytes32 hash, bytes calldata signature) internal view override returns (bool) {
        if (signature.length < WebAuthnP256.MIN_SIGNATURE_LENGTH) return false;
        (bytes32 qx, bytes32 qy) = WebAuthnP256.publicKey(signature);
        return _storage().deviceNext[keyIdOf(qx, qy)] != 0 && WebAuthnP256.verify(hash, signature);
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
        (bool wellFormed, bytes calldata authenticatorData, bytes calldata suffix) = WebAuthnP256.parse(signature);
        if (!wellFormed) revert PasskeyAccountMalformedSignature(signature.length);
        (bytes32 qx, bytes32 qy) = WebAuthnP256.publicKey(signature);
        bytes32 keyId = keyIdOf(qx, qy);
        if (_storage().deviceNext[keyId] == 0) revert PasskeyAccountUnknownDevice(keyId);
        if (!WebAuthnP256.userVerified(authenticatorData)) {
            revert PasskeyAccountUserVerificationRequired(WebAuthnP256.flags(authenticatorData));
        }
        if (!WebAuthnP256.verifyAssertion(digest, signature, authenticatorData, suffix)) {
            revert PasskeyAccountInvalidSignature(keyId, digest);
        }
    }

    /// @dev Marks `nonce` used; reverts if it already was.
    function _useNonce(uint256 nonce) private {
        mapping(uint256 => uint256) storage bitmap = _storage().nonceBitmap;
        bytes32 slot;
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, shr(8, nonce))
            mstore(0x20, bitmap.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
        uint256 bit = 1 << (nonce & 0xff);
        if (word & bit != 0) revert PasskeyAccountNonceUsed(nonce);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(slot, or(word, bit))
        }
    }

    /**
     * @dev Counts `requested` against `token`'s daily limit; reverts above it. The common case
     * (no scheduled raise) reads and writes the packed {DailyLimit} word once, by hand:
     * limit bits 0..95, spent 96..191, day 192..231, enabled byte 232..239, pending byte 240..247.
     */
    function _spend(address token, uint256 requested) private {
        mapping(address => DailyLimit) storage limits = _storage().limits;
        bytes32 slot;
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, token)
            mstore(0x20, limits.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
        if ((word >> 240) & 0xff != 0) return _spendWithPendingRaise(token, requested);
        if ((word >> 232) & 0xff == 0) return; // unlimited
        uint256 today = block.timestamp / 1 days;
        uint256 limit = word & type(uint96).max;
        uint256 spent = (word >> 192) & type(uint40).max == today ? (word >> 96) & type(uint96).max : 0;
        uint256 remaining = limit - spent; // spent <= limit always
        if (requested > remaining) revert PasskeyAccountDailyLimitExceeded(token, requested, remaining);
        // spent + requested <= limit < 2**96 and today < 2**40: the fields stay in place
        word = limit | ((spent + requested) << 96) | (today << 192) | (1 << 232);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(slot, word)
        }
    }

    /// @dev {_spend} when a raise is scheduled: applies it if it matured, then counts.
    function _spendWithPendingRaise(address token, uint256 requested) private {
        PasskeyAccountStorage storage $ = _storage();
        DailyLimit memory lim = _currentLimit($, token);
        if (!lim.pending) {
            delete $.pendingLimits[token];
            emit DailyLimitSet(token, lim.enabled ? lim.limit : type(uint256).max);
            if (!lim.enabled) {
                delete $.limits[token];
                return;
            }
        }
        uint40 today = uint40(block.timestamp / 1 days);
        uint256 spent = lim.day == today ? lim.spent : 0;
        uint256 remaining = lim.limit - spent;
        if (requested > remaining) revert PasskeyAccountDailyLimitExceeded(token, requested, remaining);
        lim.spent = uint96(spent + requested);
        lim.day = today;
        $.limits[token] = lim;
    }

    /// @dev `token`'s limit with a matured raise applied (not stored; emits nothing).
    function _currentLimit(PasskeyAccountStorage storage $, address token) private view returns (DailyLimit memory lim) {
        lim = $.limits[token];
        if (!lim.pending) return lim;
        PendingLimit memory p = $.pendingLimits[token];
        if (block.timestamp < uint256(p.since) + limitRaiseDelay) return lim;
        lim.pending = false;
        if (p.unlimited) {
            lim.enabled = false;
            lim.limit = 0;
            lim.spent = 0;
            lim.day = 0;
        } else {
            lim.limit = p.limit;
        }
    }

    function _isGuardian(PasskeyAccountStorage storage $, address who) private view returns (bool) {
        uint256 n = $.guardians.length;
        for (uint256 i = 0; i < n; ++i) {
            if ($.guardians[i] == who) return true;
        }
        return false;
    }

    function _addDevice(bytes32 qx, bytes32 qy) private {
        if (!P256.isValidPublicKey(qx, qy)) revert PasskeyAccountInvalidPublicKey(qx, qy);
        PasskeyAccountStorage storage $ = _storage();
        bytes32 keyId = keyIdOf(qx, qy);
        if ($.deviceNext[keyId] != 0) revert PasskeyAccountDeviceExists(keyId);
        if (_deviceCount($) >= MAX_DEVICES) revert PasskeyAccountTooManyDevices(MAX_DEVICES);
        bytes32 head = $.deviceNext[SENTINEL];
        $.deviceNext[keyId] = head == 0 ? SENTINEL : head;
        $.deviceNext[SENTINEL] = keyId;
        emit DeviceAdded(keyId, qx, qy);
    }

    function _removeDevice(bytes32 qx, bytes32 qy) private {
        PasskeyAccountStorage storage $ = _storage();
        bytes32 keyId = keyIdOf(qx, qy);
        bytes32 next = $.deviceNext[keyId];
        if (next == 0) revert PasskeyAccountUnknownDevice(keyId);
        bytes32 prev = SENTINEL;
        while ($.deviceNext[prev] != keyId) prev = $.deviceNext[prev];
        if (prev == SENTINEL && next == SENTINEL) revert PasskeyAccountLastDevice(keyId);
        $.deviceNext[prev] = next;
        delete $.deviceNext[keyId];
        emit DeviceRemoved(keyId);
    }

    function _deviceCount(PasskeyAccountStorage storage $) private view returns (uint256 n) {
        bytes32 k = $.deviceNext[SENTINEL];
        if (k == 0) return 0;
        while (k != SENTINEL) {
            ++n;
            k = $.deviceNext[k];
        }
    }

    function _storage() private pure returns (PasskeyAccountStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := STORAGE_SLOT
        }
    }
}
