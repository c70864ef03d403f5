import { paymentIntentJsonSchema } from "../../../client/sdk/account/intent.ts";
import type { IntentRecordJson } from "../../../client/sdk/account/relayerApi.ts";
import type { RelayItem } from "./chainCalls.ts";
import type { IntentSubmission } from "./intentSchema.ts";
import type { IntentRecord } from "./intentStore.ts";

/** What the API answers for an intent (POST /v1/intents, GET /v1/intents/{id}): the SDK's wire record. */
export type IntentView = IntentRecordJson;

export function toView(r: IntentRecord): IntentView {
  return {
    id: r.id,
    status: r.status,
    txHash: r.txHash,
    account: r.account,
    nonce: r.intent.nonce,
    relayerFee: r.relayerFee,
    ...(r.error ? { error: r.error } : {}),
  };
}

/** A stored intent as the call item the sender puts on-chain (the deployment decided at send time). */
export function parseStoredIntent(r: IntentRecord): RelayItem {
  return {
    account: r.account,
    intent: paymentIntentJsonSchema.parse(r.intent),
    relayerFee: BigInt(r.relayerFee),
    signature: r.signature,
    deployment: r.deployment ? { qx: r.deployment.qx, qy: r.deployment.qy, salt: BigInt(r.deployment.salt) } : undefined,
  };
}

/** A stored intent as the submission it came from (re-validation after a restart). */
export function storedSubmission(r: IntentRecord): IntentSubmission {
  const item = parseStoredIntent(r);
  return { account: item.account, intent: item.intent, signature: item.signature, deployment: item.deployment };
}
