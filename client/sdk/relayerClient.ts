import { checkedAddress, requestJson } from "./apiClient.ts";
import { OrioleError } from "./errors.ts";
import { type IntentRecord, intentRecordSchema, type IntentSubmissionJson, nextNonceResponseSchema } from "./account/relayerApi.ts";

/**
 * Client of the node's relayer (spec §4). Same request and error handling as
 * the API client: the node's `{error:{code,message}}` becomes an OrioleError
 * with the relayer's code (`nonce_used`, `fee_too_low`, `invalid_signature`, ...).
 */

const ID_RE = /^0x[0-9a-fA-F]{64}$/;

function checkedId(id: string): string {
  if (!ID_RE.test(id)) throw new OrioleError("invalid_intent_id", `"${id}" is not an intent id (0x and 64 hex digits)`, { id });
  return id.toLowerCase();
}

/** `POST /v1/intents`: hands a signed intent to the relayer; resubmitting returns the first result. */
export async function submitIntent(baseUrl: string, body: IntentSubmissionJson, opts: { timeoutMs?: number } = {}): Promise<IntentRecord> {
  // An intent is idempotent by its digest: a retry after a lost answer returns the first record.
  return requestJson(baseUrl, "/v1/intents", intentRecordSchema, { method: "POST", body, retries: 2, ...opts });
}

/** `GET /v1/intents/{id}`; OrioleError `intent_not_found` for an unknown id. */
export async function getIntent(baseUrl: string, id: string, opts: { timeoutMs?: number } = {}): Promise<IntentRecord> {
  return requestJson(baseUrl, `/v1/intents/${checkedId(id)}`, intentRecordSchema, opts);
}

/**
 * Polls an intent until it is `confirmed` or `failed` and returns that record
 * (a failed one is returned, not thrown: its `error` says why).
 * @throws OrioleError `intent_timeout` if still pending after `timeoutMs` (default 60 s).
 */
export async function waitForIntent(baseUrl: string, id: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<IntentRecord> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // At least 1 s per poll: near the deadline a live node must not be judged unreachable (node_unreachable) for a slow answer.
    const record = await getIntent(baseUrl, id, { timeoutMs: Math.min(10_000, Math.max(1_000, deadline - Date.now())) });
    if (record.status === "confirmed" || record.status === "failed") return record;
    if (Date.now() + intervalMs > deadline) {
      throw new OrioleError("intent_timeout", `intent ${id} is still ${record.status} after ${timeoutMs} ms`, { id, status: record.status, txHash: record.txHash });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `GET /v1/accounts/{account}/next-nonce`: the lowest nonce neither used on-chain nor held by an in-flight intent. */
export async function nextNonce(baseUrl: string, account: string, opts: { timeoutMs?: number } = {}): Promise<bigint> {
  const r = await requestJson(baseUrl, `/v1/accounts/${checkedAddress(account)}/next-nonce`, nextNonceResponseSchema, opts);
  return r.nonce;
}
