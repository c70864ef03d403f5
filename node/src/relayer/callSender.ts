import type { AbstractBatchOptions, AbstractSublevel } from "abstract-level";
import { isError, type JsonRpcProvider, Transaction, type Wallet } from "ethers";
import { isExecutionRevert } from "../../../client/sdk/executionRevert.ts";
import type { RelayedCallKind, RelayedCallRecordJson } from "../../../client/sdk/relayedCalls.ts";
import { ApiError } from "../api/errors.ts";
import type { Logger } from "../log.ts";
import type { StoreSublevel } from "../store/store.ts";

/**
 * Sends signed operations that anyone may submit (escrow actions and
 * fundings, offline reserves and withdrawals) from ONE EOA, one at a time:
 * the escrow relayer (see escrowRelayerKey). Everything that validates and
 * sends runs through {@link CallSender.run}, so a check reads the state the
 * previous send left and nonces never race.
 *
 * Relayed calls with a record (every one but escrow actions) are idempotent
 * by their id (the signed authorization's digest): the record is written,
 * with the signed raw transaction, before it is broadcast (sublevel
 * `rly!call`, kept by a re-index like the relayer's intents), so a retry or
 * a crash never sends the operation twice and never forgets one sent.
 */

/** What the store keeps: the API's record and, while not mined, the signed transaction to broadcast again. */
export interface StoredCall extends RelayedCallRecordJson {
  /** The signed raw transaction (never served). */
  raw: string | null;
  /** The relayer's nonce of that transaction. */
  txNonce: number | null;
}

const SYNC: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: true };

type Child = AbstractSublevel<StoreSublevel, string | Buffer | Uint8Array, string, string>;

export interface CallSenderDeps {
  provider: JsonRpcProvider;
  wallet: Wallet;
  /** The node store's relayer sublevel; the records live in its `call` child. */
  sublevel: StoreSublevel;
  log: Logger;
  /** How long a POST waits for its transaction's receipt before answering 202 (default 60 s). */
  receiptTimeoutMs?: number;
}

/** A new call to send: its record fields (status, hashes and times are filled in here). */
export interface NewCall {
  id: string;
  kind: RelayedCallKind;
  account: string;
  token: string;
  amount: string;
  to: string;
  data: string;
  gas: bigint;
  /** Extra record fields (escrowId, unlockAt). */
  extra?: Pick<RelayedCallRecordJson, "escrowId">;
}

export class CallSender {
  readonly #d: CallSenderDeps;
  readonly #calls: Child;
  /** Latest completion id per `payer!token` (offline withdrawals have no signature to key a retry on). */
  readonly #latest: Child;
  #queue: Promise<unknown> = Promise.resolve();
  #nextNonce = 0;

  constructor(deps: CallSenderDeps) {
    this.#d = deps;
    this.#calls = deps.sublevel.sublevel("call");
    this.#latest = deps.sublevel.sublevel("lastcall");
  }

  get address(): string {
    return this.#d.wallet.address;
  }

  /**
   * Runs `fn` after every earlier one has finished (validation and sending, serialised).
   * A JSON-RPC failure (an ethers error) becomes 503 chain_unavailable: the chain, not the request, failed.
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn).catch((e: unknown) => {
      if (e instanceof ApiError || !(e instanceof Error) || typeof (e as { code?: unknown }).code !== "string") throw e;
      this.#d.log.warn("relayed call: chain error", { error: e.message.split("\n")[0] ?? "" });
      throw new ApiError(503, "chain_unavailable", `the chain could not be asked: ${(e.message.split("\n")[0] ?? "").slice(0, 200)}`);
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Broadcasts a signed transaction; if the node refuses it, its nonce is handed out again (no gap in the EOA's nonces). */
  async #broadcast(signed: { raw: string; nonce: number }): Promise<void> {
    try {
      await this.#d.provider.broadcastTransaction(signed.raw);
    } catch (e) {
      this.#nextNonce = Math.min(this.#nextNonce, signed.nonce);
      throw e;
    }
  }

  /** Estimates a call from the relayer's address; a revert becomes 422 simulation_failed naming the error (`decode`). */
  async simulate(to: string, data: string, decode: (data: string) => string): Promise<bigint> {
    try {
      return await this.#d.provider.estimateGas({ from: this.#d.wallet.address, to, data });
    } catch (e) {
      if (!isExecutionRevert(e)) {
        const why = e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e);
        throw new ApiError(503, "chain_unavailable", `the call could not be simulated: ${why.slice(0, 200)}`);
      }
      const revert = typeof e.data === "string" && e.data !== "0x" ? decode(e.data) : "reverted";
      throw new ApiError(422, "simulation_failed", `the contract would reject this: ${revert}`);
    }
  }

  /** Signs a transaction with the next nonce (the chain's pending count or past our last one, whichever is higher). */
  async #sign(to: string, data: string, gas: bigint): Promise<{ raw: string; hash: string; nonce: number }> {
    const { provider, wallet } = this.#d;
    const chainNonce = Number(await provider.send("eth_getTransactionCount", [wallet.address, "pending"]));
    const nonce = Math.max(chainNonce, this.#nextNonce);
    const populated = await wallet.populateTransaction({ to, data, gasLimit: (gas * 13n) / 10n + 20_000n, nonce });
    const raw = await wallet.signTransaction(populated);
    this.#nextNonce = nonce + 1;
    return { raw, hash: Transaction.from(raw).hash ?? "", nonce };
  }

  async #waitMined(hash: string): Promise<{ status: number; blockNumber: number } | null> {
    try {
      const receipt = await this.#d.provider.waitForTransaction(hash, 1, this.#d.receiptTimeoutMs ?? 60_000);
      return receipt ? { status: receipt.status ?? 0, blockNumber: receipt.blockNumber } : null;
    } catch (e) {
      if (isError(e, "TIMEOUT")) return null;
      throw e;
    }
  }

  /** Sends an unrecorded call (escrow actions: their nonce makes a replay 409) and waits until it is mined. */
  async sendAndWait(to: string, data: string, gas: bigint): Promise<{ txHash: string; blockNumber: number }> {
    const signed = await this.#sign(to, data, gas);
    await this.#broadcast(signed);
    const mined = await this.#waitMined(signed.hash);
    if (mined === null) throw new ApiError(503, "chain_unavailable", `transaction ${signed.hash} was sent but not mined within the wait; it may still be`);
    if (mined.status !== 1) throw new ApiError(502, "action_failed", `transaction ${signed.hash} reverted on-chain`);
    return { txHash: signed.hash, blockNumber: mined.blockNumber };
  }

  async get(id: string): Promise<StoredCall | undefined> {
    const v = await this.#calls.get(id);
    return v === undefined ? undefined : (JSON.parse(v) as StoredCall);
  }

  async #put(r: StoredCall, latestKey?: string): Promise<void> {
    await this.#d.sublevel.batch(
      [
        { type: "put", key: r.id, value: JSON.stringify(r), sublevel: this.#calls },
        ...(latestKey === undefined ? [] : [{ type: "put" as const, key: latestKey, value: r.id, sublevel: this.#latest }]),
      ],
      SYNC,
    );
  }

  /** The latest recorded call under `latestKey` (see {@link send}). */
  async latest(latestKey: string): Promise<StoredCall | undefined> {
    const id = await this.#latest.get(latestKey);
    return id === undefined ? undefined : this.get(id);
  }

  /**
   * A record brought up to date with the chain: a submitted transaction that
   * is mined becomes mined or failed; one the chain does not know is
   * broadcast again while its nonce is free, and failed (`dropped`) once
   * another transaction took that nonce.
   */
  async refresh(r: StoredCall): Promise<StoredCall> {
    if (r.status !== "submitted" || r.txHash === null) return r;
    const { provider } = this.#d;
    const receipt = await provider.getTransactionReceipt(r.txHash);
    if (receipt) return this.#settled(r, receipt.status === 1, receipt.blockNumber);
    if ((await provider.getTransaction(r.txHash)) !== null) return r;
    const used = Number(await provider.send("eth_getTransactionCount", [this.#d.wallet.address, "latest"]));
    if (r.txNonce !== null && used > r.txNonce) {
      const failed: StoredCall = { ...r, status: "failed", raw: null, error: { code: "dropped", message: `transaction ${r.txHash} was replaced: submit the operation again` }, updatedAt: Date.now() };
      await this.#put(failed);
      return failed;
    }
    if (r.raw !== null) await provider.broadcastTransaction(r.raw).catch((e: unknown) => { this.#d.log.warn("rebroadcast failed", { id: r.id, txHash: r.txHash, error: e instanceof Error ? e.message : String(e) }); });
    return r;
  }

  async #settled(r: StoredCall, ok: boolean, blockNumber: number): Promise<StoredCall> {
    const done: StoredCall = ok
      ? { ...r, status: "mined", blockNumber, raw: null, updatedAt: Date.now() }
      : { ...r, status: "failed", blockNumber, raw: null, error: { code: "transaction_reverted", message: `transaction ${r.txHash ?? ""} reverted on-chain` }, updatedAt: Date.now() };
    await this.#put(done);
    return done;
  }

  /**
   * Records and sends a checked call, then waits for it to be mined (or the
   * receipt timeout: the record stays submitted). Call inside {@link run}.
   * `latestKey` also indexes the record as the latest of its kind for that key.
   */
  async send(call: NewCall, latestKey?: string): Promise<StoredCall> {
    const signed = await this.#sign(call.to, call.data, call.gas);
    const now = Date.now();
    const record: StoredCall = {
      id: call.id,
      kind: call.kind,
      status: "submitted",
      account: call.account,
      token: call.token,
      amount: call.amount,
      ...call.extra,
      txHash: signed.hash,
      blockNumber: null,
      error: null,
      createdAt: now,
      updatedAt: now,
      raw: signed.raw,
      txNonce: signed.nonce,
    };
    await this.#put(record, latestKey);
    this.#d.log.info("relayed call sent", { id: call.id, kind: call.kind, account: call.account, txHash: signed.hash });
    try {
      await this.#broadcast(signed);
    } catch (e) {
      // Recorded: a lookup broadcasts it again (or finds it dropped once its nonce went to another); the caller sees it submitted.
      this.#d.log.warn("broadcast failed", { id: call.id, txHash: signed.hash, error: e instanceof Error ? e.message : String(e) });
      return record;
    }
    const mined = await this.#waitMined(signed.hash);
    return mined === null ? record : this.#settled(record, mined.status === 1, mined.blockNumber);
  }
}

/** The API's view of a stored call (without the raw transaction). */
export function callView(r: StoredCall): RelayedCallRecordJson {
  const { raw: _raw, txNonce: _nonce, ...view } = r;
  return view;
}
