// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC3009Receive} from "../escrow/IERC3009Receive.sol";

/**
 * @title OfflineVault
 * @notice Offline payments with bounded risk. A payer reserves an offline
 * allowance per token (the tokens move into this vault); while offline the
 * payer's phone signs short-lived payment codes (EIP-712 `OfflinePayment`
 * under this vault's domain: ECDSA for EOAs, ERC-1271 for smart accounts such
 * as passkey accounts), the merchant verifies them offline against the
 * allowance it last synced and, once online, settles everything it collected
 * with {settle}.
 *
 * THE GUARANTEE ("a code accepted within the allowance cannot bounce").
 * Let a merchant read the payer's state for a token at time `tSync`:
 * `balance`, `debt` and a pending withdrawal of `pending` (0 if none). Call
 * `free = balance - debt - pending` (0 if negative). If the merchant then
 * accepts codes from that payer, to itself, for that token, with
 *   (1) a valid signature, an unused nonce (for that payer and merchant) and
 *       validAfter < now < validBefore, validBefore - validAfter <= MAX_VALIDITY;
 *   (2) their sum <= `free` minus what OTHER merchants settle from the same
 *       reserve (zero unless the payer double-spends, see below);
 *   (3) each submitted to {settle} before `validBefore + SETTLEMENT_WINDOW`
 *       and before `tSync + WITHDRAWAL_DELAY`;
 * then every such code settles in full. Why: the reserve only decreases by
 * settled codes and by withdrawals; a withdrawal requested after `tSync`
 * executes at `>= tSync + WITHDRAWAL_DELAY`, and one pending at `tSync` was
 * subtracted. WITHDRAWAL_DELAY > MAX_VALIDITY + SETTLEMENT_WINDOW, so a
 * merchant whose sync is at most `WITHDRAWAL_DELAY - MAX_VALIDITY -
 * SETTLEMENT_WINDOW` old when it accepts a code meets (3) by settling within
 * the code's window. Nonces are per (payer, merchant): reusing a nonce towards
 * another merchant yields two codes that both draw on the reserve, so nonce
 * reuse is just another way of spending beyond the allowance, and the
 * merchant's verifier refuses a nonce it already accepted from that payer.
 * Only the merchant a code pays can settle it: otherwise a payer could burn
 * the nonce of a code a merchant holds with a smaller code of its own (same
 * payer, merchant and nonce) submitted first. So a code the merchant holds
 * fails with `NonceUsed` only if that very code was settled before.
 * The guarantee assumes the token lets the vault pay the merchant (the
 * issuer has not paused the token or frozen the vault or the merchant).
 *
 * DOUBLE-SPENDING beyond the allowance (codes from one payer, to one or
 * several merchants, totalling more than the reserve). Codes settle in arrival
 * order (batch order within a transaction). A code whose amount exceeds what
 * is free (`balance - debt`) BOUNCES with `AllowanceExhausted`: it is paid
 * what is free (possibly 0), the rest (`shortfall`) becomes an on-chain claim
 * keyed by the code's EIP-712 digest and is added to the payer's `debt`
 * ({OfflinePaymentBounced}, {PayerDefaulted}). While `debt > 0` the payer is
 * in default ({isDefaulted}): withdrawals are refused, merchants' verifiers
 * refuse the payer's codes, and fresh codes only draw on `balance - debt`.
 * Reserving stays open in default, because it is how the payer repays:
 * re-submitting a bounced code to {settle} (at any time: claims do not
 * expire) pays its claim from the balance, claims in the order they are
 * re-submitted ({ClaimPaid}).
 *
 * @dev No owner, no upgrades. Amounts are uint128 (a code for more fails
 * with `InvalidAmount`). The payout of a batch is aggregated per
 * (merchant, token), i.e. one token transfer per token per batch.
 */
contract OfflineVault is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice A payment code, as the payer's phone signed it (the first seven fields are the signed struct).
    struct OfflineCode {
        address payer;
        address merchant;
        address token;
        uint256 amount;
        uint256 nonce;
        uint256 validAfter;
        uint256 validBefore;
        bytes signature;
    }

    /// @notice Why a code of {settle} was not settled (or, for AllowanceExhausted, not in full).
    enum Failure {
        None,
        InvalidAmount,
        NotMerchant,
        NotYetValid,
        ValidityTooLong,
        SettlementWindowClosed,
        NonceUsed,
        InvalidSignature,
        AllowanceExhausted
    }

    /// @dev A payer's reserve of one token; `balance` and `debt` share the slot {settle} reads.
    struct Reserve {
        uint128 balance;
        uint128 debt;
        uint128 pendingWithdrawal;
        uint64 unlockAt;
    }

    /// @dev One (merchant, token) payout of a batch.
    struct Payout {
        address merchant;
        address token;
        uint256 amount;
    }

    /// @notice keccak256 of the OfflinePayment type.
    bytes32 public constant OFFLINE_PAYMENT_TYPEHASH = keccak256(
        "OfflinePayment(address payer,address merchant,address token,uint256 amount,uint256 nonce,uint256 validAfter,uint256 validBefore)"
    );
    /// @notice keccak256 of the WithdrawalRequest type (for payers that sign rather than call, e.g. passkey accounts).
    bytes32 public constant WITHDRAWAL_REQUEST_TYPEHASH =
        keccak256("WithdrawalRequest(address payer,address token,uint256 amount,uint256 nonce,uint256 deadline)");

    /// @notice Longest validity of a code: `validBefore - validAfter`, in seconds.
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable MAX_VALIDITY;
    /// @notice Seconds after `validBefore` during which a code can still be settled.
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable SETTLEMENT_WINDOW;
    /// @notice Notice, in seconds, between a withdrawal request and the withdrawal.
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable WITHDRAWAL_DELAY;

    mapping(address payer => mapping(address token => Reserve)) private _reserves;
    mapping(address payer => mapping(address merchant => mapping(uint256 wordPos => uint256))) private _nonceBitmaps;
    mapping(bytes32 codeHash => uint256 remaining) private _claims;
    mapping(address payer => uint256) private _withdrawalNonces;

    /// @notice `payer` reserved `amount` of `token`; its reserve is now `balance`.
    event Reserved(address indexed payer, address indexed token, uint256 amount, uint256 balance);
    /// @notice `payer` asked to withdraw `amount` of `token` at `unlockAt` (0 and 0: request cancelled).
    event WithdrawalRequested(address indexed payer, address indexed token, uint256 amount, uint256 unlockAt);
    /// @notice `amount` of `payer`'s `token` reserve went back to `payer`.
    event Withdrawn(address indexed payer, address indexed token, uint256 amount);
    /// @notice The code (`payer`, `merchant`, `nonce`) paid `amount` of `token`.
    event OfflinePaymentSettled(
        address indexed payer, address indexed merchant, address indexed token, uint256 nonce, uint256 amount
    );
    /// @notice Code `index` of a batch (`payer`, `merchant`, `nonce`) was not settled, because of `reason`.
    event OfflinePaymentFailed(
        uint256 index, address indexed payer, address indexed merchant, uint256 nonce, Failure reason
    );
    /// @notice The code `codeHash` went beyond `payer`'s reserve: `paid` was paid, `shortfall` is now a claim.
    event OfflinePaymentBounced(
        bytes32 indexed codeHash,
        address indexed payer,
        address indexed merchant,
        address token,
        uint256 nonce,
        uint256 paid,
        uint256 shortfall
    );
    /// @notice `payer` owes `debt` of `token` to merchants whose codes bounced.
    event PayerDefaulted(address indexed payer, address indexed token, uint256 debt);
    /// @notice `amount` of the bounced code `codeHash`'s claim was paid; `remaining` is still owed.
    event ClaimPaid(bytes32 indexed codeHash, address indexed payer, address indexed merchant, uint256 amount, uint256 remaining);

    /// @notice The delays do not satisfy WITHDRAWAL_DELAY > MAX_VALIDITY + SETTLEMENT_WINDOW (all non-zero).
    error OfflineVaultInvalidDelays(uint256 maxValidity, uint256 settlementWindow, uint256 withdrawalDelay);
    /// @notice The amount is zero or above uint128.
    error OfflineVaultInvalidAmount(uint256 amount);
    /// @notice `payer` owes `debt` of `token`: withdrawals wait until it is repaid.
    error OfflineVaultPayerDefaulted(address payer, address token, uint256 debt);
    /// @notice `payer` has no withdrawal of `token` pending.
    error OfflineVaultNoWithdrawal(address payer, address token);
    /// @notice The withdrawal unlocks at `unlockAt`; it is now `timestamp`.
    error OfflineVaultWithdrawalLocked(uint256 unlockAt, uint256 timestamp);
    /// @notice The signed request expired at `deadline`.
    error OfflineVaultExpired(uint256 deadline, uint256 timestamp);
    /// @notice `signer` did not sign this request.
    error OfflineVaultInvalidSignature(address signer);

    /**
     * @param maxValidity longest `validBefore - validAfter` of a code, seconds (e.g. 24 h)
     * @param settlementWindow seconds after `validBefore` during which a code settles (e.g. 3 days)
     * @param withdrawalDelay notice of a withdrawal, > maxValidity + settlementWindow (e.g. 7 days)
     */
    constructor(uint256 maxValidity, uint256 settlementWindow, uint256 withdrawalDelay)
        EIP712("Oriole OfflineVault", "1")
    {
        // solhint-disable-next-line gas-strict-inequalities
        if (maxValidity == 0 || settlementWindow == 0 || withdrawalDelay <= maxValidity + settlementWindow) {
            revert OfflineVaultInvalidDelays(maxValidity, settlementWindow, withdrawalDelay);
        }
        MAX_VALIDITY = maxValidity;
        SETTLEMENT_WINDOW = settlementWindow;
        WITHDRAWAL_DELAY = withdrawalDelay;
    }

    // ---------------------------------------------------------------- reserving

    /**
     * @notice Moves `amount` of `token` from the caller (who approved this vault) into its offline reserve.
     * @dev Allowed while in default: it is how a payer repays (claims are paid from the balance).
     * Credits what actually arrived. Emits {Reserved}.
     */
    function reserve(address token, uint256 amount) external nonReentrant {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        _credit(msg.sender, token, IERC20(token).balanceOf(address(this)) - before);
    }

    /**
     * @notice Reserves `amount` of `token` for `from` on `from`'s signed ERC-3009
     * ReceiveWithAuthorization to this vault; anyone may submit it. The way in for
     * passkey accounts, which sign (ERC-1271) but cannot make arbitrary calls.
     * @dev Emits {Reserved}.
     */
    function reserveWithAuthorization(
        address token,
        address from,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external nonReentrant {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC3009Receive(token).receiveWithAuthorization(
            from, address(this), amount, validAfter, validBefore, nonce, signature
        );
        _credit(from, token, IERC20(token).balanceOf(address(this)) - before);
    }

    // ---------------------------------------------------------------- withdrawing

    /**
     * @notice Asks to withdraw `amount` of the caller's `token` reserve after WITHDRAWAL_DELAY.
     * @dev Replaces any pending request and restarts the delay; `amount` 0 cancels. Emits {WithdrawalRequested}.
     */
    function requestWithdrawal(address token, uint256 amount) external {
        _requestWithdrawal(msg.sender, token, amount);
    }

    /**
     * @notice {requestWithdrawal} on `payer`'s signed EIP-712 `WithdrawalRequest` (ECDSA or ERC-1271);
     * anyone may submit it.
     * @dev The request's nonce is {withdrawalNonce}`(payer)`, used once.
     */
    function requestWithdrawalWithSig(
        address payer,
        address token,
        uint256 amount,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp > deadline) revert OfflineVaultExpired(deadline, block.timestamp);
        uint256 nonce = _withdrawalNonces[payer]++;
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(WITHDRAWAL_REQUEST_TYPEHASH, payer, token, amount, nonce, deadline))
        );
        if (!SignatureChecker.isValidSignatureNowCalldata(payer, digest, signature)) {
            revert OfflineVaultInvalidSignature(payer);
        }
        _requestWithdrawal(payer, token, amount);
    }

    /**
     * @notice Pays `payer`'s unlocked withdrawal of `token` (at most its balance) back to `payer`.
     * Anyone may call it: the tokens only ever go to `payer`.
     * @dev Refused while `payer` is in default. Emits {Withdrawn}.
     */
    function withdraw(address payer, address token) external nonReentrant returns (uint256 amount) {
        Reserve storage r = _reserves[payer][token];
        uint256 unlockAt = r.unlockAt;
        if (unlockAt == 0) revert OfflineVaultNoWithdrawal(payer, token);
        if (block.timestamp < unlockAt) revert OfflineVaultWithdrawalLocked(unlockAt, block.timestamp);
        if (r.debt != 0) revert OfflineVaultPayerDefaulted(payer, token, r.debt);
        amount = r.pendingWithdrawal;
        if (amount > r.balance) amount = r.balance;
        r.balance -= uint128(amount);
        r.pendingWithdrawal = 0;
        r.unlockAt = 0;
        emit Withdrawn(payer, token, amount);
        IERC20(token).safeTransfer(payer, amount);
    }

    // ---------------------------------------------------------------- settling

    /**
     * @notice Settles offline payment codes; only the merchant each code pays may submit it.
     * Each code succeeds or fails on its own, in order:
     * - failed ({OfflinePaymentFailed} with the reason; nothing changes for that code):
     *   InvalidAmount (0 or > uint128), NotMerchant (the caller is not the code's merchant), NotYetValid,
     *   ValidityTooLong, SettlementWindowClosed (now >= validBefore + SETTLEMENT_WINDOW),
     *   NonceUsed (settled before, and no claim left), InvalidSignature;
     * - settled ({OfflinePaymentSettled});
     * - bounced beyond the reserve ({OfflinePaymentBounced}, {PayerDefaulted}): see the contract's notice;
     * - a bounced code submitted again pays what it can of its claim ({ClaimPaid}), or fails with
     *   AllowanceExhausted when nothing is free.
     * @return settled How many codes paid something.
     * @dev The payouts are summed per (merchant, token) and transferred once each, at the end.
     * A contract payer's ERC-1271 check runs with the gas left: simulate a batch before sending it.
     */
    function settle(OfflineCode[] calldata codes) external nonReentrant returns (uint256 settled) {
        uint256 n = codes.length;
        Payout[] memory payouts = new Payout[](n);
        uint256 payoutCount = 0;
        for (uint256 i = 0; i < n; ++i) {
            OfflineCode calldata code = codes[i];
            (Failure reason, uint256 paid) = _settleOne(code);
            if (paid != 0) {
                ++settled;
                payoutCount = _addPayout(payouts, payoutCount, code.merchant, code.token, paid);
            }
            if (reason != Failure.None) emit OfflinePaymentFailed(i, code.payer, code.merchant, code.nonce, reason);
        }
        for (uint256 j = 0; j < payoutCount; ++j) {
            Payout memory p = payouts[j];
            IERC20(p.token).safeTransfer(p.merchant, p.amount);
        }
    }

    // ---------------------------------------------------------------- views

    /// @notice `payer`'s reserve of `token`: balance, debt, pending withdrawal and when it unlocks (0: none).
    function reserveOf(address payer, address token)
        external
        view
        returns (uint256 balance, uint256 debt, uint256 pendingWithdrawal, uint256 unlockAt)
    {
        Reserve storage r = _reserves[payer][token];
        return (r.balance, r.debt, r.pendingWithdrawal, r.unlockAt);
    }

    /// @notice Whether `payer` owes merchants `token` for bounced codes.
    function isDefaulted(address payer, address token) external view returns (bool) {
        return _reserves[payer][token].debt != 0;
    }

    /// @notice The nonce bitmap word `wordPos` of `payer`'s codes to `merchant`.
    function nonceBitmap(address payer, address merchant, uint256 wordPos) external view returns (uint256) {
        return _nonceBitmaps[payer][merchant][wordPos];
    }

    /// @notice Whether `payer`'s code nonce `nonce` to `merchant` was used.
    function isNonceUsed(address payer, address merchant, uint256 nonce) external view returns (bool) {
        return _nonceBitmaps[payer][merchant][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @notice What is still owed for the bounced code `codeHash` (0: none, or paid).
    function claimOf(bytes32 codeHash) external view returns (uint256) {
        return _claims[codeHash];
    }

    /// @notice The nonce of `payer`'s next signed WithdrawalRequest.
    function withdrawalNonce(address payer) external view returns (uint256) {
        return _withdrawalNonces[payer];
    }

    /// @notice The EIP-712 digest of `code` (its `codeHash`): what the payer signs.
    function hashCode(OfflineCode calldata code) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    OFFLINE_PAYMENT_TYPEHASH,
                    code.payer,
                    code.merchant,
                    code.token,
                    code.amount,
                    code.nonce,
                    code.validAfter,
                    code.validBefore
                )
            )
        );
    }

    /// @notice The EIP-712 domain separator (chain id and this vault's address).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internal

    function _credit(address payer, address token, uint256 amount) private {
        if (amount == 0 || amount > type(uint128).max) revert OfflineVaultInvalidAmount(amount);
        Reserve storage r = _reserves[payer][token];
        uint256 balance = uint256(r.balance) + amount;
        if (balance > type(uint128).max) revert OfflineVaultInvalidAmount(amount);
        r.balance = uint128(balance);
        emit Reserved(payer, token, amount, balance);
    }

    function _requestWithdrawal(address payer, address token, uint256 amount) private {
        if (amount > type(uint128).max) revert OfflineVaultInvalidAmount(amount);
        Reserve storage r = _reserves[payer][token];
        uint256 unlockAt = amount == 0 ? 0 : block.timestamp + WITHDRAWAL_DELAY;
        r.pendingWithdrawal = uint128(amount);
        r.unlockAt = uint64(unlockAt);
        emit WithdrawalRequested(payer, token, amount, unlockAt);
    }

    /// @dev Checks and settles one code; never reverts. Returns the failure (None if paid in full) and what was paid.
    function _settleOne(OfflineCode calldata code) private returns (Failure, uint256) {
        Failure invalid = _checkFields(code);
        if (invalid != Failure.None) return (invalid, 0);
        bytes32 codeHash = hashCode(code);
        mapping(uint256 => uint256) storage bitmaps = _nonceBitmaps[code.payer][code.merchant];
        uint256 nonce = code.nonce;
        uint256 bitmap = bitmaps[nonce >> 8];
        uint256 bit = 1 << (nonce & 0xff);
        if (bitmap & bit != 0) return _payClaim(codeHash, code);
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp >= code.validBefore + SETTLEMENT_WINDOW) return (Failure.SettlementWindowClosed, 0);
        if (!_isValidSignature(code.payer, codeHash, code.signature)) return (Failure.InvalidSignature, 0);
        bitmaps[nonce >> 8] = bitmap | bit;
        return _draw(codeHash, code);
    }

    /// @dev The checks that need no storage: amount, merchant, validity.
    function _checkFields(OfflineCode calldata code) private view returns (Failure) {
        uint256 amount = code.amount;
        if (amount == 0 || amount > type(uint128).max) return Failure.InvalidAmount;
        if (code.merchant != msg.sender) return Failure.NotMerchant;
        uint256 validAfter = code.validAfter;
        uint256 validBefore = code.validBefore;
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp <= validAfter) return Failure.NotYetValid;
        if (validBefore < validAfter || validBefore - validAfter > MAX_VALIDITY) return Failure.ValidityTooLong;
        return Failure.None;
    }

    /// @dev Pays a fresh, valid code from what is free of the payer's reserve; bounces the rest.
    function _draw(bytes32 codeHash, OfflineCode calldata code) private returns (Failure, uint256) {
        Reserve storage r = _reserves[code.payer][code.token];
        uint256 amount = code.amount;
        uint256 balance = r.balance;
        uint256 debt = r.debt;
        uint256 free = balance > debt ? balance - debt : 0;
        if (amount <= free) {
            r.balance = uint128(balance - amount);
            emit OfflinePaymentSettled(code.payer, code.merchant, code.token, code.nonce, amount);
            return (Failure.None, amount);
        }
        uint256 shortfall = amount - free;
        r.balance = uint128(balance - free);
        r.debt = uint128(debt + shortfall);
        _claims[codeHash] = shortfall;
        emit OfflinePaymentBounced(codeHash, code.payer, code.merchant, code.token, code.nonce, free, shortfall);
        emit PayerDefaulted(code.payer, code.token, debt + shortfall);
        return (Failure.AllowanceExhausted, free);
    }

    /// @dev A code whose nonce is used: pays what the reserve can of its claim, if it has one.
    function _payClaim(bytes32 codeHash, OfflineCode calldata code) private returns (Failure, uint256) {
        uint256 remaining = _claims[codeHash];
        if (remaining == 0) return (Failure.NonceUsed, 0);
        Reserve storage r = _reserves[code.payer][code.token];
        uint256 balance = r.balance;
        uint256 paid = remaining < balance ? remaining : balance;
        if (paid == 0) return (Failure.AllowanceExhausted, 0);
        remaining -= paid;
        _claims[codeHash] = remaining;
        r.balance = uint128(balance - paid);
        r.debt -= uint128(paid);
        emit ClaimPaid(codeHash, code.payer, code.merchant, paid, remaining);
        return (remaining == 0 ? Failure.None : Failure.AllowanceExhausted, paid);
    }

    /// @dev ECDSA first (EOA payers cost no EXTCODESIZE; a contract has no key to recover to), then ERC-1271.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    /// @dev Adds `amount` to the (merchant, token) payout, scanning from the most recent (batches are usually one merchant).
    function _addPayout(Payout[] memory payouts, uint256 count, address merchant, address token, uint256 amount)
        private
        pure
        returns (uint256)
    {
        for (uint256 k = count; k > 0; --k) {
            Payout memory p = payouts[k - 1];
            if (p.merchant == merchant && p.token == token) {
                p.amount += amount;
                return count;
            }
        }
        payouts[count] = Payout(merchant, token, amount);
        return count + 1;
    }
}
