import { z } from "zod";
import { jsonAddress, jsonBytes32, jsonUint256, paymentIntentJsonSchema, paymentIntentToJson } from "./intent.ts";

/**
 * The relayer's wire format (spec §4), shared by the node (parsing requests,
 * writing responses) and the clients (writing requests, parsing responses).
 */

/** An intent's life: queued → submitted → confirmed | failed. */
export const INTENT_STATUSES = ["queued", "submitted", "confirmed", "failed"] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

/** Counterfactual deployment parameters: the relayer deploys the account with its first payment. */
export const deploymentParamsJsonSchema = z.strictObject({ qx: jsonBytes32, qy: jsonBytes32, salt: jsonUint256 });

/** Body of `POST /v1/intents`: decimal strings in JSON, bigint after parsing. Unknown fields are refused. */
export const intentSubmissionSchema = z.strictObject({
  account: jsonAddress,
  intent: paymentIntentJsonSchema,
  /** The passkey signature (spec §1); its content is the relayer's to judge (`invalid_signature`). */
  signature: z.string().regex(/^0x(?:[0-9a-fA-F]{2})+$/, "not 0x-hex bytes"),
  deployment: deploymentParamsJsonSchema.optional(),
});
export type IntentSubmission = z.output<typeof intentSubmissionSchema>;
export type IntentSubmissionJson = z.input<typeof intentSubmissionSchema>;

/** A submission as JSON. */
export function intentSubmissionToJson(s: IntentSubmission): IntentSubmissionJson {
  const json: IntentSubmissionJson = { account: s.account, intent: paymentIntentToJson(s.intent), signature: s.signature };
  if (s.deployment) json.deployment = { qx: s.deployment.qx, qy: s.deployment.qy, salt: s.deployment.salt.toString() };
  return json;
}

/** What `POST /v1/intents` and `GET /v1/intents/{id}` answer; `id` is the intent's EIP-712 digest. */
export const intentRecordSchema = z.object({
  id: jsonBytes32,
  status: z.enum(INTENT_STATUSES),
  /** null until the relayer has broadcast a transaction. */
  txHash: jsonBytes32.nullish().transform((v) => v ?? null),
  account: jsonAddress,
  nonce: jsonUint256,
  relayerFee: jsonUint256,
  error: z
    .object({ code: z.string().min(1), message: z.string() })
    .nullish()
    .transform((v) => v ?? undefined),
});
export type IntentRecord = z.output<typeof intentRecordSchema>;
export type IntentRecordJson = z.input<typeof intentRecordSchema>;

/** A record as JSON (bigint → decimal string). */
export function intentRecordToJson(r: IntentRecord): IntentRecordJson {
  const json: IntentRecordJson = { id: r.id, status: r.status, txHash: r.txHash, account: r.account, nonce: r.nonce.toString(), relayerFee: r.relayerFee.toString() };
  if (r.error) json.error = { code: r.error.code, message: r.error.message };
  return json;
}

/** `GET /v1/accounts/{account}/next-nonce`. */
export const nextNonceResponseSchema = z.object({ nonce: jsonUint256 });
