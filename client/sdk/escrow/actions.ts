import { AbiCoder, type BytesLike, getAddress, hexlify, id, Interface, keccak256, TypedDataEncoder, type TypedDataDomain } from "ethers";
import { RECEIVE_WITH_AUTHORIZATION_TYPES, stableTokenDomain } from "../abi.ts";
import { OrioleError } from "../errors.ts";
import { ESCROW_ABI } from "./abi.ts";

/**
 * OrioleEscrow's off-chain messages: the EIP-712 `EscrowAction` a buyer or
 * merchant signs (ECDSA, or ERC-1271 for a passkey account) for anyone to
 * relay with `executeSigned`, the ERC-3009 authorization that funds an escrow
 * through `fundWithAuthorization`, and their calldata.
 */

/** EIP-712 domain name and version of OrioleEscrow. */
export const ESCROW_DOMAIN_NAME = "Oriole Escrow";
export const ESCROW_DOMAIN_VERSION = "1";

/** Splits are in basis points. */
export const BPS = 10_000n;

/** The `action` numbers of an EscrowAction (the contract's `Action` enum). */
export const ESCROW_ACTIONS = {
  markShipped: 0,
  release: 1,
  refund: 2,
  openDispute: 3,
  offerSettlement: 4,
  acceptSettlement: 5,
} as const;
export type EscrowActionName = keyof typeof ESCROW_ACTIONS;

/** What the buyer funds. Timeouts in seconds (releaseTimeout <= 365 days, disputeWindow <= releaseTimeout). */
export interface EscrowTerms {
  token: string;
  merchant: string;
  amount: bigint;
  /** 0x-hex bytes32 */
  orderId: string;
  releaseTimeout: number;
  disputeWindow: number;
}

/** An EscrowAction as signed and as passed to `executeSigned`. */
export interface SignedEscrowAction {
  signer: string;
  action: number;
  escrowId: string;
  buyerAmount: bigint;
  merchantAmount: bigint;
  nonce: bigint;
  deadline: bigint;
}

export const ESCROW_ACTION_TYPES = {
  EscrowAction: [
    { name: "signer", type: "address" },
    { name: "action", type: "uint8" },
    { name: "escrowId", type: "bytes32" },
    { name: "buyerAmount", type: "uint256" },
    { name: "merchantAmount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

const escrowInterface = new Interface(ESCROW_ABI);
const abi = AbiCoder.defaultAbiCoder();

/** The EIP-712 domain of the escrow at `escrow` on `chainId`. */
export function escrowDomain(chainId: bigint | number, escrow: string): TypedDataDomain {
  return { name: ESCROW_DOMAIN_NAME, version: ESCROW_DOMAIN_VERSION, chainId: BigInt(chainId), verifyingContract: getAddress(escrow) };
}

/**
 * The order id of an escrow for the merchant's order `order`: a 0x bytes32
 * is used as is, any other text is its keccak256 (the merchant finds the
 * escrow by its order number). The CLI and the web wallet both fund this way.
 */
export function orderIdOf(order: string): string {
  return /^0x[0-9a-fA-F]{64}$/.test(order) ? order.toLowerCase() : id(order);
}

/** = `escrowId(buyer, merchant, token, orderId)` on-chain. */
export function escrowId(buyer: string, merchant: string, token: string, orderId: BytesLike): string {
  return keccak256(abi.encode(["address", "address", "address", "bytes32"], [buyer, merchant, token, orderId]));
}

/** = `fundingNonce(buyer, terms)` on-chain: the ERC-3009 nonce that binds the authorization to the terms. */
export function fundingNonce(buyer: string, t: EscrowTerms): string {
  return keccak256(
    abi.encode(
      ["address", "address", "address", "uint256", "bytes32", "uint32", "uint32"],
      [buyer, t.token, t.merchant, t.amount, t.orderId, t.releaseTimeout, t.disputeWindow],
    ),
  );
}

/** = `splitAmount(amount, buyerBps)` on-chain: the buyer's part rounded down, the merchant's the rest. */
export function splitAmount(amount: bigint, buyerBps: bigint): { buyerAmount: bigint; merchantAmount: bigint } {
  if (amount < 0n || buyerBps < 0n || buyerBps > BPS) {
    throw new OrioleError("invalid_split", `a split needs 0 <= buyerBps <= ${BPS.toString()} and a non-negative amount`, { amount: amount.toString(), buyerBps: buyerBps.toString() });
  }
  const buyerAmount = (amount * buyerBps) / BPS;
  return { buyerAmount, merchantAmount: amount - buyerAmount };
}

/**
 * Builds an EscrowAction, with the contract's rules on its amounts: a refund
 * names `buyerAmount` (> 0); an offer or acceptance names both parts; every
 * other action neither.
 * @throws OrioleError `invalid_escrow_action`
 */
export function escrowAction(p: {
  signer: string;
  action: EscrowActionName;
  escrowId: string;
  buyerAmount?: bigint;
  merchantAmount?: bigint;
  nonce: bigint;
  deadline: bigint;
}): SignedEscrowAction {
  const buyerAmount = p.buyerAmount ?? 0n;
  const merchantAmount = p.merchantAmount ?? 0n;
  const bad = (why: string): OrioleError => new OrioleError("invalid_escrow_action", `${p.action}: ${why}`, { action: p.action });
  if (buyerAmount < 0n || merchantAmount < 0n) throw bad("amounts cannot be negative");
  if (p.action === "refund") {
    if (buyerAmount === 0n || merchantAmount !== 0n) throw bad("a refund names a positive buyerAmount and no merchantAmount");
  } else if (p.action !== "offerSettlement" && p.action !== "acceptSettlement") {
    if (buyerAmount !== 0n || merchantAmount !== 0n) throw bad("this action takes no amounts");
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(p.escrowId)) throw bad("the escrow id is a 32-byte 0x-hex value");
  return {
    signer: getAddress(p.signer),
    action: ESCROW_ACTIONS[p.action],
    escrowId: p.escrowId.toLowerCase(),
    buyerAmount,
    merchantAmount,
    nonce: p.nonce,
    deadline: p.deadline,
  };
}

/** The action's EIP-712 digest, = `hashSignedAction` on-chain; what the signer signs. */
export function hashEscrowAction(chainId: bigint | number, escrow: string, a: SignedEscrowAction): string {
  return TypedDataEncoder.hash(escrowDomain(chainId, escrow), ESCROW_ACTION_TYPES, a);
}

/**
 * The ERC-3009 ReceiveWithAuthorization that funds `terms` for `buyer` through
 * `fundWithAuthorization`, under the token's EIP-712 domain (name from its
 * `eip712Domain()`, version "1"). Sign `digest` (a passkey account: with
 * `passkeySignature` of account/erc1271.ts), or `domain`/`types`/`message` with an EOA's signTypedData.
 */
export function fundingAuthorization(p: {
  chainId: bigint | number;
  tokenName: string;
  escrow: string;
  buyer: string;
  terms: EscrowTerms;
  validAfter: bigint;
  validBefore: bigint;
}) {
  const domain = stableTokenDomain(p.chainId, p.terms.token, p.tokenName);
  const message = {
    from: getAddress(p.buyer),
    to: getAddress(p.escrow),
    value: p.terms.amount,
    validAfter: p.validAfter,
    validBefore: p.validBefore,
    nonce: fundingNonce(p.buyer, p.terms),
  };
  return { domain, types: RECEIVE_WITH_AUTHORIZATION_TYPES, message, digest: TypedDataEncoder.hash(domain, RECEIVE_WITH_AUTHORIZATION_TYPES, message) };
}

/** Calldata of `executeSigned(a, signature)`, for any relayer. */
export function encodeExecuteSigned(a: SignedEscrowAction, signature: BytesLike): string {
  return escrowInterface.encodeFunctionData("executeSigned", [a, hexlify(signature)]);
}

/** Calldata of `fundWithAuthorization(terms, buyer, validAfter, validBefore, signature)`. */
export function encodeFundWithAuthorization(terms: EscrowTerms, buyer: string, validAfter: bigint, validBefore: bigint, signature: BytesLike): string {
  return escrowInterface.encodeFunctionData("fundWithAuthorization", [terms, buyer, validAfter, validBefore, hexlify(signature)]);
}

/** Calldata of `fund(terms)` (the buyer approved the escrow first). */
export function encodeFund(terms: EscrowTerms): string {
  return escrowInterface.encodeFunctionData("fund", [terms]);
}
