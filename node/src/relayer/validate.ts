import { getAddress, type JsonRpcProvider } from "ethers";
import { predictAccountAddress } from "../../../client/sdk/account/accountAddress.ts";
import { hashPaymentIntent } from "../../../client/sdk/account/intent.ts";
import { decodePasskeySignature, verifyPasskeySignature } from "../../../client/sdk/account/webauthn.ts";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import { buildRelayCall, chainRead, ethCall, type RelayItem } from "./chainCalls.ts";
import { relayInterface, tokenInterface } from "./contracts.ts";
import { relayerError, type RelayerErrorCode } from "./errors.ts";
import type { IntentSubmission } from "./intentSchema.ts";

/** An intent may not be valid for longer than this (nonces stay reserved meanwhile). */
export const MAX_DEADLINE_AHEAD_S = 86_400;
/** An intent must stay valid at least this long, or it may expire before it is mined. */
export const MIN_DEADLINE_AHEAD_S = 5;

export interface AccountContracts {
  implementation: string;
  factory: string;
  relay: string;
}

/** What the checks read: the chain, Oriole's contracts on it and the relayer's terms. */
export interface ValidationContext {
  chainId: number;
  provider: JsonRpcProvider;
  /** Checksummed token address per currency. */
  tokens: Record<Currency, string>;
  accounts: AccountContracts;
  /** The relayer's fee per currency, base units. */
  fees: Record<Currency, bigint>;
  relayerAddress: string;
}

/** A submission that passed the checks needing no chain. */
export interface CheckedIntent {
  /** The intent's EIP-712 digest, lowercase: its id and the challenge the device signed. */
  id: string;
  submission: IntentSubmission;
  currency: Currency;
  relayerFee: bigint;
  device: { qx: string; qy: string };
}

/** The intent's id: its EIP-712 digest under the account's domain. */
export function intentId(chainId: number, s: IntentSubmission): string {
  return hashPaymentIntent(chainId, s.account, s.intent).toLowerCase();
}

/**
 * The checks that need no chain, cheapest first: supported token, fee
 * policy, signature well formed with UV and valid over the intent's digest.
 */
export function checkOffline(ctx: ValidationContext, s: IntentSubmission, id: string): CheckedIntent {
  const currency = CURRENCIES.find((c) => ctx.tokens[c] === getAddress(s.intent.token));
  if (!currency) throw relayerError("unsupported_token", `token ${s.intent.token} is not one of Oriole's stablecoins on this chain (see /v1/network)`);
  const relayerFee = ctx.fees[currency];
  if (s.intent.maxRelayerFee < relayerFee) {
    throw relayerError("fee_too_low", `maxRelayerFee ${s.intent.maxRelayerFee.toString()} is below this relayer's fee of ${relayerFee.toString()} base units for ${currency}`, {
      fee: relayerFee.toString(),
    });
  }
  let decoded;
  try {
    decoded = decodePasskeySignature(s.signature);
  } catch (e) {
    throw relayerError("invalid_signature", (e as Error).message);
  }
  if (!decoded.flags.userVerified) {
    throw relayerError("user_verification_required", "the passkey assertion has no user verification (UV flag): confirm with biometrics or the device PIN");
  }
  if (!verifyPasskeySignature(id, s.signature)) {
    throw relayerError("invalid_signature", "the passkey signature does not verify over this intent for this account and chain");
  }
  return { id, submission: s, currency, relayerFee, device: { qx: decoded.qx.toLowerCase(), qy: decoded.qy.toLowerCase() } };
}

/** Head timestamps are cached this long: 200 concurrent admissions need one block header, not 200. */
const CHAIN_TIME_TTL_MS = 1_000;
const chainTimes = new WeakMap<JsonRpcProvider, { at: number; value: Promise<bigint> }>();

/** Current time as the next block will see it (the later of the head's timestamp and the wall clock), unix seconds. */
async function chainNow(provider: JsonRpcProvider): Promise<bigint> {
  const cached = chainTimes.get(provider);
  let head: Promise<bigint>;
  if (cached && Date.now() - cached.at < CHAIN_TIME_TTL_MS) {
    head = cached.value;
  } else {
    head = chainRead("eth_getBlockByNumber", () => provider.getBlock("latest")).then((b) => BigInt(b?.timestamp ?? 0));
    chainTimes.set(provider, { at: Date.now(), value: head });
    head.catch(() => chainTimes.delete(provider));
  }
  const ts = await head;
  const wall = BigInt(Math.floor(Date.now() / 1000));
  return ts > wall ? ts : wall;
}

/** Whether `account` has code. */
export async function isDeployed(provider: JsonRpcProvider, account: string): Promise<boolean> {
  const code = await chainRead("eth_getCode", () => provider.getCode(account));
  return code !== "0x";
}

/** Reverts of the simulation that say what is wrong with the intent itself get their own code. */
const OWN_CODES = new Set<string>(["nonce_used", "unknown_device", "intent_expired", "invalid_signature", "user_verification_required"]);

/**
 * The checks against the chain: deadline; for a counterfactual account,
 * the deployment reproduces its address and the signing key is its initial
 * device; then an eth_call of the exact call the relayer sends for this
 * intent alone. For a deployed account that call checks the device and the
 * nonce (its revert says which: `unknown_device`, `nonce_used`), so the
 * admission costs two RPC calls (code, simulation). Returns whether the
 * account is deployed (else the deployment travels with the payment).
 */
export async function checkOnChain(ctx: ValidationContext, c: CheckedIntent): Promise<{ deployed: boolean }> {
  const { provider } = ctx;
  const s = c.submission;
  const [now, deployed] = await Promise.all([chainNow(provider), isDeployed(provider, s.account)]);
  if (s.intent.deadline < now + BigInt(MIN_DEADLINE_AHEAD_S)) {
    throw relayerError("intent_expired", `the intent's deadline ${s.intent.deadline.toString()} has passed or is less than ${MIN_DEADLINE_AHEAD_S} s away (chain time ${now.toString()})`);
  }
  if (s.intent.deadline > now + BigInt(MAX_DEADLINE_AHEAD_S)) {
    throw relayerError("invalid_request", `the intent's deadline ${s.intent.deadline.toString()} is more than ${MAX_DEADLINE_AHEAD_S} s (1 day) ahead of chain time ${now.toString()}`);
  }
  if (s.deployment) {
    const d = s.deployment;
    const predicted = predictAccountAddress({ factory: ctx.accounts.factory, implementation: ctx.accounts.implementation, qx: d.qx, qy: d.qy, salt: d.salt });
    if (predicted !== s.account) throw relayerError("deployment_mismatch", `the deployment (qx, qy, salt) gives account ${predicted}, not ${s.account}`);
  }
  if (!deployed) {
    if (!s.deployment) {
      throw relayerError("account_not_deployed", `account ${s.account} is not deployed yet: send its deployment {qx, qy, salt} with its first payment`);
    }
    if (s.deployment.qx !== c.device.qx || s.deployment.qy !== c.device.qy) {
      throw relayerError("unknown_device", `the signing key is not the initial device of the counterfactual account ${s.account}`);
    }
  }
  await simulate(ctx, c, deployed);
  return { deployed };
}

/** The item as the sender will put it on-chain. */
export function relayItem(c: CheckedIntent, deployed: boolean): RelayItem {
  const s = c.submission;
  return { account: s.account, intent: s.intent, relayerFee: c.relayerFee, signature: s.signature, deployment: deployed ? undefined : s.deployment };
}

async function simulate(ctx: ValidationContext, c: CheckedIntent, deployed: boolean): Promise<void> {
  const call = buildRelayCall([relayItem(c, deployed)], ctx.accounts.relay, ctx.relayerAddress);
  const r = await ethCall(ctx.provider, { from: ctx.relayerAddress, to: call.to, data: call.data });
  if (!r.ok) {
    if (OWN_CODES.has(r.revert.code)) throw relayerError(r.revert.code as RelayerErrorCode, `${r.revert.message} (account ${c.submission.account})`);
    throw relayerError("simulation_failed", `the payment would fail: ${r.revert.message}`, { reason: r.revert.code });
  }
  if (call.kind === "direct") return;
  const failures = relayInterface.decodeFunctionResult("relay", r.data)[0] as bigint;
  if (failures === 0n) return;
  // PaymentRelay catches the failure (its reason is only in an event):
  // find it with the two reads that can fail for a fresh account.
  throw relayerError("simulation_failed", `the payment would fail: ${await diagnose(ctx, c)}`, { reason: "reverted" });
}

async function diagnose(ctx: ValidationContext, c: CheckedIntent): Promise<string> {
  const s = c.submission;
  const bal = await ethCall(ctx.provider, { to: s.intent.token, data: tokenInterface.encodeFunctionData("balanceOf", [s.account]) });
  if (bal.ok) {
    const balance = tokenInterface.decodeFunctionResult("balanceOf", bal.data)[0] as bigint;
    const needed = s.intent.amount + c.relayerFee;
    if (balance < needed) {
      return `insufficient balance: ${balance.toString()} base units available, ${needed.toString()} needed (amount + relayer fee)`;
    }
  }
  const pay = await ethCall(ctx.provider, {
    from: s.account,
    to: s.intent.token,
    data: tokenInterface.encodeFunctionData("pay", [s.intent.to, s.intent.amount, s.intent.reference]),
  });
  return pay.ok ? "the account's first payment reverted" : pay.revert.message;
}
