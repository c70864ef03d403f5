// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// EIP-712 type strings are hashed at compile time: their length costs nothing at run time.
// solhint-disable gas-small-strings

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC3009Receive} from "./IERC3009Receive.sol";

/**
 * @title OrioleEscrow
 * @notice Escrow for goods delivered later, in any allowed Oriole currency (the
 * token is a field of each escrow). Per escrow:
 * - {fund} (approve + transferFrom) or {fundWithAuthorization} (ERC-3009
 *   `receiveWithAuthorization`, signed by an EOA or, through ERC-1271, a passkey
 *   account) moves `amount` of `token` from the buyer into escrow for an order;
 * - the merchant {markShipped};
 * - the buyer {release}s to the merchant, or anyone calls {releaseAfterTimeout}
 *   `releaseTimeout` seconds after shipping;
 * - the merchant {refund}s in full or in part at any time before it settles;
 * - before shipping, or within `disputeWindow` seconds of it, either side
 *   {openDispute}s and an arbiter {resolveDispute}s with a split in basis points;
 * - either side {offerSettlement}s a split and the other {acceptSettlement}s it.
 * Every buyer and merchant action also runs from an EIP-712 `EscrowAction`
 * signed by that party (ECDSA or ERC-1271) and relayed by anyone: {executeSigned}.
 *
 * Arbiters: a contract-wide `ARBITER_ROLE` granted by the admin, not a per-escrow
 * choice. A buyer-named arbiter could be the buyer, a merchant-named one the
 * merchant, and one agreed by both needs the merchant's signature at checkout.
 * The platform's dispute desk, vetted by the admin, is neutral to both sides;
 * any arbiter may resolve any dispute, so revoking a lost key strands nothing.
 *
 * Tokens: only tokens the admin allowed can fund new escrows. The accounting
 * assumes exact transfers (no fee on transfer, no rebasing), which Oriole's
 * StableTokens guarantee and arbitrary ERC-20s do not. Disallowing a token stops
 * new escrows only; open ones settle as usual.
 *
 * Paused token, frozen party: every settlement moves its tokens in the same
 * transaction, so when the token refuses the transfer (paused, or the escrow,
 * the buyer or the merchant frozen) the step reverts and the escrow keeps its
 * state and funds; it can be retried once the token allows it again.
 *
 * Rounding: an arbiter's split gives the buyer `amount * buyerBps / 10000`
 * rounded down and the merchant the rest, so the two parts add up to the amount.
 */
contract OrioleEscrow is AccessControl, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Where an escrow is. Released, Refunded, Resolved and Settled are final.
    enum Status {
        None,
        Funded,
        Shipped,
        Disputed,
        Released,
        Refunded,
        Resolved,
        Settled
    }

    /// @notice What an `EscrowAction` asks for (its `action` field, a uint8 in EIP-712).
    enum Action {
        MarkShipped,
        Release,
        Refund,
        OpenDispute,
        OfferSettlement,
        AcceptSettlement
    }

    /// @notice A side of an escrow.
    enum Party {
        None,
        Buyer,
        Merchant
    }

    /// @notice What the buyer funds: the order and its timing.
    // Only ever in calldata, never stored: fields in reading order, not packed.
    // solhint-disable-next-line gas-struct-packing
    struct Terms {
        address token;
        address merchant;
        uint256 amount;
        bytes32 orderId;
        /// Seconds after shipping from which anyone may release.
        uint32 releaseTimeout;
        /// Seconds after shipping during which either side may open a dispute (<= releaseTimeout).
        uint32 disputeWindow;
    }

    /// @notice One escrow, in three storage slots.
    struct Escrow {
        address buyer;
        Status status;
        uint40 shippedAt; // 0: not shipped
        uint32 releaseTimeout;
        address merchant;
        uint32 disputeWindow;
        address token;
        uint96 amount; // what the escrow still holds for it
    }

    /// @notice A settlement offer: the buyer gets `buyerAmount`, the merchant `merchantAmount`.
    struct Offer {
        uint96 buyerAmount;
        uint96 merchantAmount;
        Party proposer; // None: no offer
    }

    /**
     * @notice A buyer's or merchant's action signed off-chain. Fields unused by
     * the action are zero: `buyerAmount` is the refund of a Refund, and both
     * amounts are the split of an OfferSettlement or AcceptSettlement.
     */
    struct SignedAction {
        address signer;
        Action action;
        bytes32 escrowId;
        uint256 buyerAmount;
        uint256 merchantAmount;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice The role of the dispute desk's accounts.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice keccak256 of the EIP-712 EscrowAction type.
    bytes32 public constant ESCROW_ACTION_TYPEHASH = keccak256(
        "EscrowAction(address signer,uint8 action,bytes32 escrowId,uint256 buyerAmount,uint256 merchantAmount,uint256 nonce,uint256 deadline)"
    );
    /// @notice Splits are in basis points of the amount held.
    uint256 public constant BPS = 10_000;
    /// @notice The longest release timeout.
    uint256 public constant MAX_RELEASE_TIMEOUT = 365 days;

    mapping(bytes32 id => Escrow) private _escrows;
    mapping(bytes32 id => Offer) private _offers;
    mapping(address token => bool) private _allowedTokens;
    mapping(address signer => mapping(uint256 wordPos => uint256)) private _nonceBitmap;

    /// @notice The admin allowed (`allowed`) or disallowed `token` for new escrows.
    event TokenAllowed(address indexed token, bool allowed);
    /// @notice `buyer` put `amount` of `token` into escrow `id` for `merchant`'s order `orderId`.
    event EscrowFunded(
        bytes32 indexed id,
        address indexed buyer,
        address indexed merchant,
        address token,
        uint256 amount,
        bytes32 orderId,
        uint256 releaseTimeout,
        uint256 disputeWindow
    );
    /// @notice The merchant marked escrow `id` shipped.
    event EscrowShipped(bytes32 indexed id, uint256 shippedAt);
    /// @notice `by` (the buyer, or anyone after the timeout) released `amount` of escrow `id` to the merchant.
    event EscrowReleased(bytes32 indexed id, address indexed by, uint256 amount);
    /// @notice The merchant refunded `amount` of escrow `id` to the buyer; `remaining` stays in escrow.
    event EscrowRefunded(bytes32 indexed id, uint256 amount, uint256 remaining);
    /// @notice `by` (the buyer or the merchant) opened a dispute on escrow `id`.
    event DisputeOpened(bytes32 indexed id, address indexed by);
    /// @notice `arbiter` resolved escrow `id`'s dispute: `buyerBps` of it, `buyerAmount`, to the buyer, the rest to the merchant.
    event DisputeResolved(
        bytes32 indexed id, address indexed arbiter, uint256 buyerBps, uint256 buyerAmount, uint256 merchantAmount
    );
    /// @notice `by` offered to settle escrow `id` with `buyerAmount` to the buyer and `merchantAmount` to the merchant.
    event SettlementOffered(bytes32 indexed id, address indexed by, uint256 buyerAmount, uint256 merchantAmount);
    /// @notice `by` accepted the offer: escrow `id` paid `buyerAmount` to the buyer and `merchantAmount` to the merchant.
    event EscrowSettled(bytes32 indexed id, address indexed by, uint256 buyerAmount, uint256 merchantAmount);
    /// @notice `signer`'s signed-action `nonce` was used or invalidated.
    event NonceUsed(address indexed signer, uint256 indexed nonce);

    /// @notice `token` is not allowed for new escrows.
    error EscrowTokenNotAllowed(address token);
    /// @notice The merchant `merchant` is zero or the buyer itself.
    error EscrowInvalidMerchant(address merchant);
    /// @notice `amount` is zero or above 2^96 - 1.
    error EscrowInvalidAmount(uint256 amount);
    /// @notice `releaseTimeout` is above MAX_RELEASE_TIMEOUT, or `disputeWindow` is longer than it.
    error EscrowInvalidTimeouts(uint256 releaseTimeout, uint256 disputeWindow);
    /// @notice Escrow `id` (buyer, merchant, token, order) exists already.
    error EscrowExists(bytes32 id);
    /// @notice No escrow `id`.
    error EscrowNotFound(bytes32 id);
    /// @notice `caller` may not do this on escrow `id`.
    error EscrowUnauthorized(bytes32 id, address caller);
    /// @notice Escrow `id` is `status`, where this step is not possible.
    error EscrowWrongStatus(bytes32 id, Status status);
    /// @notice Escrow `id` may be released by anyone from `releasableAt`; it is `timestamp`.
    error EscrowNotYetReleasable(bytes32 id, uint256 releasableAt, uint256 timestamp);
    /// @notice Escrow `id`'s dispute window closed at `closedAt`; it is `timestamp`.
    error EscrowDisputeWindowClosed(bytes32 id, uint256 closedAt, uint256 timestamp);
    /// @notice A refund of `amount` from escrow `id`, which holds `held`: zero or too much.
    error EscrowInvalidRefund(bytes32 id, uint256 amount, uint256 held);
    /// @notice `buyerBps` is above BPS.
    error EscrowInvalidBps(uint256 buyerBps);
    /// @notice `buyerAmount + merchantAmount` is not `held`, what escrow `id` holds.
    error EscrowInvalidSplit(bytes32 id, uint256 buyerAmount, uint256 merchantAmount, uint256 held);
    /// @notice Escrow `id` has no settlement offer.
    error EscrowNoOffer(bytes32 id);
    /// @notice The offer on escrow `id` is `buyerAmount` / `merchantAmount`, not what was accepted.
    error EscrowOfferMismatch(bytes32 id, uint256 buyerAmount, uint256 merchantAmount);
    /// @notice The signed action expired at `deadline`; it is `timestamp`.
    error EscrowActionExpired(uint256 deadline, uint256 timestamp);
    /// @notice `signer`'s nonce `nonce` was used or invalidated.
    error EscrowNonceUsed(address signer, uint256 nonce);
    /// @notice The signature is not `signer`'s (ECDSA or ERC-1271).
    error EscrowInvalidSignature(address signer);
    /// @notice The signed action `action` carries amounts it does not use.
    error EscrowInvalidActionParams(Action action);

    /**
     * @param admin holds DEFAULT_ADMIN_ROLE: allows tokens, grants and revokes arbiters
     * @param arbiters the first dispute desk accounts (ARBITER_ROLE)
     * @param tokens the tokens allowed at once (Oriole's StableTokens)
     */
    constructor(address admin, address[] memory arbiters, address[] memory tokens) EIP712("Oriole Escrow", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < arbiters.length; ++i) {
            _grantRole(ARBITER_ROLE, arbiters[i]);
        }
        for (uint256 i = 0; i < tokens.length; ++i) {
            _setTokenAllowed(tokens[i], true);
        }
    }

    // ------------------------------------------------------------------
    // Admin
    // ------------------------------------------------------------------

    /**
     * @notice Allows or disallows `token` for new escrows (open escrows are not affected).
     * @dev Only the admin. Emits {TokenAllowed}.
     */
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTokenAllowed(token, allowed);
    }

    /// @notice Whether `token` can fund new escrows.
    function isTokenAllowed(address token) external view returns (bool) {
        return _allowedTokens[token];
    }

    // ------------------------------------------------------------------
    // Funding
    // ------------------------------------------------------------------

    /**
     * @notice Puts `terms.amount` of `terms.token` from the caller (the buyer) into
     * a new escrow; the caller approved this contract for it.
     * @dev Emits {EscrowFunded}.
     * @return id the escrow id, {escrowId}(caller, merchant, token, orderId)
     */
    function fund(Terms calldata terms) external nonReentrant returns (bytes32 id) {
        id = _open(msg.sender, terms);
        IERC20(terms.token).safeTransferFrom(msg.sender, address(this), terms.amount);
    }

    /**
     * @notice Funds an escrow for `buyer` with its ERC-3009 ReceiveWithAuthorization
     * (to this contract, value `terms.amount`, nonce {fundingNonce}(buyer, terms)),
     * signed by an EOA or a contract account (ERC-1271). Anyone may submit it: the
     * token lets only this contract use it, and the nonce binds the terms, so a
     * relayer can change neither the payee nor the merchant, order or timing.
     * @dev Emits {EscrowFunded}.
     * @return id the escrow id
     */
    function fundWithAuthorization(
        Terms calldata terms,
        address buyer,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external nonReentrant returns (bytes32 id) {
        id = _open(buyer, terms);
        IERC3009Receive(terms.token).receiveWithAuthorization(
            buyer, address(this), terms.amount, validAfter, validBefore, fundingNonce(buyer, terms), signature
        );
    }

    /// @notice The escrow id of `buyer`'s order `orderId` with `merchant` in `token`.
    function escrowId(address buyer, address merchant, address token, bytes32 orderId) public pure returns (bytes32) {
        return keccak256(abi.encode(buyer, merchant, token, orderId));
    }

    /// @notice The ERC-3009 nonce that binds `buyer`'s authorization to `terms` (see {fundWithAuthorization}).
    function fundingNonce(address buyer, Terms calldata terms) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                buyer,
                terms.token,
                terms.merchant,
                terms.amount,
                terms.orderId,
                terms.releaseTimeout,
                terms.disputeWindow
            )
        );
    }

    // ------------------------------------------------------------------
    // Buyer and merchant actions (also as signed actions, see executeSigned)
    // ------------------------------------------------------------------

    /**
     * @notice The merchant marks escrow `id` shipped; the release timeout and the dispute window start.
     * @dev Only the merchant, while Funded. Emits {EscrowShipped}.
     */
    function markShipped(bytes32 id) external nonReentrant {
        _markShipped(id, msg.sender);
    }

    /**
     * @notice The buyer releases everything escrow `id` holds to the merchant.
     * @dev Only the buyer, while Funded, Shipped or Disputed. Emits {EscrowReleased}.
     */
    function release(bytes32 id) external nonReentrant {
        _release(id, msg.sender);
    }

    /**
     * @notice Releases escrow `id` to the merchant once `releaseTimeout` has passed since shipping.
     * @dev Anyone, while Shipped (not Disputed). Emits {EscrowReleased}.
     */
    function releaseAfterTimeout(bytes32 id) external nonReentrant {
        Escrow storage e = _existing(id);
        if (e.status != Status.Shipped) revert EscrowWrongStatus(id, e.status);
        uint256 releasableAt = uint256(e.shippedAt) + e.releaseTimeout;
        if (block.timestamp < releasableAt) revert EscrowNotYetReleasable(id, releasableAt, block.timestamp);
        _releaseToMerchant(id, e, msg.sender);
    }

    /**
     * @notice The merchant refunds `amount` of escrow `id` to the buyer. A refund of
     * everything held closes the escrow (Refunded); a partial one keeps the rest in escrow.
     * @dev Only the merchant, while Funded, Shipped or Disputed. Emits {EscrowRefunded}.
     */
    function refund(bytes32 id, uint256 amount) external nonReentrant {
        _refund(id, msg.sender, amount);
    }

    /**
     * @notice The buyer or the merchant opens a dispute on escrow `id`: before
     * shipping, or within the dispute window after it.
     * @dev While Funded or Shipped. Emits {DisputeOpened}.
     */
    function openDispute(bytes32 id) external nonReentrant {
        _openDispute(id, msg.sender);
    }

    /**
     * @notice The buyer or the merchant offers to settle escrow `id` with `buyerAmount`
     * to the buyer and `merchantAmount` to the merchant (adding up to what it holds).
     * Replaces any earlier offer, by either side.
     * @dev While Funded, Shipped or Disputed. Emits {SettlementOffered}.
     */
    function offerSettlement(bytes32 id, uint256 buyerAmount, uint256 merchantAmount) external nonReentrant {
        _offerSettlement(id, msg.sender, buyerAmount, merchantAmount);
    }

    /**
     * @notice The other side accepts the settlement offer on escrow `id`, which must be
     * exactly `buyerAmount` / `merchantAmount` (so that a changed offer cannot be
     * accepted by surprise), and the escrow pays out so.
     * @dev Only the side that did not make the offer, while Funded, Shipped or Disputed.
     * Emits {EscrowSettled}.
     */
    function acceptSettlement(bytes32 id, uint256 buyerAmount, uint256 merchantAmount) external nonReentrant {
        _acceptSettlement(id, msg.sender, buyerAmount, merchantAmount);
    }

    // ------------------------------------------------------------------
    // Arbiter
    // ------------------------------------------------------------------

    /**
     * @notice An arbiter resolves escrow `id`'s dispute: the buyer gets `buyerBps`
     * basis points of what it holds (rounded down), the merchant the rest.
     * @dev Only ARBITER_ROLE, while Disputed. Emits {DisputeResolved}.
     */
    function resolveDispute(bytes32 id, uint256 buyerBps) external nonReentrant onlyRole(ARBITER_ROLE) {
        Escrow storage e = _existing(id);
        if (e.status != Status.Disputed) revert EscrowWrongStatus(id, e.status);
        (uint256 buyerAmount, uint256 merchantAmount) = splitAmount(e.amount, buyerBps);
        e.status = Status.Resolved;
        e.amount = 0;
        emit DisputeResolved(id, msg.sender, buyerBps, buyerAmount, merchantAmount);
        _payOut(e, buyerAmount, merchantAmount);
    }

    /**
     * @notice How `amount` splits for `buyerBps`: the buyer's part rounded down, the
     * merchant's the rest, so `buyerAmount + merchantAmount == amount`.
     */
    function splitAmount(uint256 amount, uint256 buyerBps)
        public
        pure
        returns (uint256 buyerAmount, uint256 merchantAmount)
    {
        if (buyerBps > BPS) revert EscrowInvalidBps(buyerBps);
        // amount < 2^96 in every escrow; for any amount below 2^242 the product cannot overflow
        buyerAmount = amount * buyerBps / BPS;
        merchantAmount = amount - buyerAmount;
    }

    // ------------------------------------------------------------------
    // Signed actions
    // ------------------------------------------------------------------

    /**
     * @notice Runs `a`, signed by `a.signer` (ECDSA, or ERC-1271 for a contract
     * account such as a passkey account), as if `a.signer` had called it. Anyone
     * may submit it.
     * @dev Checks the deadline, the unordered nonce (bit `nonce & 255` of word
     * `nonce >> 8`) and the signature, then the action's own rules. Emits {NonceUsed}
     * and the action's event.
     */
    function executeSigned(SignedAction calldata a, bytes calldata signature) external nonReentrant {
        if (block.timestamp > a.deadline) revert EscrowActionExpired(a.deadline, block.timestamp);
        _useNonce(a.signer, a.nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(a.signer, hashSignedAction(a), signature)) {
            revert EscrowInvalidSignature(a.signer);
        }
        Action action = a.action;
        bool refundOnly = action == Action.Refund && a.merchantAmount == 0;
        bool split = action == Action.OfferSettlement || action == Action.AcceptSettlement;
        if (!split && !refundOnly && (a.buyerAmount | a.merchantAmount) != 0) revert EscrowInvalidActionParams(action);
        if (action == Action.MarkShipped) _markShipped(a.escrowId, a.signer);
        else if (action == Action.Release) _release(a.escrowId, a.signer);
        else if (action == Action.Refund) _refund(a.escrowId, a.signer, a.buyerAmount);
        else if (action == Action.OpenDispute) _openDispute(a.escrowId, a.signer);
        else if (action == Action.OfferSettlement) _offerSettlement(a.escrowId, a.signer, a.buyerAmount, a.merchantAmount);
        else _acceptSettlement(a.escrowId, a.signer, a.buyerAmount, a.merchantAmount);
    }

    /// @notice The EIP-712 digest of `a` under this contract's domain ("Oriole Escrow", "1", chain, address).
    function hashSignedAction(SignedAction calldata a) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ESCROW_ACTION_TYPEHASH,
                    a.signer,
                    a.action,
                    a.escrowId,
                    a.buyerAmount,
                    a.merchantAmount,
                    a.nonce,
                    a.deadline
                )
            )
        );
    }

    /**
     * @notice Invalidates the caller's signed-action `nonce` (a signed action not yet relayed).
     * @dev Emits {NonceUsed}.
     */
    function invalidateNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
    }

    /// @notice Whether `signer`'s signed-action `nonce` was used or invalidated.
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return (_nonceBitmap[signer][nonce >> 8] >> (nonce & 255)) & 1 == 1;
    }

    // ------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------

    /// @notice Escrow `id` (all zero when it does not exist).
    function getEscrow(bytes32 id) external view returns (Escrow memory) {
        return _escrows[id];
    }

    /// @notice The settlement offer on escrow `id` (`proposer` None: no offer).
    function getOffer(bytes32 id) external view returns (Offer memory) {
        return _offers[id];
    }

    // ------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------

    function _setTokenAllowed(address token, bool allowed) private {
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @dev Checks the terms and records a new Funded escrow; the caller then moves the tokens in.
    function _open(address buyer, Terms calldata terms) private returns (bytes32 id) {
        if (!_allowedTokens[terms.token]) revert EscrowTokenNotAllowed(terms.token);
        if (terms.merchant == address(0) || terms.merchant == buyer) revert EscrowInvalidMerchant(terms.merchant);
        if (terms.amount == 0 || terms.amount > type(uint96).max) revert EscrowInvalidAmount(terms.amount);
        if (terms.releaseTimeout > MAX_RELEASE_TIMEOUT || terms.disputeWindow > terms.releaseTimeout) {
            revert EscrowInvalidTimeouts(terms.releaseTimeout, terms.disputeWindow);
        }
        id = escrowId(buyer, terms.merchant, terms.token, terms.orderId);
        Escrow storage e = _escrows[id];
        if (e.status != Status.None) revert EscrowExists(id);
        e.buyer = buyer;
        e.status = Status.Funded;
        e.releaseTimeout = terms.releaseTimeout;
        e.merchant = terms.merchant;
        e.disputeWindow = terms.disputeWindow;
        e.token = terms.token;
        e.amount = uint96(terms.amount);
        emit EscrowFunded(
            id,
            buyer,
            terms.merchant,
            terms.token,
            terms.amount,
            terms.orderId,
            terms.releaseTimeout,
            terms.disputeWindow
        );
    }

    function _markShipped(bytes32 id, address caller) private {
        Escrow storage e = _existing(id);
        if (caller != e.merchant) revert EscrowUnauthorized(id, caller);
        if (e.status != Status.Funded) revert EscrowWrongStatus(id, e.status);
        e.status = Status.Shipped;
        e.shippedAt = uint40(block.timestamp);
        emit EscrowShipped(id, block.timestamp);
    }

    function _release(bytes32 id, address caller) private {
        Escrow storage e = _existing(id);
        if (caller != e.buyer) revert EscrowUnauthorized(id, caller);
        _requireOpen(id, e.status);
        _releaseToMerchant(id, e, caller);
    }

    function _releaseToMerchant(bytes32 id, Escrow storage e, address by) private {
        uint256 amount = e.amount;
        e.status = Status.Released;
        e.amount = 0;
        emit EscrowReleased(id, by, amount);
        IERC20(e.token).safeTransfer(e.merchant, amount);
    }

    function _refund(bytes32 id, address caller, uint256 amount) private {
        Escrow storage e = _existing(id);
        if (caller != e.merchant) revert EscrowUnauthorized(id, caller);
        _requireOpen(id, e.status);
        uint256 held = e.amount;
        if (amount == 0 || amount > held) revert EscrowInvalidRefund(id, amount, held);
        unchecked {
            held -= amount; // amount <= held
        }
        e.amount = uint96(held);
        if (held == 0) e.status = Status.Refunded;
        emit EscrowRefunded(id, amount, held);
        IERC20(e.token).safeTransfer(e.buyer, amount);
    }

    function _openDispute(bytes32 id, address caller) private {
        Escrow storage e = _existing(id);
        if (caller != e.buyer && caller != e.merchant) revert EscrowUnauthorized(id, caller);
        Status status = e.status;
        if (status == Status.Shipped) {
            uint256 closedAt = uint256(e.shippedAt) + e.disputeWindow;
            if (block.timestamp >= closedAt) revert EscrowDisputeWindowClosed(id, closedAt, block.timestamp);
        } else if (status != Status.Funded) {
            revert EscrowWrongStatus(id, status);
        }
        e.status = Status.Disputed;
        emit DisputeOpened(id, caller);
    }

    function _offerSettlement(bytes32 id, address caller, uint256 buyerAmount, uint256 merchantAmount) private {
        Escrow storage e = _existing(id);
        Party party = _partyOf(id, e, caller);
        _requireOpen(id, e.status);
        uint256 held = e.amount;
        // each part <= held < 2^96: the sum cannot overflow, and the casts below are exact
        if (buyerAmount > held || merchantAmount > held || buyerAmount + merchantAmount != held) {
            revert EscrowInvalidSplit(id, buyerAmount, merchantAmount, held);
        }
        _offers[id] =
            Offer({buyerAmount: uint96(buyerAmount), merchantAmount: uint96(merchantAmount), proposer: party});
        emit SettlementOffered(id, caller, buyerAmount, merchantAmount);
    }

    function _acceptSettlement(bytes32 id, address caller, uint256 buyerAmount, uint256 merchantAmount) private {
        Escrow storage e = _existing(id);
        Party party = _partyOf(id, e, caller);
        _requireOpen(id, e.status);
        Offer memory offer = _offers[id];
        if (offer.proposer == Party.None) revert EscrowNoOffer(id);
        if (offer.proposer == party) revert EscrowUnauthorized(id, caller);
        if (offer.buyerAmount != buyerAmount || offer.merchantAmount != merchantAmount) {
            revert EscrowOfferMismatch(id, offer.buyerAmount, offer.merchantAmount);
        }
        // a partial refund since the offer leaves it adding up to more than is held
        uint256 held = e.amount;
        if (buyerAmount + merchantAmount != held) revert EscrowInvalidSplit(id, buyerAmount, merchantAmount, held);
        delete _offers[id];
        e.status = Status.Settled;
        e.amount = 0;
        emit EscrowSettled(id, caller, buyerAmount, merchantAmount);
        _payOut(e, buyerAmount, merchantAmount);
    }

    function _payOut(Escrow storage e, uint256 buyerAmount, uint256 merchantAmount) private {
        IERC20 token = IERC20(e.token);
        if (buyerAmount != 0) token.safeTransfer(e.buyer, buyerAmount);
        if (merchantAmount != 0) token.safeTransfer(e.merchant, merchantAmount);
    }

    function _existing(bytes32 id) private view returns (Escrow storage e) {
        e = _escrows[id];
        if (e.status == Status.None) revert EscrowNotFound(id);
    }

    function _partyOf(bytes32 id, Escrow storage e, address caller) private view returns (Party) {
        if (caller == e.buyer) return Party.Buyer;
        if (caller == e.merchant) return Party.Merchant;
        revert EscrowUnauthorized(id, caller);
    }

    /// @dev Funded, Shipped or Disputed: the escrow still holds funds.
    function _requireOpen(bytes32 id, Status status) private pure {
        if (status != Status.Funded && status != Status.Shipped && status != Status.Disputed) {
            revert EscrowWrongStatus(id, status);
        }
    }

    function _useNonce(address signer, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 255);
        mapping(uint256 => uint256) storage words = _nonceBitmap[signer];
        uint256 word = words[nonce >> 8];
        if (word & bit != 0) revert EscrowNonceUsed(signer, nonce);
        words[nonce >> 8] = word | bit;
        emit NonceUsed(signer, nonce);
    }
}
