import type { AbstractBatchOptions, AbstractSublevel } from "abstract-level";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { dueKey, type QueueingStore } from "../notify/statusWatcher.ts";
import type { StoreSublevel } from "../store/store.ts";

/**
 * Refunds, in the merchants' part of the node's LevelDB (`mer!rfd`: records
 * of people's requests, not facts of a chain, so a re-index keeps them). The
 * chain says whether a refund was paid; this store only holds what was asked
 * for, and two small indexes the read-time joins use:
 *
 *   r <id>                                   -> JSON RefundRecord
 *   l <merchantId>!<createdMs:15>!<id>       -> id   (the merchant's list, oldest first)
 *   x <refund reference>                     -> id   (a refund payment -> its refund)
 *   o <txHash>:<logIndex:8>!<id>             -> id   (an original payment -> its refunds)
 *   i <merchantId>!<sha256(idempotency key)> -> JSON {id, request}
 *   e!<ms:15>!<id> | w!cur | w!s!<id>        -> the status watcher's queue, outbox cursor and
 *                                               last pushed state (notify/statusWatcher.ts;
 *                                               directly in `mer!rfd`, so appendEvents writes them)
 *
 * A creation or a cancellation queues the refund (`e!`, due at once) in the
 * same batch as the record: its refund.* event is pushed even if the node
 * stops right after.
 */

export interface RefundRecord {
  /** "rfd_" + 16 hex digits. */
  id: string;
  merchantId: string;
  /** The refund payment's reference: a random bytes32, lowercase. */
  reference: string;
  /** The refunded payment. */
  payment: { txHash: string; logIndex: number; blockNumber: number; reference: string | null; amount: string };
  currency: Currency;
  /** Base units, decimal. */
  amount: string;
  /** Checksummed: the merchant's payout (pays the refund) and the original payer (receives it). */
  from: string;
  to: string;
  reason: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, when the merchant cancelled it (POST /v1/refunds/{id}/cancel); absent while not cancelled. */
  cancelledAt?: string;
}

type Child = AbstractSublevel<StoreSublevel, string | Buffer | Uint8Array, string, string>;

/** A refund exists on disk before its id is shown (like merchants). */
const SYNC: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: true };

export const REFUND_ID_RE = /^rfd_[0-9a-f]{16}$/;

const originKey = (txHash: string, logIndex: number): string => `${txHash.toLowerCase()}:${String(logIndex).padStart(8, "0")}`;

export class RefundStore implements QueueingStore {
  readonly #root: StoreSublevel;
  readonly #records: Child;
  readonly #list: Child;
  readonly #byReference: Child;
  readonly #byOrigin: Child;
  readonly #idempotency: Child;
  /**
   * The origin keys that have refunds, loaded once: every history page asks
   * about each of its payments, and almost none has a refund, so the answer
   * "none" must not cost a LevelDB read per payment. This store is the only
   * writer (one node per data dir).
   */
  #origins: Promise<Set<string>> | undefined;
  /** Called after a refund was queued for the status watcher (QueueingStore). */
  onQueued: (() => void) | undefined;

  /** `merchantRoot`: the merchants' sublevel (NodeStore.merchantSublevel()). */
  constructor(merchantRoot: StoreSublevel) {
    const root = merchantRoot.sublevel("rfd") as unknown as StoreSublevel;
    this.#root = root;
    this.#records = root.sublevel("r");
    this.#list = root.sublevel("l");
    this.#byReference = root.sublevel("x");
    this.#byOrigin = root.sublevel("o");
    this.#idempotency = root.sublevel("i");
  }

  /** The sublevel `mer!rfd` itself: the status watcher's keys live in it. */
  get root(): StoreSublevel {
    return this.#root;
  }

  /** Stores a new refund, its index entries, its status watcher entry and (with `idempotency`) the key that created it, in one batch. */
  async add(r: RefundRecord, idempotency?: { keyHash: string; request: string }): Promise<void> {
    const ops: { type: "put"; key: string; value: string; sublevel?: Child }[] = [
      { type: "put" as const, key: dueKey(Date.now(), r.id), value: "" },
      { type: "put" as const, key: r.id, value: JSON.stringify(r), sublevel: this.#records },
      { type: "put" as const, key: `${r.merchantId}!${String(Date.parse(r.createdAt)).padStart(15, "0")}!${r.id}`, value: r.id, sublevel: this.#list },
      { type: "put" as const, key: r.reference, value: r.id, sublevel: this.#byReference },
      { type: "put" as const, key: `${originKey(r.payment.txHash, r.payment.logIndex)}!${r.id}`, value: r.id, sublevel: this.#byOrigin },
    ];
    if (idempotency) ops.push({ type: "put" as const, key: `${r.merchantId}!${idempotency.keyHash}`, value: JSON.stringify({ id: r.id, request: idempotency.request }), sublevel: this.#idempotency });
    await this.#root.batch(ops, SYNC);
    (await this.#originSet()).add(originKey(r.payment.txHash, r.payment.logIndex));
    this.onQueued?.();
  }

  #originSet(): Promise<Set<string>> {
    this.#origins ??= this.#byOrigin
      .keys()
      .all()
      .then((keys) => new Set(keys.map((k) => k.slice(0, k.indexOf("!")))))
      .catch((e: unknown) => {
        this.#origins = undefined; // the next call reads again
        throw e;
      });
    return this.#origins;
  }

  /** Rewrites a refund's record (its indexes do not change: only cancelledAt does) and queues it for the status watcher. */
  async update(r: RefundRecord): Promise<void> {
    await this.#root.batch(
      [
        { type: "put", key: r.id, value: JSON.stringify(r), sublevel: this.#records },
        { type: "put", key: dueKey(Date.now(), r.id), value: "" },
      ],
      SYNC,
    );
    this.onQueued?.();
  }

  async get(id: string): Promise<RefundRecord | undefined> {
    if (!REFUND_ID_RE.test(id)) return undefined;
    const v = await this.#records.get(id);
    return v === undefined ? undefined : (JSON.parse(v) as RefundRecord);
  }

  async getMany(ids: readonly string[]): Promise<RefundRecord[]> {
    const values = await this.#records.getMany([...ids]);
    return values.flatMap((v) => (v === undefined ? [] : [JSON.parse(v) as RefundRecord]));
  }

  /** What an idempotency key created before: the refund's id and the request it was made with. */
  async idempotent(merchantId: string, keyHash: string): Promise<{ id: string; request: string } | undefined> {
    const v = await this.#idempotency.get(`${merchantId}!${keyHash}`);
    return v === undefined ? undefined : (JSON.parse(v) as { id: string; request: string });
  }

  /** Whether any refund exists. */
  async hasAny(): Promise<boolean> {
    return (await this.#records.keys({ limit: 1 }).all()).length > 0;
  }

  /** The refund whose payments carry `reference`, if any. */
  async byReference(reference: string): Promise<RefundRecord | undefined> {
    const [id] = await this.idsByReference([reference]);
    return id === undefined ? undefined : this.get(id);
  }

  /** The refund ids whose reference is each of `references` (undefined where none). */
  async idsByReference(references: readonly string[]): Promise<(string | undefined)[]> {
    return references.length === 0 ? [] : this.#byReference.getMany(references.map((r) => r.toLowerCase()));
  }

  /** Every refund of one original payment. */
  async ofPayment(txHash: string, logIndex: number): Promise<RefundRecord[]> {
    const origin = originKey(txHash, logIndex);
    if (!(await this.#originSet()).has(origin)) return [];
    const prefix = `${origin}!`;
    const ids = await this.#byOrigin.values({ gt: prefix, lt: `${prefix}~` }).all();
    return this.getMany(ids);
  }

  /** A merchant's refunds, newest first, `limit` at a time before the list key `before`. */
  async list(merchantId: string, opts: { limit: number; before?: string }): Promise<{ items: RefundRecord[]; next: string | null }> {
    const prefix = `${merchantId}!`;
    const entries = await this.#list.iterator({ gt: prefix, lt: opts.before !== undefined ? `${prefix}${opts.before}` : `${prefix}~`, reverse: true, limit: opts.limit + 1 }).all();
    const page = entries.slice(0, opts.limit);
    const items = await this.getMany(page.map(([, id]) => id));
    const last = page.at(-1);
    return { items, next: entries.length > opts.limit && last ? last[0].slice(prefix.length) : null };
  }
}
