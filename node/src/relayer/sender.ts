import { isError, keccak256, type JsonRpcProvider, type TransactionReceipt, type Wallet } from "ethers";
import { isOrioleError } from "../../../client/sdk/errors.ts";
import type { Logger } from "../log.ts";
import { buildRelayCall, estimateGas, ethCall, type RelayCall, type RelayItem } from "./chainCalls.ts";
import { decodeRevert, relayInterface } from "./contracts.ts";
import { parseStoredIntent } from "./records.ts";
import type { IntentRecord, IntentStore, TxAttempt, TxRecord } from "./intentStore.ts";
import { isDeployed } from "./validate.ts";

export interface SenderOptions {
  provider: JsonRpcProvider;
  chainId: number;
  /** The relayer's EOA: pays gas, signs every transaction, receives the fees. */
  wallet: Wallet;
  relay: string;
  store: IntentStore;
  log: Logger;
  /** Most payments in one transaction. */
  batchSize: number;
  /** Receipt polling interval. */
  pollMs: number;
  /** A transaction not mined after this long is re-broadcast with the same nonce and higher fees. */
  resendAfterMs: number;
  /** Called once per intent that reached confirmed or failed. */
  onFinal: (record: IntentRecord) => void;
}

/** A transaction carrying an intent reverted as a whole this many times: the intent fails. */
const MAX_REVERTS = 3;
/** Replacement fees: +25% (nodes require at least +10% on both fee fields). */
const BUMP_NUM = 125n;
const BUMP_DEN = 100n;
/** Gas limit = estimate × 1.3 + 30k: headroom for state that moves between estimate and inclusion. */
const gasWithHeadroom = (estimate: bigint): bigint => (estimate * 13n) / 10n + 30_000n;
/** Budget per account deployed by a batch, on top of its payments (a clone + initialize costs ~150k). */
const DEPLOY_GAS = 250_000n;
const IDLE_MS = 1_000;
const MAX_BACKOFF_MS = 5_000;

const errorMessage = (e: unknown): string => (e instanceof Error ? (e.message.split("\n")[0] ?? e.message) : String(e));

/** A node's refusal for too little ETH: geth, anvil ("insufficient funds for gas * price + value"), Hardhat ("doesn't have enough funds"). */
const UNFUNDED = /insufficient funds|enough funds/i;

/**
 * The one owner of the relayer EOA's nonce. It takes queued intents in
 * batches, sends ONE transaction at a time (the whole queue rides in the
 * next batch while one is in flight), and follows it to its receipt. A
 * transaction not mined in time is replaced (same nonce, same calldata,
 * higher fees), never sent again under a new nonce, so an intent can
 * never be carried by two mined transactions. Each transaction is signed
 * and stored before it is broadcast: after a crash, `start` finds it by its
 * hashes and carries on.
 */
export class Sender {
  readonly #o: SenderOptions;
  readonly #log: Logger;
  readonly #address: string;
  #queue: IntentRecord[] = [];
  #pending: TxRecord | undefined;
  /** A broadcast said the nonce is already used: check at once whether by us. */
  #nonceSuspect = false;
  /**
   * Hashes of attempts the node refused outright (the broadcast failed and
   * the node does not know them, e.g. no ETH for gas): a replacement has no
   * need to outbid them. Memory only: after a restart every attempt counts.
   */
  readonly #refused = new Set<string>();
  /** The last broadcast was refused for too little ETH for gas (cleared by the next accepted one). */
  #unfunded = false;
  #nonce = 0;
  #cap: number;
  /** Most gas a relayed payment used so far (receipts); lets later batches skip eth_estimateGas's search. */
  #gasPerPayment: bigint | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(opts: SenderOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ component: "relayer" });
    this.#address = opts.wallet.address;
    this.#cap = opts.batchSize;
  }

  /**
   * Resumes from the store: the pending transaction (if any) is followed by
   * its hashes; `queued` intents (already re-validated by the caller) are
   * sent next. Then starts the loop.
   */
  async start(pending: readonly TxRecord[], queued: readonly IntentRecord[]): Promise<void> {
    const chainNonce = await this.#o.provider.getTransactionCount(this.#address, "pending");
    const last = pending.at(-1);
    this.#nonce = Math.max(chainNonce, last ? last.nonce + 1 : 0);
    this.#pendingList = [...pending];
    this.#pending = this.#pendingList.shift();
    this.#queue.push(...queued);
    // A transaction stored but maybe never broadcast (crash in between): send it again now.
    if (this.#pending) await this.#broadcast(this.#pending, this.#pending.attempts.at(-1));
    this.#loop = this.#run();
  }

  #pendingList: TxRecord[] = [];

  enqueue(record: IntentRecord): void {
    this.#queue.push(record);
    this.#wake?.();
  }

  /** Intents waiting for a transaction. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Whether the relayer's EOA lacks the ETH to pay gas (its last broadcast was refused for it): operators must fund it. */
  get unfunded(): boolean {
    return this.#unfunded;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
  }

  async #run(): Promise<void> {
    let backoff = 100;
    while (!this.#stopped) {
      try {
        if (this.#pending) await this.#track(this.#pending);
        else if (this.#queue.length > 0) await this.#sendBatch();
        else await this.#sleep(IDLE_MS);
        backoff = 100;
      } catch (e) {
        this.#log.warn("relayer step failed; retrying", { error: errorMessage(e), code: isOrioleError(e) ? e.code : undefined });
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  // ------------------------------------------------------------------ sending

  async #sendBatch(): Promise<void> {
    const batch = this.#queue.splice(0, this.#cap);
    const t0 = performance.now();
    let tx: TxRecord | undefined;
    try {
      tx = await this.#prepare(batch);
      if (!tx) return;
      const attempt = tx.attempts[0];
      const submitted = batch.map((r) => ({ ...r, status: "submitted" as const, txHash: attempt?.hash ?? null, updatedAt: Date.now() }));
      // Signed and on disk before it is broadcast: after a crash it is found by its hash, never re-sent under a new nonce.
      await this.#o.store.write({ intents: submitted, putTx: tx });
    } catch (e) {
      // Nothing was stored for them: they wait for the next batch.
      this.#queue.unshift(...batch);
      throw e;
    }
    this.#pending = tx;
    this.#nonce += 1;
    this.#log.info("relaying", { nonce: tx.nonce, payments: batch.length, kind: tx.kind, txHash: tx.attempts[0]?.hash, gasLimit: tx.gasLimit, prepareMs: Math.round(performance.now() - t0) });
    await this.#broadcast(tx, tx.attempts[0]);
  }

  /** The signed transaction for `batch`, or undefined when the batch was handled otherwise (see #gasFor). */
  async #prepare(batch: IntentRecord[]): Promise<TxRecord | undefined> {
    const items = await this.#items(batch);
    const call = buildRelayCall(items, this.#o.relay, this.#address);
    const gas = await this.#gasFor(call, batch, items);
    if (gas === undefined) return undefined;
    const fees = await this.#o.provider.getFeeData();
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 1_000_000_000n;
    const maxFeePerGas = fees.maxFeePerGas ?? (fees.gasPrice ?? 0n) * 2n + maxPriorityFeePerGas;
    const tx: TxRecord = { nonce: this.#nonce, ids: batch.map((r) => r.id), kind: call.kind, to: call.to, data: call.data, gasLimit: gas.toString(), attempts: [] };
    tx.attempts.push(await this.#sign(tx, maxFeePerGas, maxPriorityFeePerGas));
    return tx;
  }

  /** The batch as call items; a deployment rides along only while the account has no code. */
  async #items(batch: readonly IntentRecord[]): Promise<RelayItem[]> {
    const parsed = batch.map(parseStoredIntent);
    const accounts = [...new Set(parsed.filter((p) => p.deployment).map((p) => p.account))];
    const deployed = new Map(await Promise.all(accounts.map(async (a) => [a, await isDeployed(this.#o.provider, a)] as const)));
    return parsed.map((p) => ({ ...p, deployment: p.deployment && deployed.get(p.account) !== true ? p.deployment : undefined }));
  }

  /**
   * The gas limit for `call`, or undefined when the batch was handled
   * otherwise: a reverting direct call fails its intent; a reverting batch
   * has its culprits failed one by one and the rest re-queued.
   */
  async #gasFor(call: RelayCall, batch: IntentRecord[], items: RelayItem[]): Promise<bigint | undefined> {
    const tx = { from: this.#address, to: call.to, data: call.data };
    if (call.kind === "relay" && this.#gasPerPayment !== undefined) {
      // A budget from past receipts, checked by one eth_call: enough gas iff no payment fails at that limit.
      const deployments = BigInt(items.filter((i) => i.deployment).length);
      const budget = (BigInt(items.length) * this.#gasPerPayment * 3n) / 2n + deployments * DEPLOY_GAS + 60_000n;
      const r = await ethCall(this.#o.provider, { ...tx, gasLimit: budget });
      if (r.ok && (relayInterface.decodeFunctionResult("relay", r.data)[0] as bigint) === 0n) return budget;
    }
    const t0 = performance.now();
    const est = await estimateGas(this.#o.provider, tx);
    this.#log.debug("gas estimated", { kind: call.kind, items: items.length, ms: Math.round(performance.now() - t0), gas: est.ok ? est.gas : undefined });
    if (est.ok) {
      const limit = gasWithHeadroom(est.gas);
      return call.kind === "relay" ? this.#relayGasLimit(call, limit) : limit;
    }
    if (call.kind === "direct") {
      await this.#fail(batch.map((record) => ({ record, code: est.revert.code, message: `the payment would fail: ${est.revert.message}` })));
      return undefined;
    }
    // A relay call reverts only if a deployment or the batch as a whole fails: find out which item.
    const outcomes = await Promise.all(
      items.map(async (item) => {
        const single = buildRelayCall([item], this.#o.relay, this.#address);
        return ethCall(this.#o.provider, { from: this.#address, to: single.to, data: single.data });
      }),
    );
    const keep: IntentRecord[] = [];
    const culprits: { record: IntentRecord; code: string; message: string }[] = [];
    for (const [i, r] of batch.entries()) {
      const res = outcomes[i];
      if (res && !res.ok) culprits.push({ record: r, code: res.revert.code, message: `the payment would fail: ${res.revert.message}` });
      else keep.push(r);
    }
    await this.#fail(culprits);
    // Every item passes alone: the batch is too big (gas), halve it for the next tries.
    if (keep.length === batch.length) this.#cap = Math.max(1, Math.floor(batch.length / 2));
    this.#queue.unshift(...keep);
    this.#log.warn("batch estimate reverted", { items: batch.length, failed: batch.length - keep.length, reason: est.revert.message });
    return undefined;
  }

  /**
   * PaymentRelay catches each payment's failure, so a gas limit that is too
   * tight makes payments fail (out of gas, caught) instead of the
   * transaction. Each item passed its own simulation, so a batch normally
   * shows no failure at `limit` (one eth_call); if it does, and not with
   * unlimited gas, the limit is raised until it matches.
   */
  async #relayGasLimit(call: RelayCall, limit: bigint): Promise<bigint> {
    const failures = async (gasLimit?: bigint): Promise<bigint | undefined> => {
      const r = await ethCall(this.#o.provider, { from: this.#address, to: call.to, data: call.data, ...(gasLimit ? { gasLimit } : {}) });
      return r.ok ? (relayInterface.decodeFunctionResult("relay", r.data)[0] as bigint) : undefined;
    };
    let limited = await failures(limit);
    if (limited === 0n) return limit;
    const unlimited = await failures();
    for (let i = 0; i < 4 && limited !== unlimited; i++) {
      limit *= 2n;
      limited = await failures(limit);
    }
    if (limited !== unlimited) this.#log.warn("relay gas limit may starve payments", { unlimited, limited, limit });
    return limit;
  }

  async #sign(tx: TxRecord, maxFeePerGas: bigint, maxPriorityFeePerGas: bigint): Promise<TxAttempt> {
    const raw = await this.#o.wallet.signTransaction({
      type: 2,
      chainId: this.#o.chainId,
      nonce: tx.nonce,
      to: tx.to,
      data: tx.data,
      value: 0n,
      gasLimit: BigInt(tx.gasLimit),
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    return { hash: keccak256(raw), raw, maxFeePerGas: maxFeePerGas.toString(), maxPriorityFeePerGas: maxPriorityFeePerGas.toString(), sentAt: Date.now() };
  }

  async #broadcast(tx: TxRecord, attempt: TxAttempt | undefined): Promise<void> {
    if (!attempt) return;
    try {
      await this.#o.provider.send("eth_sendRawTransaction", [attempt.raw]);
      this.#refused.delete(attempt.hash);
      if (this.#unfunded) this.#log.info("relayer funded again: sending", { address: this.#address });
      this.#unfunded = false;
    } catch (e) {
      this.#log.warn("broadcast failed", { nonce: tx.nonce, txHash: attempt.hash, error: errorMessage(e) });
      const unfunded = isError(e, "INSUFFICIENT_FUNDS") || UNFUNDED.test(errorMessage(e));
      if (unfunded && !this.#unfunded) {
        // Intents stay queued and are sent once funded; only the operator can fix it, so say so once, loudly.
        this.#log.error("relayer has too little ETH for gas: intents wait until it is funded", { address: this.#address });
      }
      if (unfunded) this.#unfunded = true;
      if (isError(e, "NONCE_EXPIRED")) this.#nonceSuspect = true;
      // Otherwise (already known, underpriced, no funds, RPC down…) tracking retries with a replacement.
      else if (await this.#unknownToNode(attempt.hash)) this.#refused.add(attempt.hash);
    }
  }

  /** Whether the node has never heard of `hash` (an RPC failure counts as "it may have it"). */
  async #unknownToNode(hash: string): Promise<boolean> {
    try {
      return (await this.#o.provider.getTransaction(hash)) === null;
    } catch {
      return false;
    }
  }

  // ------------------------------------------------------------------ tracking

  async #receipt(tx: TxRecord): Promise<TransactionReceipt | undefined> {
    const receipts = await Promise.all(tx.attempts.map((a) => this.#o.provider.getTransactionReceipt(a.hash)));
    return receipts.find((r): r is TransactionReceipt => r !== null);
  }

  async #track(tx: TxRecord): Promise<void> {
    const receipt = await this.#receipt(tx);
    if (receipt) {
      await this.#settle(tx, receipt);
      return;
    }
    // The latest send of any attempt (a refused one may be sent again: see #replace).
    const sentAt = Math.max(...tx.attempts.map((a) => a.sentAt));
    const stale = tx.attempts.length === 0 || Date.now() - sentAt >= this.#o.resendAfterMs;
    if (stale || this.#nonceSuspect) {
      this.#nonceSuspect = false;
      const used = await this.#o.provider.getTransactionCount(this.#address, "latest");
      if (used > tx.nonce) {
        // The nonce is taken. Ours may have just been mined: look once more before concluding.
        const again = await this.#receipt(tx);
        if (again) await this.#settle(tx, again);
        else await this.#lostNonce(tx);
        return;
      }
      if (stale) await this.#replace(tx);
    }
    await this.#sleep(this.#o.pollMs);
  }

  /**
   * Same nonce, same calldata and gas, fees bumped: the replacement takes the
   * dropped or stuck one's place. It outbids the latest attempt the node may
   * hold, not the refused ones: bumping +25% on every refusal (a relayer out
   * of ETH, retried every resendAfterMs) would price the transaction beyond
   * any later funding and the RPC's fee cap, so it would never be sent.
   */
  async #replace(tx: TxRecord): Promise<void> {
    const last = tx.attempts.at(-1);
    const held = tx.attempts.findLast((a) => !this.#refused.has(a.hash));
    const fees = await this.#o.provider.getFeeData();
    const bump = (v: string | undefined): bigint => (v === undefined ? 0n : (BigInt(v) * BUMP_NUM + BUMP_DEN - 1n) / BUMP_DEN);
    const maxPriorityFeePerGas = max(bump(held?.maxPriorityFeePerGas), fees.maxPriorityFeePerGas ?? 0n);
    const maxFeePerGas = max(bump(held?.maxFeePerGas), fees.maxFeePerGas ?? 0n, maxPriorityFeePerGas);
    const attempt = await this.#sign(tx, maxFeePerGas, maxPriorityFeePerGas);
    // Signing is deterministic: unchanged fees give a refused attempt again; send it again rather than list it twice.
    const same = tx.attempts.find((a) => a.hash === attempt.hash);
    if (same) same.sentAt = attempt.sentAt;
    else tx.attempts.push(attempt);
    const records = await this.#records(tx);
    await this.#o.store.write({ intents: records.map((r) => ({ ...r, txHash: attempt.hash, updatedAt: Date.now() })), putTx: tx });
    this.#log.warn("transaction not mined in time: replacing it", { nonce: tx.nonce, replaces: last?.hash, txHash: attempt.hash, maxFeePerGas: attempt.maxFeePerGas });
    await this.#broadcast(tx, attempt);
  }

  /** Our nonce was used by a transaction that is not ours (the key is used elsewhere): none of ours was mined. */
  async #lostNonce(tx: TxRecord): Promise<void> {
    const records = await this.#records(tx);
    const requeued = records.map((r) => ({ ...r, status: "queued" as const, txHash: null, updatedAt: Date.now() }));
    await this.#o.store.write({ intents: requeued, delTx: tx.nonce });
    this.#forget(tx);
    this.#nextPending();
    this.#nonce = Math.max(this.#nonce, await this.#o.provider.getTransactionCount(this.#address, "pending"));
    this.#queue.unshift(...requeued);
    this.#log.error("relayer nonce used by another transaction: re-queueing its intents", { nonce: tx.nonce });
  }

  async #records(tx: TxRecord): Promise<IntentRecord[]> {
    const records = await Promise.all(tx.ids.map((id) => this.#o.store.get(id)));
    return records.filter((r): r is IntentRecord => r !== undefined);
  }

  /** The transaction is done with: its refused attempts need no remembering. */
  #forget(tx: TxRecord): void {
    for (const a of tx.attempts) this.#refused.delete(a.hash);
  }

  #nextPending(): void {
    this.#pending = this.#pendingList.shift();
  }

  /** Maps the receipt onto the transaction's intents: RelayedPaymentFailed items fail with their reason, the rest are confirmed. */
  async #settle(tx: TxRecord, receipt: TransactionReceipt): Promise<void> {
    const records = await this.#records(tx);
    const now = Date.now();
    let updated: IntentRecord[];
    if (receipt.status === 1) {
      const failed = new Map<number, { code: string; message: string }>();
      if (tx.kind === "relay") {
        for (const log of receipt.logs) {
          if (log.address.toLowerCase() !== tx.to.toLowerCase()) continue;
          const ev = relayInterface.parseLog(log);
          if (ev?.name !== "RelayedPaymentFailed") continue;
          const reason = decodeRevert(ev.args[3] as string);
          failed.set(Number(ev.args[0] as bigint), { code: reason.code === "reverted" ? "payment_failed" : reason.code, message: `the payment failed on-chain: ${reason.message}` });
        }
      }
      if (tx.kind === "relay" && failed.size === 0 && tx.ids.length > 0) {
        const perPayment = receipt.gasUsed / BigInt(tx.ids.length);
        if (this.#gasPerPayment === undefined || perPayment > this.#gasPerPayment) this.#gasPerPayment = perPayment;
      }
      updated = records.map((r) => {
        const error = failed.get(tx.ids.indexOf(r.id)) ?? null;
        return { ...r, status: error ? ("failed" as const) : ("confirmed" as const), txHash: receipt.hash, error, updatedAt: now };
      });
    } else {
      updated = records.map((r) => {
        const reverts = r.reverts + 1;
        return reverts >= MAX_REVERTS
          ? { ...r, status: "failed" as const, txHash: receipt.hash, reverts, error: { code: "tx_reverted", message: `its transaction reverted ${reverts} times` }, updatedAt: now }
          : { ...r, status: "queued" as const, txHash: null, reverts, revertedTx: receipt.hash, updatedAt: now };
      });
    }
    await this.#o.store.write({ intents: updated, delTx: tx.nonce });
    this.#forget(tx);
    this.#nextPending();
    const requeue = updated.filter((r) => r.status === "queued");
    this.#queue.unshift(...requeue);
    for (const r of updated) if (r.status === "confirmed" || r.status === "failed") this.#o.onFinal(r);
    const confirmed = updated.filter((r) => r.status === "confirmed").length;
    this.#log.info("relayed", { nonce: tx.nonce, txHash: receipt.hash, status: receipt.status, confirmed, failed: updated.length - confirmed - requeue.length, requeued: requeue.length, gasUsed: receipt.gasUsed });
    // A batch that went through restores the full batch size.
    if (receipt.status === 1) this.#cap = this.#o.batchSize;
  }

  /** Fails intents without sending anything, in one write. */
  async #fail(failures: readonly { record: IntentRecord; code: string; message: string }[]): Promise<void> {
    if (failures.length === 0) return;
    const now = Date.now();
    // An intent whose transaction reverted and that then fails its re-check points at that transaction: the chain's record of the attempt.
    const failed = failures.map(({ record, code, message }) => ({
      ...record,
      status: "failed" as const,
      txHash: record.txHash ?? record.revertedTx ?? null,
      error: { code: code === "reverted" ? "payment_failed" : code, message: record.revertedTx === undefined ? message : `${message} (its transaction ${record.revertedTx} reverted on-chain)` },
      updatedAt: now,
    }));
    await this.#o.store.write({ intents: failed });
    for (const r of failed) {
      this.#o.onFinal(r);
      this.#log.info("intent failed before sending", { id: r.id, code: r.error.code, message: r.error.message });
    }
  }
}

function max(...values: bigint[]): bigint {
  return values.reduce((a, b) => (a > b ? a : b), 0n);
}
