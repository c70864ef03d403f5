import { getAddress, type TypedDataDomain } from "ethers";

/**
 * Runtime ABIs for the parts of Oriole's contracts that the node and the
 * client call. Human-readable fragments keep them small and reviewable; the
 * compiled artifacts remain the source of truth and tests check these match.
 */
export const STABLE_TOKEN_ABI = [
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event Approval(address indexed owner, address indexed spender, uint256 value)",
  "event Mint(address indexed minter, address indexed to, uint256 amount)",
  "event Burn(address indexed burner, uint256 amount)",
  "event Payment(bytes32 indexed ref, address indexed payer, address indexed payee, uint256 amount, uint256 fee)",
  "event PaymentFailed(uint256 index, bytes32 indexed ref, address indexed payer, address indexed payee, uint256 nonce, uint8 reason)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)",
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function currency() view returns (string)",
  "function decimals() view returns (uint8)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function transferFrom(address from, address to, uint256 value) returns (bool)",
  "function paused() view returns (bool)",
  "function isFrozen(address account) view returns (bool)",
  "function nonces(address owner) view returns (uint256)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
  "function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)",
  "function permit(address owner, address spender, uint256 value, uint256 deadline, bytes signature)",
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)",
  "function merchantFee(address merchant) view returns (uint256)",
  "function quoteFee(address merchant, uint256 amount) view returns (uint256 fee, uint256 net)",
  "function pay(address to, uint256 value, bytes32 ref) returns (bool)",
  "function payFrom(address from, address to, uint256 value, bytes32 ref) returns (bool)",
  "function payWithPermit(address from, address to, uint256 value, bytes32 ref, uint256 deadline, uint8 v, bytes32 r, bytes32 s) returns (bool)",
  "function payWithAuthorization((address from, address to, uint256 value, bytes32 ref, uint256 validAfter, uint256 validBefore, uint256 nonce, bytes signature) auth)",
  "function settlePayments((address from, address to, uint256 value, bytes32 ref, uint256 validAfter, uint256 validBefore, uint256 nonce, bytes signature)[] auths, bool atomic) returns (uint256 settled)",
  "function nonceBitmap(address owner, uint256 wordPos) view returns (uint256)",
  "function isPaymentNonceUsed(address owner, uint256 nonce) view returns (bool)",
  "function invalidateNonces(uint256 wordPos, uint256 mask)",
] as const;

/** keccak256("Transfer(address,address,uint256)") */
export const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

/** keccak256("Payment(bytes32,address,address,uint256,uint256)"): topics [_, reference, payer, payee], data (amount, fee). */
export const PAYMENT_TOPIC = "0xb416a5b1c40162d89ed9c7e840b6dc1a1615313bf98eef37f6f1fac309a13dcf";

/** The EIP-712 domain version of every StableToken (the name is the token's name). */
export const STABLE_TOKEN_EIP712_VERSION = "1";

/** The EIP-712 domain of the StableToken at `token` named `name` (its ERC-5267 `eip712Domain()` name) on `chainId`. */
export function stableTokenDomain(chainId: bigint | number, token: string, name: string): TypedDataDomain {
  return { name, version: STABLE_TOKEN_EIP712_VERSION, chainId: BigInt(chainId), verifyingContract: getAddress(token) };
}

/** EIP-2612 Permit, as published in the EIP. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The fields EIP-3009's TransferWithAuthorization and ReceiveWithAuthorization share, as published in the EIP. */
const EIP3009_AUTHORIZATION_FIELDS = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];

/** EIP-3009 TransferWithAuthorization: anyone may submit it. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = { TransferWithAuthorization: EIP3009_AUTHORIZATION_FIELDS };

/** EIP-3009 ReceiveWithAuthorization: only the payee (`to`) may submit it. */
export const RECEIVE_WITH_AUTHORIZATION_TYPES = { ReceiveWithAuthorization: EIP3009_AUTHORIZATION_FIELDS };

/**
 * Oriole's signed payment with a merchant reference, relayable by anyone and
 * settled alone (`payWithAuthorization`) or in batches (`settlePayments`).
 * `nonce` is an unordered nonce: bit `nonce & 255` of word `nonce >> 8`.
 */
export const PAY_WITH_AUTHORIZATION_TYPES = {
  PayWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "reference", type: "bytes32" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "uint256" },
  ],
};
