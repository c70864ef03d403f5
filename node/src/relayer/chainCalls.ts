import type { JsonRpcProvider } from "ethers";
import type { PaymentIntent } from "../../../client/sdk/account/intent.ts";
import { OrioleError } from "../../../client/sdk/errors.ts";
import { isExecutionRevert } from "../../../client/sdk/executionRevert.ts";
import { accountInterface, decodeRevert, relayInterface, type DecodedRevert } from "./contracts.ts";
import type { AccountDeployment } from "./intentSchema.ts";

/** One payment the relayer puts on-chain. */
export interface RelayItem {
  account: string;
  intent: PaymentIntent;
  relayerFee: bigint;
  signature: string;
  /** Set when the account must be deployed by this call. */
  deployment?: AccountDeployment | undefined;
}

/** The exact call a relayer transaction makes. */
export interface RelayCall {
  /** `direct`: the account's own executePayment (one payment of a deployed account); `relay`: PaymentRelay.relay. */
  kind: "direct" | "relay";
  to: string;
  data: string;
}

export const intentTuple = (i: PaymentIntent): unknown[] => [i.token, i.to, i.amount, i.reference, i.nonce, i.deadline, i.maxRelayerFee];

/**
 * The call carrying `items`: one payment of a deployed account calls the
 * account's executePayment directly (no relay hop: cheaper); anything else
 * goes through PaymentRelay.relay, which deploys the accounts that need it
 * and isolates each payment's failure.
 */
export function buildRelayCall(items: readonly RelayItem[], relay: string, feeRecipient: string): RelayCall {
  const only = items[0];
  if (items.length === 1 && only && !only.deployment) {
    return {
      kind: "direct",
      to: only.account,
      data: accountInterface.encodeFunctionData("executePayment", [intentTuple(only.intent), only.relayerFee, feeRecipient, only.signature]),
    };
  }
  const deployments = new Map<string, AccountDeployment>();
  for (const it of items) if (it.deployment) deployments.set(it.account, it.deployment);
  return {
    kind: "relay",
    to: relay,
    data: relayInterface.encodeFunctionData("relay", [
      [...deployments.values()].map((d) => [d.qx, d.qy, d.salt]),
      items.map((it) => [it.account, intentTuple(it.intent), it.relayerFee, it.signature]),
      feeRecipient,
    ]),
  };
}

export type CallOutcome = { ok: true; data: string } | { ok: false; revert: DecodedRevert };

const unavailable = (method: string, e: unknown): OrioleError =>
  new OrioleError("chain_unavailable", `the chain's JSON-RPC failed (${method}): ${e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e)}`, { method }, { cause: e });

/** eth_call at the latest block; a revert comes back decoded, any other failure throws `chain_unavailable`. */
export async function ethCall(provider: JsonRpcProvider, tx: { from?: string; to: string; data: string; gasLimit?: bigint }): Promise<CallOutcome> {
  try {
    return { ok: true, data: await provider.call(tx) };
  } catch (e) {
    if (isExecutionRevert(e)) return { ok: false, revert: decodeRevert(e.data) };
    throw unavailable("eth_call", e);
  }
}

export type GasOutcome = { ok: true; gas: bigint } | { ok: false; revert: DecodedRevert };

/** eth_estimateGas; a revert comes back decoded, any other failure throws `chain_unavailable`. */
export async function estimateGas(provider: JsonRpcProvider, tx: { from: string; to: string; data: string }): Promise<GasOutcome> {
  try {
    return { ok: true, gas: await provider.estimateGas(tx) };
  } catch (e) {
    if (isExecutionRevert(e)) return { ok: false, revert: decodeRevert(e.data) };
    throw unavailable("eth_estimateGas", e);
  }
}

/** Runs a read; turns an RPC failure into `chain_unavailable`. */
export async function chainRead<T>(method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof OrioleError) throw e;
    throw unavailable(method, e);
  }
}
