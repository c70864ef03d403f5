/**
 * Runtime ABI of OrioleEscrow (human-readable, like ../abi.ts): the parts the
 * client and the node call. Tests check every fragment against the compiled artifact.
 */
const TERMS = "(address token, address merchant, uint256 amount, bytes32 orderId, uint32 releaseTimeout, uint32 disputeWindow)";
const SIGNED_ACTION = "(address signer, uint8 action, bytes32 escrowId, uint256 buyerAmount, uint256 merchantAmount, uint256 nonce, uint256 deadline)";

export const ESCROW_ABI = [
  "event TokenAllowed(address indexed token, bool allowed)",
  "event EscrowFunded(bytes32 indexed id, address indexed buyer, address indexed merchant, address token, uint256 amount, bytes32 orderId, uint256 releaseTimeout, uint256 disputeWindow)",
  "event EscrowShipped(bytes32 indexed id, uint256 shippedAt)",
  "event EscrowReleased(bytes32 indexed id, address indexed by, uint256 amount)",
  "event EscrowRefunded(bytes32 indexed id, uint256 amount, uint256 remaining)",
  "event DisputeOpened(bytes32 indexed id, address indexed by)",
  "event DisputeResolved(bytes32 indexed id, address indexed arbiter, uint256 buyerBps, uint256 buyerAmount, uint256 merchantAmount)",
  "event SettlementOffered(bytes32 indexed id, address indexed by, uint256 buyerAmount, uint256 merchantAmount)",
  "event EscrowSettled(bytes32 indexed id, address indexed by, uint256 buyerAmount, uint256 merchantAmount)",
  "event NonceUsed(address indexed signer, uint256 indexed nonce)",
  `function fund(${TERMS} terms) returns (bytes32 id)`,
  `function fundWithAuthorization(${TERMS} terms, address buyer, uint256 validAfter, uint256 validBefore, bytes signature) returns (bytes32 id)`,
  "function markShipped(bytes32 id)",
  "function release(bytes32 id)",
  "function releaseAfterTimeout(bytes32 id)",
  "function refund(bytes32 id, uint256 amount)",
  "function openDispute(bytes32 id)",
  "function offerSettlement(bytes32 id, uint256 buyerAmount, uint256 merchantAmount)",
  "function acceptSettlement(bytes32 id, uint256 buyerAmount, uint256 merchantAmount)",
  "function resolveDispute(bytes32 id, uint256 buyerBps)",
  `function executeSigned(${SIGNED_ACTION} a, bytes signature)`,
  `function hashSignedAction(${SIGNED_ACTION} a) view returns (bytes32)`,
  "function invalidateNonce(uint256 nonce)",
  "function isNonceUsed(address signer, uint256 nonce) view returns (bool)",
  "function escrowId(address buyer, address merchant, address token, bytes32 orderId) pure returns (bytes32)",
  `function fundingNonce(address buyer, ${TERMS} terms) pure returns (bytes32)`,
  "function splitAmount(uint256 amount, uint256 buyerBps) pure returns (uint256 buyerAmount, uint256 merchantAmount)",
  "function getEscrow(bytes32 id) view returns ((address buyer, uint8 status, uint40 shippedAt, uint32 releaseTimeout, address merchant, uint32 disputeWindow, address token, uint96 amount))",
  "function getOffer(bytes32 id) view returns ((uint96 buyerAmount, uint96 merchantAmount, uint8 proposer))",
  "function isTokenAllowed(address token) view returns (bool)",
  "function setTokenAllowed(address token, bool allowed)",
  "function ARBITER_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function grantRole(bytes32 role, address account)",
  "function revokeRole(bytes32 role, address account)",
] as const;
