import type { JsonRpcProvider, Wallet } from "ethers";
import { paymentIntentToJson } from "../../../client/sdk/account/intent.ts";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { isOrioleError, type OrioleError } from "../../../client/sdk/errors.ts";
import type { Logger } from "../log.ts";
import { chainRead, ethCall } from "./chainCalls.ts";
import { accountInterface } from "./contracts.ts";
import { relayerError } from "./errors.ts";
import { parseSubmission, type IntentSubmission } from "./intentSchema.ts";
import type { IntentRecord, IntentStore } from "./intentStore.ts";
import { storedSubmission, toView, type IntentView } from "./records.ts";
import { Sender } from "./sender.ts";
import { checkOffline, checkOnChain, intentId, isDeployed, type AccountContracts, type ValidationContext } from "./validate.ts";

export interface RelayerOptions {
  chainId: number;
  provider: JsonRpcProvider;
  wallet: Wallet;
  tokens: Record<Currency, string>;
  accounts: AccountContracts;
  fees: Record<Currency, bigint>;
  store: IntentStore;
  log: Logger;
  batchSize: number;
  pollMs: number;
  resendAfterMs: number;
}

export interface SubmitResult {
  /** true: accepted now (202); false: already known, the stored result (200). */
  created: boolean;
  intent: IntentView;
}

/** What /v1/network says about the relayer. */
export interface RelayerInfo {
  address: string;
  fees: Record<Currency, string>;
}

const nonceKey = (account: string, nonce: bigint): string => `${account.toLowerCase()}:${nonce.toString()}`;

/**
 * The relayer: admits signed payment intents (validated, then stored
 * before the 202), and hands them to the Sender, which puts them on-chain.
 * An intent's id is its EIP-712 digest, so a resubmission finds the first
 * result; an (account, nonce) in flight is held by one intent only.
 */
export class Relayer {
  readonly #o: RelayerOptions;
  readonly #ctx: ValidationContext;
  readonly #sender: Sender;
  readonly #log: Logger;
  /** (account, nonce) → id of the intent holding it, while queued or submitted (or being admitted). */
  readonly #held = new Map<string, string>();
  /** Admissions in progress by id: concurrent duplicates wait for the first. */
  readonly #admitting = new Map<string, Promise<SubmitResult>>();

  constructor(opts: RelayerOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ component: "relayer" });
    this.#ctx = {
      chainId: opts.chainId,
      provider: opts.provider,
      tokens: opts.tokens,
      accounts: opts.accounts,
      fees: opts.fees,
      relayerAddress: opts.wallet.address,
    };
    this.#sender = new Sender({
      provider: opts.provider,
      chainId: opts.chainId,
      wallet: opts.wallet,
      relay: opts.accounts.relay,
      store: opts.store,
      log: opts.log,
      batchSize: opts.batchSize,
      pollMs: opts.pollMs,
      resendAfterMs: opts.resendAfterMs,
      onFinal: (r) => {
        this.#release(r.account, BigInt(r.intent.nonce), r.id);
      },
    });
  }

  get info(): RelayerInfo {
    return {
      address: this.#o.wallet.address,
      fees: Object.fromEntries(Object.entries(this.#o.fees).map(([c, v]) => [c, v.toString()])) as Record<Currency, string>,
    };
  }

  /**
   * Resumes from the store: holds the nonces of every open intent, follows
   * the pending transaction, re-validates queued intents (failing those no
   * longer valid) and starts sending.
   */
  async start(): Promise<void> {
    const [open, pending] = await Promise.all([this.#o.store.openIntents(), this.#o.store.pendingTxs()]);
    for (const r of open) this.#held.set(nonceKey(r.account, BigInt(r.intent.nonce)), r.id);
    const inTx = new Set(pending.flatMap((t) => t.ids));
    const queued: IntentRecord[] = [];
    for (const r of open) {
      if (inTx.has(r.id)) continue;
      const error = await this.#revalidate(r);
      if (error) {
        const failed = { ...r, status: "failed" as const, error: { code: error.code, message: error.message }, updatedAt: Date.now() };
        await this.#o.store.write({ intents: [failed] });
        this.#release(r.account, BigInt(r.intent.nonce), r.id);
      } else {
        queued.push(r.status === "queued" ? r : { ...r, status: "queued", txHash: null });
      }
    }
    if (open.length > 0) this.#log.info("resuming", { open: open.length, pendingTxs: pending.length, requeued: queued.length });
    await this.#sender.start(pending, queued);
  }

  async stop(): Promise<void> {
    await this.#sender.stop();
  }

  /** Checks a stored queued intent again; the RPC failing is not the intent's fault: it stays queued. */
  async #revalidate(r: IntentRecord): Promise<OrioleError | undefined> {
    try {
      const s = storedSubmission(r);
      await checkOnChain(this.#ctx, checkOffline(this.#ctx, s, r.id));
      return undefined;
    } catch (e) {
      if (isOrioleError(e) && e.code !== "chain_unavailable") return e;
      this.#log.warn("could not re-validate a queued intent; keeping it", { id: r.id, error: (e as Error).message });
      return undefined;
    }
  }

  /** POST /v1/intents. Throws OrioleError with a relayer code (see errors.ts) when refused. */
  async submit(body: unknown): Promise<SubmitResult> {
    const s = parseSubmission(body);
    const id = intentId(this.#o.chainId, s);
    const running = this.#admitting.get(id);
    if (running) {
      await running;
      return { created: false, intent: await this.#view(id) };
    }
    const admission = this.#admit(id, s);
    this.#admitting.set(id, admission);
    try {
      return await admission;
    } finally {
      this.#admitting.delete(id);
    }
  }

  async #view(id: string): Promise<IntentView> {
    const r = await this.#o.store.get(id);
    if (!r) throw relayerError("intent_not_found", `no intent ${id}`);
    return toView(r);
  }

  async #admit(id: string, s: IntentSubmission): Promise<SubmitResult> {
    const existing = await this.#o.store.get(id);
    if (existing) return { created: false, intent: toView(existing) };
    const checked = checkOffline(this.#ctx, s, id);
    // Queued now, it would wait for the operator for as long as that takes: an at-once refusal lets the payer pay another way.
    if (this.#sender.unfunded) {
      throw relayerError("relayer_unfunded", `the relayer ${this.#ctx.relayerAddress} has too little ETH to pay gas: nothing was queued; try again later`);
    }
    const key = nonceKey(s.account, s.intent.nonce);
    const holder = this.#held.get(key);
    if (holder !== undefined) {
      throw relayerError("nonce_conflict", `nonce ${s.intent.nonce.toString()} of account ${s.account} is held by another intent in flight (${holder})`, { id: holder });
    }
    this.#held.set(key, id);
    try {
      await checkOnChain(this.#ctx, checked);
      const now = Date.now();
      const record: IntentRecord = {
        id,
        account: s.account,
        intent: paymentIntentToJson(s.intent),
        signature: s.signature,
        deployment: s.deployment ? { qx: s.deployment.qx, qy: s.deployment.qy, salt: s.deployment.salt.toString() } : null,
        relayerFee: checked.relayerFee.toString(),
        status: "queued",
        txHash: null,
        error: null,
        reverts: 0,
        createdAt: now,
        updatedAt: now,
      };
      // On disk before the 202: a crash after this line never loses the intent.
      await this.#o.store.write({ intents: [record] });
      this.#sender.enqueue(record);
      this.#log.debug("intent accepted", { id, account: s.account, nonce: s.intent.nonce.toString() });
      return { created: true, intent: toView(record) };
    } catch (e) {
      this.#release(s.account, s.intent.nonce, id);
      throw e;
    }
  }

  #release(account: string, nonce: bigint, id: string): void {
    const key = nonceKey(account, nonce);
    if (this.#held.get(key) === id) this.#held.delete(key);
  }

  /** GET /v1/intents/{id}; undefined when unknown. */
  async get(id: string): Promise<IntentView | undefined> {
    const r = await this.#o.store.get(id.toLowerCase());
    return r ? toView(r) : undefined;
  }

  /** The lowest nonce unused on-chain and not held by an intent in flight. */
  async nextNonce(account: string): Promise<bigint> {
    const deployed = await isDeployed(this.#o.provider, account);
    for (let word = 0n; ; word++) {
      let bitmap = 0n;
      if (deployed) {
        const r = await ethCall(this.#o.provider, { to: account, data: accountInterface.encodeFunctionData("nonceBitmap", [word]) });
        if (!r.ok) throw relayerError("chain_unavailable", `nonceBitmap reverted: ${r.revert.message}`);
        bitmap = await chainRead("nonceBitmap", () => Promise.resolve(accountInterface.decodeFunctionResult("nonceBitmap", r.data)[0] as bigint));
      }
      if (bitmap === (1n << 256n) - 1n) continue;
      for (let bit = 0n; bit < 256n; bit++) {
        const nonce = (word << 8n) | bit;
        if ((bitmap >> bit) & 1n) continue;
        if (!this.#held.has(nonceKey(account, nonce))) return nonce;
      }
    }
  }

  /** Intents waiting for a transaction (for tests and logs). */
  get queued(): number {
    return this.#sender.queued;
  }

  /** See {@link Sender.unfunded}. */
  get unfunded(): boolean {
    return this.#sender.unfunded;
  }
}
