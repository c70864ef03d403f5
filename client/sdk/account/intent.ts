import { type BytesLike, getAddress, hexlify, isAddress, TypedDataEncoder } from "ethers";
import { z } from "zod";
import { BASE_UNITS_RE } from "../amount.ts";
import { OrioleError } from "../errors.ts";

/**
 * EIP-712 messages a PasskeyAccount's device signs (spec §2): payment intents,
 * owner calls, guardian recoveries and ERC-1271 messages, all under the
 * account's own domain so one assertion never counts for another account or chain.
 */

/** EIP-712 domain name and version of every PasskeyAccount. */
export const ACCOUNT_DOMAIN_NAME = "Oriole PasskeyAccount";
export const ACCOUNT_DOMAIN_VERSION = "1";

/** A payment approved by a device; `reference` is a 0x-hex bytes32. */
export interface PaymentIntent {
  token: string;
  to: string;
  amount: bigint;
  reference: string;
  nonce: bigint;
  deadline: bigint;
  maxRelayerFee: bigint;
}

/** An owner call (addDevice, setDailyLimit, ...) run by `executeWithSig`. */
export interface AccountCall {
  data: string;
  nonce: bigint;
  deadline: bigint;
}

export const PAYMENT_INTENT_TYPES = {
  PaymentIntent: [
    { name: "token", type: "address" },
    { name: "to", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "reference", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
    { name: "maxRelayerFee", type: "uint256" },
  ],
};

export const ACCOUNT_CALL_TYPES = {
  AccountCall: [
    { name: "data", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** What guardians sign to start a recovery. */
export const RECOVERY_TYPES = {
  Recovery: [
    { name: "qx", type: "bytes32" },
    { name: "qy", type: "bytes32" },
    { name: "recoveryNonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** ERC-1271: the account's devices sign `OrioleMessage(hash)`, not the bare hash. */
export const ORIOLE_MESSAGE_TYPES = { OrioleMessage: [{ name: "hash", type: "bytes32" }] };

/** The EIP-712 domain of the account at `account` on `chainId`. */
export function accountDomain(chainId: bigint | number, account: string) {
  return { name: ACCOUNT_DOMAIN_NAME, version: ACCOUNT_DOMAIN_VERSION, chainId: BigInt(chainId), verifyingContract: getAddress(account) };
}

/** The Solidity `PaymentIntent` struct's fields (the struct calls `reference` `ref`), for contract calls. */
export function paymentIntentStruct(intent: PaymentIntent) {
  const { token, to, amount, reference, nonce, deadline, maxRelayerFee } = intent;
  return { token, to, amount, ref: reference, nonce, deadline, maxRelayerFee };
}

/** The intent's EIP-712 digest (0x-hex), = `hashPaymentIntent` on-chain; the WebAuthn challenge and the relayer's intent id. */
export function hashPaymentIntent(chainId: bigint | number, account: string, intent: PaymentIntent): string {
  return TypedDataEncoder.hash(accountDomain(chainId, account), PAYMENT_INTENT_TYPES, intent);
}

/** The owner call's EIP-712 digest, = `hashAccountCall` on-chain. */
export function hashAccountCall(chainId: bigint | number, account: string, call: AccountCall): string {
  return TypedDataEncoder.hash(accountDomain(chainId, account), ACCOUNT_CALL_TYPES, call);
}

/** A guardian's recovery approval digest (for EOAs and ERC-1271 guardians alike). */
export function hashRecovery(chainId: bigint | number, account: string, r: { qx: string; qy: string; recoveryNonce: bigint; deadline: bigint }): string {
  return TypedDataEncoder.hash(accountDomain(chainId, account), RECOVERY_TYPES, r);
}

/** = `replaySafeHash(hash)` on-chain: the challenge a device signs for ERC-1271 `isValidSignature(hash, ...)`. */
export function replaySafeHash(chainId: bigint | number, account: string, hash: BytesLike): string {
  return TypedDataEncoder.hash(accountDomain(chainId, account), ORIOLE_MESSAGE_TYPES, { hash: hexlify(hash) });
}

const UINT256_MAX = (1n << 256n) - 1n;

/** JSON address: 0x and 40 hex digits (checksum checked when mixed case) → checksummed. */
export const jsonAddress = z
  .string()
  .refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s) && isAddress(s), "not an address (0x and 40 hex digits, valid checksum if mixed case)")
  .transform((s) => getAddress(s));

/** JSON uint256: a decimal string → bigint. */
export const jsonUint256 = z
  .string()
  .regex(BASE_UNITS_RE, "not a non-negative integer in decimal digits")
  .max(78, "too large for uint256")
  .transform((s) => BigInt(s))
  .refine((v) => v <= UINT256_MAX, "too large for uint256");

/** JSON bytes32: 0x and 64 hex digits → lowercase. */
export const jsonBytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "not a 32-byte 0x-hex value")
  .transform((s) => s.toLowerCase());

/** A payment intent as JSON (decimal strings) ⇄ PaymentIntent (bigint). Unknown fields are refused. */
export const paymentIntentJsonSchema = z.strictObject({
  token: jsonAddress,
  to: jsonAddress,
  amount: jsonUint256,
  reference: jsonBytes32,
  nonce: jsonUint256,
  deadline: jsonUint256,
  maxRelayerFee: jsonUint256,
});

/** The JSON form of a PaymentIntent. */
export type PaymentIntentJson = z.input<typeof paymentIntentJsonSchema>;

/** A PaymentIntent as JSON: amounts and numbers as decimal strings, addresses checksummed. */
export function paymentIntentToJson(intent: PaymentIntent): PaymentIntentJson {
  return {
    token: getAddress(intent.token),
    to: getAddress(intent.to),
    amount: intent.amount.toString(),
    reference: intent.reference.toLowerCase(),
    nonce: intent.nonce.toString(),
    deadline: intent.deadline.toString(),
    maxRelayerFee: intent.maxRelayerFee.toString(),
  };
}

/**
 * Parses a JSON payment intent.
 * @throws OrioleError `invalid_intent` naming the first bad field.
 */
export function parsePaymentIntentJson(value: unknown): PaymentIntent {
  const r = paymentIntentJsonSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new OrioleError("invalid_intent", `invalid payment intent: ${where}${issue?.message ?? "invalid"}`, { path: issue?.path.join(".") ?? "" });
}
