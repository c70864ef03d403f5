// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {TransferAuthorizations} from "./TransferAuthorizations.sol";
import {AccountWord} from "./AccountWord.sol";

/**
 * @title Payments
 * @notice Payments that carry a merchant's reference (an invoice id, an order
 * hash, a Solana-Pay-style reference key), merchant fees, and batch settlement
 * of signed payment authorizations.
 *
 * Every payment emits, next to its {Transfer}s, one {Payment} event with the
 * reference indexed, so a merchant finds the payment for an invoice with one
 * `eth_getLogs` filter and trusts nothing but the chain. The currency is the
 * emitting token.
 *
 * A merchant's fee (basis points, at most {MAX_FEE_BPS}, set by the admin)
 * is taken from what the merchant receives: the payer pays `amount`, the
 * merchant gets `amount - fee`, the fee collector gets `fee`, where
 * `fee = floor(amount * bps / 10_000)` (rounded down, in the merchant's favour).
 *
 * Ways to pay: {pay} (the payer sends), {payWithTip} (the payer sends and
 * tips its relayer in the same call), {payFrom} (a spender uses an
 * allowance), {payWithPermit} (EIP-2612 permit and payment in one call),
 * {payWithAuthorization} (the payer's signed PayWithAuthorization, relayed by
 * anyone) and {settlePayments} (many PayWithAuthorizations in one
 * transaction, each succeeding or failing on its own, or all-or-nothing).
 *
 * PayWithAuthorization nonces are Permit2-style unordered nonces: bit
 * `nonce & 255` of the word `nonceBitmap(payer, nonce >> 8)`. A payer who
 * paid before sets a bit in a word that is already non-zero, which is what
 * makes batch settlement cheap.
 *
 * @dev ERC-7201 namespace `oriole.storage.Payments`. Merchant fees live in the
 * merchant's {AccountWord}.
 */
abstract contract Payments is TransferAuthorizations {
    using AccountWord for uint256;

    /// @notice A signed payment: `from` pays `value` to `to` for `ref` (the signed field `reference`),
    /// valid strictly between `validAfter` and `validBefore`, once (`nonce`).
    struct PaymentAuthorization {
        address from;
        address to;
        uint256 value;
        bytes32 ref;
        uint256 validAfter;
        uint256 validBefore;
        uint256 nonce;
        bytes signature;
    }

    /// @notice Why an item of {settlePayments} was not settled.
    enum SettlementFailure {
        None,
        NotYetValid,
        Expired,
        NonceUsed,
        InvalidPayee,
        PayerFrozen,
        PayeeFrozen,
        InsufficientBalance,
        FeeCollectorFrozen,
        InvalidSignature
    }

    /// @custom:storage-location erc7201:oriole.storage.Payments
    struct PaymentsStorage {
        mapping(address owner => mapping(uint256 wordPos => uint256)) nonceBitmap;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.Payments")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant PAYMENTS_STORAGE = 0x8b39b628d4cb4ea363354fbb5ae3bee5c10e89466d25819d0e8850ad5a7b4b00;

    /// @notice Highest merchant fee: 10%.
    uint256 public constant MAX_FEE_BPS = 1_000;
    uint256 private constant BPS = 10_000;

    /// @notice keccak256 of the PayWithAuthorization type.
    bytes32 public constant PAY_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "PayWithAuthorization(address from,address to,uint256 value,bytes32 reference,uint256 validAfter,uint256 validBefore,uint256 nonce)"
    );

    /// @notice `payer` paid `amount` to `payee` for `ref`; `fee` of it went to the fee collector.
    event Payment(bytes32 indexed ref, address indexed payer, address indexed payee, uint256 amount, uint256 fee);
    /// @notice Item `index` of a batch (payer `payer`, `nonce`) was not settled, because of `reason`.
    event PaymentFailed(
        uint256 index,
        bytes32 indexed ref,
        address indexed payer,
        address indexed payee,
        uint256 nonce,
        SettlementFailure reason
    );
    /// @notice The admin set `merchant`'s fee from `previousBps` to `bps`.
    event MerchantFeeSet(address indexed merchant, uint256 previousBps, uint256 bps);
    /// @notice `owner` invalidated the PayWithAuthorization nonces in `mask` of word `wordPos`.
    event NoncesInvalidated(address indexed owner, uint256 indexed wordPos, uint256 mask);

    /// @notice `bps` is above the highest fee `maxBps`.
    error StableTokenFeeTooHigh(uint256 bps, uint256 maxBps);
    /// @notice `payer`'s PayWithAuthorization `nonce` was already used or invalidated.
    error StableTokenPaymentNonceUsed(address payer, uint256 nonce);
    /// @notice All-or-nothing settlement stopped at item `index` because of `reason`.
    error StableTokenSettlementFailed(uint256 index, SettlementFailure reason);

    function _payments() private pure returns (PaymentsStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := PAYMENTS_STORAGE
        }
    }

    // ---------------------------------------------------------------- fees

    /// @notice `merchant`'s fee in basis points.
    function merchantFee(address merchant) external view returns (uint256) {
        return _accountWord(merchant).feeBps();
    }

    /// @notice The fee and the merchant's net for a payment of `amount` to `merchant`.
    function quoteFee(address merchant, uint256 amount) external view returns (uint256 fee, uint256 net) {
        fee = _feeOf(amount, _accountWord(merchant).feeBps());
        net = amount - fee;
    }

    /**
     * @notice Sets `merchant`'s fee to `bps` basis points (0 removes it).
     * @dev Only the admin. At most {MAX_FEE_BPS}. Emits {MerchantFeeSet}.
     */
    function setMerchantFee(address merchant, uint256 bps) external onlyRole(Role.Admin) {
        if (bps > MAX_FEE_BPS) revert StableTokenFeeTooHigh(bps, MAX_FEE_BPS);
        uint256 word = _accountWord(merchant);
        _setAccountWord(merchant, word.withFeeBps(bps));
        emit MerchantFeeSet(merchant, word.feeBps(), bps);
    }

    // ---------------------------------------------------------------- paying

    /**
     * @notice Pays `value` to `to` for `ref`, from the caller.
     * @dev Like {transfer}, plus the merchant fee and a {Payment} event.
     */
    function pay(address to, uint256 value, bytes32 ref) external returns (bool) {
        _pay(msg.sender, to, value, ref);
        return true;
    }

    /**
     * @notice Pays `value` to `to` for `ref`, and `tip` to `tipRecipient`, from the caller:
     * {pay} followed by a {transfer} of `tip` (none when `tip` is 0), in one call.
     * @dev For relayed payments (a passkey account paying its relayer's fee): one call
     * instead of two. Emits, in order, the payment's {Transfer}s and {Payment}, then the
     * tip's {Transfer}, so the tip never looks like part of the payment. Refused while
     * paused, when any party is frozen, and unless the balance covers `value + tip`.
     */
    function payWithTip(address to, uint256 value, bytes32 ref, address tipRecipient, uint256 tip)
        external
        returns (bool)
    {
        address from = msg.sender;
        if (tip == 0) {
            _pay(from, to, value, ref);
        } else if (_payAndTipDirectly(from, to, value, tipRecipient, tip)) {
            emit Transfer(from, to, value);
            emit Payment(ref, from, to, value, 0);
            emit Transfer(from, tipRecipient, tip);
        } else {
            // the general path: a merchant fee, or parties that share an account word
            uint256 needed = value + tip;
            uint256 balance = balanceOf(from);
            if (balance < needed) revert ERC20InsufficientBalance(from, balance, needed);
            _pay(from, to, value, ref);
            _transfer(from, tipRecipient, tip);
        }
        return true;
    }

    /**
     * @notice Pays `value` from `from` to `to` for `ref`, using the caller's allowance.
     * @dev Like {transferFrom}, plus the merchant fee and a {Payment} event.
     */
    function payFrom(address from, address to, uint256 value, bytes32 ref) external returns (bool) {
        _spendAllowance(from, msg.sender, value);
        _pay(from, to, value, ref);
        return true;
    }

    /**
     * @notice Applies `from`'s EIP-2612 permit of `value` to the caller, then
     * pays `value` from `from` to `to` for `ref` with it.
     * @dev The permit names the caller as spender; the caller chooses `to`.
     * Contract wallets receive `r ‖ s ‖ v` through ERC-1271.
     */
    function payWithPermit(
        address from,
        address to,
        uint256 value,
        bytes32 ref,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bool) {
        _requireValidSignature(from, _usePermitNonce(from, msg.sender, value, deadline), v, r, s);
        _approve(from, msg.sender, value);
        _spendAllowance(from, msg.sender, value);
        _pay(from, to, value, ref);
        return true;
    }

    /**
     * @notice Settles one signed PayWithAuthorization; anyone may submit it.
     * @dev Reverts with the precise reason. Emits {Transfer}s and {Payment}.
     */
    function payWithAuthorization(PaymentAuthorization calldata auth) external {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp <= auth.validAfter) {
            revert StableTokenAuthorizationNotYetValid(auth.validAfter, block.timestamp);
        }
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp >= auth.validBefore) {
            revert StableTokenAuthorizationExpired(auth.validBefore, block.timestamp);
        }
        address from = auth.from;
        address to = auth.to;
        if (!_tryUseNonce(from, auth.nonce)) revert StableTokenPaymentNonceUsed(from, auth.nonce);
        _requireValidSignature(from, _paymentDigest(auth, _domainSeparator()), auth.signature);
        _pay(from, to, auth.value, auth.ref);
    }

    /**
     * @notice Settles many signed PayWithAuthorizations in one transaction,
     * e.g. the offline payment codes a merchant collected.
     * @param auths The authorizations; anyone may submit them.
     * @param atomic If true, the first item that cannot be settled reverts the
     * whole call with {StableTokenSettlementFailed}. If false, such items are
     * skipped with a {PaymentFailed} event and the others are settled.
     * @return settled How many items were settled.
     * @dev Refused as a whole while paused. A contract signer's ERC-1271 check
     * runs with the gas left: simulate a batch before sending it.
     */
    function settlePayments(PaymentAuthorization[] calldata auths, bool atomic) external returns (uint256 settled) {
        _requireNotPaused();
        bytes32 domainSeparator = _domainSeparator();
        uint256 n = auths.length;
        for (uint256 i = 0; i < n; ++i) {
            PaymentAuthorization calldata auth = auths[i];
            SettlementFailure reason = _settleOne(auth, domainSeparator);
            if (reason == SettlementFailure.None) {
                ++settled;
            } else if (atomic) {
                revert StableTokenSettlementFailed(i, reason);
            } else {
                emit PaymentFailed(i, auth.ref, auth.from, auth.to, auth.nonce, reason);
            }
        }
    }

    // ---------------------------------------------------------------- nonces

    /// @notice The PayWithAuthorization nonce bitmap word `wordPos` of `owner`.
    function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256) {
        return _payments().nonceBitmap[owner][wordPos];
    }

    /// @notice Whether `owner`'s PayWithAuthorization `nonce` was used or invalidated.
    function isPaymentNonceUsed(address owner, uint256 nonce) external view returns (bool) {
        (,, uint256 bitmap) = _nonceBit(owner, nonce);
        return bitmap & (1 << (nonce & 0xff)) != 0;
    }

    /**
     * @notice Invalidates the caller's PayWithAuthorization nonces whose bits are set in `mask` of word `wordPos`.
     * @dev Allowed while paused or frozen: it only takes power away. Emits {NoncesInvalidated}.
     */
    function invalidateNonces(uint256 wordPos, uint256 mask) external {
        _payments().nonceBitmap[msg.sender][wordPos] |= mask;
        emit NoncesInvalidated(msg.sender, wordPos, mask);
    }

    // ---------------------------------------------------------------- internal

    /// @dev floor(amount * bps / 10_000) without overflow for any amount.
    function _feeOf(uint256 amount, uint256 bps) internal pure returns (uint256) {
        if (bps == 0) return 0;
        return (amount / BPS) * bps + ((amount % BPS) * bps) / BPS;
    }

    function _pay(address from, address to, uint256 value, bytes32 ref) internal {
        uint256 fee = _feeOf(value, _accountWord(to).feeBps());
        if (fee == 0) {
            _transfer(from, to, value);
        } else {
            uint256 fromBalance = balanceOf(from);
            if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
            unchecked {
                _transfer(from, to, value - fee);
            }
            _update(from, feeCollector(), fee);
        }
        emit Payment(ref, from, to, value, fee);
    }

    /**
     * @dev {payWithTip}'s common case (no merchant fee, three distinct accounts): makes the checks
     * {_update} makes and writes the three account words once each, without the events. Returns
     * false, having changed nothing, when the case is not the common one.
     */
    function _payAndTipDirectly(address from, address to, uint256 value, address tipRecipient, uint256 tip)
        private
        returns (bool)
    {
        if (to == address(0) || tipRecipient == address(0)) revert ERC20InvalidReceiver(address(0));
        bytes32 fromSlot = _accountSlot(from);
        bytes32 toSlot = _accountSlot(to);
        bytes32 tipSlot = _accountSlot(tipRecipient);
        uint256 fromWord;
        uint256 toWord;
        uint256 tipWord;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            fromWord := sload(fromSlot)
            toWord := sload(toSlot)
            tipWord := sload(tipSlot)
        }
        if (toWord.feeBps() != 0 || from == to || from == tipRecipient || to == tipRecipient) return false;
        _requireNotPaused();
        if (fromWord.isFrozen()) revert StableTokenAccountFrozen(from);
        if (toWord.isFrozen()) revert StableTokenAccountFrozen(to);
        if (tipWord.isFrozen()) revert StableTokenAccountFrozen(tipRecipient);
        uint256 total = value + tip;
        if (fromWord.balance() < total) revert ERC20InsufficientBalance(from, fromWord.balance(), total);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // total <= balance: no borrow; each credit goes to a distinct account, so
            // balance + credit <= totalSupply <= MAX_BALANCE: no carry (see AccountWord).
            sstore(fromSlot, sub(fromWord, total))
            sstore(toSlot, add(toWord, value))
            sstore(tipSlot, add(tipWord, tip))
        }
        return true;
    }

    /// @dev The EIP-712 digest of `auth` (its first seven fields are the signed struct, in order).
    function _paymentDigest(PaymentAuthorization calldata auth, bytes32 domainSeparator)
        private
        pure
        returns (bytes32 digest)
    {
        bytes32 typehash = PAY_WITH_AUTHORIZATION_TYPEHASH;
        // Addresses in `auth` were validated (clean upper bits) by the caller's reads of auth.from and auth.to.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            calldatacopy(add(ptr, 0x20), auth, 0xe0)
            let structHash := keccak256(ptr, 0x100)
            mstore(ptr, 0x1901)
            mstore(add(ptr, 0x20), domainSeparator)
            mstore(add(ptr, 0x40), structHash)
            digest := keccak256(add(ptr, 0x1e), 0x42)
        }
    }

    function _nonceBit(address owner, uint256 nonce) private view returns (uint256 wordPos, uint256 bit, uint256 bitmap) {
        wordPos = nonce >> 8;
        bit = 1 << (nonce & 0xff);
        bitmap = _payments().nonceBitmap[owner][wordPos];
    }

    /// @dev Marks `owner`'s `nonce` used; false if it already was.
    function _tryUseNonce(address owner, uint256 nonce) private returns (bool fresh) {
        mapping(uint256 => uint256) storage bitmaps = _payments().nonceBitmap[owner];
        bytes32 slot;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, shr(8, nonce))
            mstore(0x20, bitmaps.slot)
            slot := keccak256(0x00, 0x40)
            let bitmap := sload(slot)
            let bit := shl(and(nonce, 0xff), 1)
            fresh := iszero(and(bitmap, bit))
            if fresh { sstore(slot, or(bitmap, bit)) }
        }
    }

    /**
     * @dev Checks one batch item without reverting and settles it if every
     * check passes. The common case (no fee, payer != payee) writes the two
     * account words directly: the same checks as {_update} were just made on
     * the same words, and the pause flag once for the whole batch.
     */
    function _settleOne(PaymentAuthorization calldata auth, bytes32 domainSeparator)
        private
        returns (SettlementFailure)
    {
        address from = auth.from;
        address to = auth.to;
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp <= auth.validAfter) return SettlementFailure.NotYetValid;
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp >= auth.validBefore) return SettlementFailure.Expired;
        if (to == address(0)) return SettlementFailure.InvalidPayee;
        bytes32 fromSlot = _accountSlot(from);
        bytes32 toSlot = _accountSlot(to);
        uint256 fromWord;
        uint256 toWord;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            fromWord := sload(fromSlot)
            toWord := sload(toSlot)
        }
        if (fromWord.isFrozen()) return SettlementFailure.PayerFrozen;
        if (toWord.isFrozen()) return SettlementFailure.PayeeFrozen;
        uint256 value = auth.value;
        if (fromWord.balance() < value) return SettlementFailure.InsufficientBalance;
        uint256 fee = _feeOf(value, toWord.feeBps());
        if (fee != 0 && isFrozen(feeCollector())) return SettlementFailure.FeeCollectorFrozen;
        if (!_isValidSignatureCalldata(from, _paymentDigest(auth, domainSeparator), auth.signature)) {
            return SettlementFailure.InvalidSignature;
        }
        // Last check, and the only state change before the payment itself.
        if (!_tryUseNonce(from, auth.nonce)) return SettlementFailure.NonceUsed;
        if (fee != 0 || from == to) {
            _pay(from, to, value, auth.ref);
        } else {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                // value <= balance: no borrow; balance + value <= totalSupply: no carry (see AccountWord).
                sstore(fromSlot, sub(fromWord, value))
                sstore(toSlot, add(toWord, value))
            }
            emit Transfer(from, to, value);
            emit Payment(auth.ref, from, to, value, 0);
        }
        return SettlementFailure.None;
    }
}
