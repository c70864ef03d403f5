import { z } from "zod";
import { jsonAddress, jsonBytes32, jsonUint256 } from "./account/intent.ts";
import { deploymentParamsJsonSchema } from "./account/relayerApi.ts";
import { checkedAddress, requestJson } from "./apiClient.ts";
import { CURRENCIES, type Currency } from "./currencies.ts";
import { OrioleError } from "./errors.ts";

/**
 * The wire format of the node's relayed calls for accounts that sign but do
 * not send (passkey accounts, ERC-1271): an escrow funded with an ERC-3009
 * authorization, an offline reserve, a signed offline withdrawal request and
 * the completion of a withdrawal. Shared by the node (parsing requests,
 * writing records) and the clients (writing requests, parsing records).
 * JSON numbers of the chain are decimal strings.
 *
 * A passkey account may not be deployed yet (its first action): the bodies
 * signed by the account take its `deployment` {qx, qy, salt}, and the node
 * deploys it in the same transaction (PaymentRelay.deployAndCall). As with a
 * payment intent, a wallet may always send it: a deployed account ignores it.
 */

/** What a relayed call is. */
export const RELAYED_CALL_KINDS = ["escrow_funding", "offline_reserve", "offline_withdrawal_request", "offline_withdrawal"] as const;
export type RelayedCallKind = (typeof RELAYED_CALL_KINDS)[number];

/** submitted (broadcast, not yet mined) → mined | failed. */
export const RELAYED_CALL_STATUSES = ["submitted", "mined", "failed"] as const;
export type RelayedCallStatus = (typeof RELAYED_CALL_STATUSES)[number];

const signature = z.string().regex(/^0x([0-9a-fA-F]{2}){1,2048}$/, "must be 0x-hex bytes (at most 2048)");
const seconds = z.number().int().nonnegative().max(0xffffffff);

/** A passkey account's counterfactual deployment: its first device's key and the factory salt. */
export interface AccountDeploymentParams {
  qx: string;
  qy: string;
  salt: bigint;
}

/** The `deployment` field of a relayed call's body. */
export function deploymentJson(d: AccountDeploymentParams): { qx: string; qy: string; salt: string } {
  return { qx: d.qx.toLowerCase(), qy: d.qy.toLowerCase(), salt: d.salt.toString() };
}

/** Body of POST /v1/escrows/fundings: `fundWithAuthorization(terms, buyer, validAfter, validBefore, signature)`. */
export const escrowFundingSchema = z.strictObject({
  buyer: jsonAddress,
  terms: z.strictObject({ token: jsonAddress, merchant: jsonAddress, amount: jsonUint256, orderId: jsonBytes32, releaseTimeout: seconds, disputeWindow: seconds }),
  validAfter: jsonUint256,
  validBefore: jsonUint256,
  signature,
  deployment: deploymentParamsJsonSchema.optional(),
});
export type EscrowFundingSubmission = z.output<typeof escrowFundingSchema>;
export type EscrowFundingJson = z.input<typeof escrowFundingSchema>;

/** Body of POST /v1/offline/reservations: `reserveWithAuthorization(token, from, amount, validAfter, validBefore, nonce, signature)`. */
export const offlineReserveSchema = z.strictObject({
  from: jsonAddress,
  token: jsonAddress,
  amount: jsonUint256,
  validAfter: jsonUint256,
  validBefore: jsonUint256,
  nonce: jsonBytes32,
  signature,
  deployment: deploymentParamsJsonSchema.optional(),
});
export type OfflineReserveSubmission = z.output<typeof offlineReserveSchema>;
export type OfflineReserveJson = z.input<typeof offlineReserveSchema>;

/** Body of POST /v1/offline/withdrawals: `requestWithdrawalWithSig(payer, token, amount, deadline, signature)`; `nonce` is the vault's withdrawalNonce(payer) it was signed with. */
export const offlineWithdrawalRequestSchema = z.strictObject({
  payer: jsonAddress,
  token: jsonAddress,
  amount: jsonUint256,
  nonce: jsonUint256,
  deadline: jsonUint256,
  signature,
  deployment: deploymentParamsJsonSchema.optional(),
});
export type OfflineWithdrawalRequestSubmission = z.output<typeof offlineWithdrawalRequestSchema>;
export type OfflineWithdrawalRequestJson = z.input<typeof offlineWithdrawalRequestSchema>;

/** Body of POST /v1/offline/withdrawals/complete: `withdraw(payer, token)` (anyone may; the tokens go to the payer). */
export const offlineWithdrawalCompletionSchema = z.strictObject({ payer: jsonAddress, token: jsonAddress });
export type OfflineWithdrawalCompletionJson = z.input<typeof offlineWithdrawalCompletionSchema>;

/** What the node answers for a relayed call (POST, and GET by id). */
export const relayedCallRecordSchema = z.object({
  /** The signed authorization's EIP-712 digest (a completion: keccak256 of the withdrawal it completes). */
  id: jsonBytes32,
  kind: z.enum(RELAYED_CALL_KINDS),
  status: z.enum(RELAYED_CALL_STATUSES),
  /** The buyer or payer. */
  account: jsonAddress,
  token: jsonAddress,
  /** What was authorized or requested, base units (a completion: what was pending). */
  amount: jsonUint256,
  /** An escrow funding's escrow id. */
  escrowId: jsonBytes32.optional(),
  txHash: jsonBytes32.nullable(),
  blockNumber: z.number().int().nonnegative().nullable(),
  error: z.object({ code: z.string().min(1), message: z.string() }).nullable(),
  /** Unix milliseconds. */
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type RelayedCallRecord = z.output<typeof relayedCallRecordSchema>;
export type RelayedCallRecordJson = z.input<typeof relayedCallRecordSchema>;

const baseUnits = z.string().regex(/^(0|[1-9]\d{0,77})$/, "not a decimal integer").transform((v) => BigInt(v));
const reserveJson = z.object({ token: jsonAddress, balance: baseUnits, debt: baseUnits, pendingWithdrawal: baseUnits, unlockAt: baseUnits });

/** GET /v1/offline/reserves/{payer}: the payer's reserve per currency, its next withdrawal nonce, the chain's time (seconds). */
export const offlineReservesSchema = z.object({
  payer: jsonAddress,
  vault: jsonAddress,
  withdrawalNonce: baseUnits,
  chainTime: baseUnits,
  reserves: z.object(Object.fromEntries(CURRENCIES.map((c) => [c, reserveJson])) as Record<Currency, typeof reserveJson>),
});
export type OfflineReserves = z.output<typeof offlineReservesSchema>;
export type OfflineReservesJson = z.input<typeof offlineReservesSchema>;

/** GET /v1/offline/reserves/{payer}: read through the node, for wallets without an RPC of their own. */
export async function getOfflineReserves(apiUrl: string, payer: string): Promise<OfflineReserves> {
  return requestJson(apiUrl, `/v1/offline/reserves/${checkedAddress(payer)}`, offlineReservesSchema);
}

const RECORD_TIMEOUT_MS = 120_000;

function checkedId(id: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new OrioleError("invalid_call_id", `"${id.slice(0, 80)}" is not a relayed call id (0x and 64 hex digits)`, { id: id.slice(0, 80) });
  return id.toLowerCase();
}

/**
 * A record the node may still be mining: throws its error once failed,
 * and returns it otherwise (submitted: poll {@link getRelayedCall} until mined).
 */
function final(r: RelayedCallRecord): RelayedCallRecord {
  if (r.status === "failed") throw new OrioleError(r.error?.code ?? "relay_failed", r.error?.message ?? "the relayed call failed", { id: r.id, txHash: r.txHash ?? "" });
  return r;
}

/** Fundings, reserves and withdrawal requests are idempotent by their signed authorization: safe to try again. */
const RELAYED_RETRIES = 2;

/** POST /v1/escrows/fundings. Submitting the same authorization again returns the first record. */
export async function submitEscrowFunding(apiUrl: string, body: EscrowFundingJson): Promise<RelayedCallRecord> {
  return final(await requestJson(apiUrl, "/v1/escrows/fundings", relayedCallRecordSchema, { method: "POST", body, timeoutMs: RECORD_TIMEOUT_MS, retries: RELAYED_RETRIES }));
}

/** POST /v1/offline/reservations. Submitting the same authorization again returns the first record. */
export async function submitOfflineReserve(apiUrl: string, body: OfflineReserveJson): Promise<RelayedCallRecord> {
  return final(await requestJson(apiUrl, "/v1/offline/reservations", relayedCallRecordSchema, { method: "POST", body, timeoutMs: RECORD_TIMEOUT_MS, retries: RELAYED_RETRIES }));
}

/** POST /v1/offline/withdrawals. Submitting the same signed request again returns the first record. */
export async function submitOfflineWithdrawalRequest(apiUrl: string, body: OfflineWithdrawalRequestJson): Promise<RelayedCallRecord> {
  return final(await requestJson(apiUrl, "/v1/offline/withdrawals", relayedCallRecordSchema, { method: "POST", body, timeoutMs: RECORD_TIMEOUT_MS, retries: RELAYED_RETRIES }));
}

/**
 * POST /v1/offline/withdrawals/complete: the node completes `payer`'s unlocked withdrawal (no signature: the
 * vault pays the payer only). Once completed, asking again returns the completion's record.
 * @throws OrioleError `no_withdrawal`, `withdrawal_locked`, `offline_payer_in_default` (the node's codes)
 */
export async function completeWithdrawalViaNode(apiUrl: string, body: OfflineWithdrawalCompletionJson): Promise<RelayedCallRecord> {
  return final(await requestJson(apiUrl, "/v1/offline/withdrawals/complete", relayedCallRecordSchema, { method: "POST", body: { payer: checkedAddress(body.payer), token: checkedAddress(body.token) }, timeoutMs: RECORD_TIMEOUT_MS }));
}

const RECORD_PATHS: Readonly<Record<RelayedCallKind, string>> = {
  escrow_funding: "/v1/escrows/fundings/",
  offline_reserve: "/v1/offline/reservations/",
  offline_withdrawal_request: "/v1/offline/withdrawals/",
  offline_withdrawal: "/v1/offline/withdrawals/",
};

/** GET a relayed call's record by kind and id (the chain's outcome once mined). */
export async function getRelayedCall(apiUrl: string, kind: RelayedCallKind, id: string): Promise<RelayedCallRecord> {
  return requestJson(apiUrl, `${RECORD_PATHS[kind]}${checkedId(id)}`, relayedCallRecordSchema);
}
