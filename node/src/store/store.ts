import { createHash, hash } from "node:crypto";
import { Level } from "level";
// Types only: abstract-level is the interface `level` implements (not re-exported by it).
import type { AbstractSublevel } from "abstract-level";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import type { Invoice, InvoiceStatus } from "../invoices/invoiceStore.ts";
import type { RefundLink, RefundView } from "../refunds/refunds.ts";
import { decodePayment, encodePayment, paymentOfRow } from "./paymentCodec.ts";
import { BLOCK_WIDTH, balanceKey, paymentKey, paymentKeyAt, paymentRange, positionKey, type LogPosition } from "./keys.ts";

/**
 * What a transfer is: a plain ERC-20 transfer (mints and burns included),
 * the transfer of a payment with a reference (payer to payee), or the fee
 * transfer of such a payment (payer to the fee collector).
 */
export type PaymentKind = "transfer" | "payment" | "fee";

/** A payment as served by the API: checksummed addresses, amount as a decimal string. */
export interface Payment {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  /** Unix seconds. */
  timestamp: number;
  from: string;
  to: string;
  currency: Currency;
  /** What `to` received, base units. */
  amount: string;
  /** The Payment event's reference (0x and 64 lowercase hex digits) for kinds "payment" and "fee"; null for a plain transfer. */
  reference: string | null;
  /** For kind "payment", the merchant fee of the payment (the payer paid amount + fee); "0" otherwise. */
  fee: string;
  kind: PaymentKind;
}

/** Depth reached: "pending" while the payment's block is fewer than `confirmations` blocks deep. */
export type PaymentStatus = "pending" | "confirmed";

/** A payment as the API serves it: with its status at the store's cursor. */
export type PaymentItem = Payment & { status: PaymentStatus };

/** An administrative event of a token, as stored (sublevel `adm`). */
export interface AdminRecord {
  kind: "mint" | "burn" | "freeze" | "unfreeze" | "pause" | "unpause";
  currency: Currency;
  /** Checksummed: minted to, burnt by, frozen or unfrozen, or who paused. */
  account: string;
  /** Mint and burn: base units, decimal; otherwise null. */
  amount: string | null;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export type NodeEventType =
  | "payment.pending"
  | "payment.confirmed"
  | "payment.dropped"
  | "admin.mint"
  | "admin.burn"
  | "admin.freeze"
  | "admin.unfreeze"
  | "admin.pause"
  | "admin.unpause"
  | "invoice.open"
  | "invoice.partially_paid"
  | "invoice.paid"
  | "invoice.expired"
  | "refund.open"
  | "refund.completed"
  | "refund.cancelled";

/** One event of the events outbox (sublevel `evt`, written in the same batch as the state it reports). */
export interface NodeEvent {
  /** Monotonic, never reused (a rollback appends `payment.dropped`, it deletes nothing). */
  seq: number;
  /** 0x + sha256(`${type}:${chainId}:${blockHash}:${txHash}:${logIndex}`): the same fact always has the same id. */
  id: string;
  type: NodeEventType;
  chainId: number;
  blockNumber: number;
  blockHash: string;
  txHash: string;
  logIndex: number;
  /** Lowercase addresses concerned (payer and payee; the admin event's account). */
  accounts: string[];
  /** On SSE streams, a payment that pays a refund also carries its `refund` link (RefundService.linkEvents; not in the outbox). */
  payment?: PaymentItem & { refund?: RefundLink };
  admin?: AdminRecord;
  /** Invoice and refund events: the merchant they belong to (they reach only its stream and webhook; `accounts` is empty). */
  merchantId?: string;
  invoice?: Invoice & InvoiceStatus;
  /** Refund events: the refund as GET /v1/refunds/{id} shows it at the change. */
  refund?: RefundView;
}

/** A payment seen in a block and not confirmed yet (sublevel `pcf`), or one being reported. */
export interface SeenPayment {
  blockHash: string;
  /** Lowercase, without the zero address. */
  accounts: string[];
  payment: Payment;
}

/** What the indexer tells a commit besides the state: the facts to report and the undo policy. */
export interface CommitOptions {
  chainId: number;
  confirmations: number;
  /** The block the cursor was at before this range (restored by the undo record). */
  prevCursor: Cursor;
  /** Payments first seen in this range (mints and burns excluded: they are admin events), in log order. */
  payments: readonly SeenPayment[];
  /** Admin events of this range, in log order, with their block hashes. */
  admin: readonly { blockHash: string; record: AdminRecord }[];
  /** Keep an undo record (the range reaches into the reorg window). */
  undo: boolean;
  /** Undo records of commits ending at or below this block are deleted. */
  pruneThrough: number;
}

/** The previous value (null: absent) of every key a commit changed, and what it reported. */
export interface UndoRecord {
  toBlock: number;
  prevCursor: Cursor;
  entries: [SubName, string, string | null][];
  payments: SeenPayment[];
}

type SubName = "bal" | "sup" | "pay" | "ref" | "adm" | "pcf";
/** Sublevels a commit reads back (prior balances and supply, due unconfirmed payments): a staged batch's writes to them are visible to the next. */
const READ_BACK_SUBS: ReadonlySet<SubName> = new Set(["bal", "sup", "pcf"]);

/** A batch staged and being written (NodeStore.stage). */
interface InFlight {
  /** Its writes to READ_BACK_SUBS (null: a delete). */
  writes: Map<SubName, Map<string, string | null>>;
  /** Resolves once it is on disk. */
  written: Promise<void>;
}


/** The last block whose effects are fully in the store. */
export interface Cursor {
  blockNumber: number;
  blockHash: string;
}

/** Which chain and contracts a data dir was built from. */
export interface ChainIdentity {
  chainId: number;
  genesisHash: string;
  /** Token address (lowercase) per currency. */
  tokens: Record<Currency, string>;
  deployedAt: Cursor;
}

/** New values of derived state after a block range (absolute values, not increments). */
export interface StateChanges {
  balances: ReadonlyMap<string, { account: string; currency: Currency; value: bigint }>;
  supply: ReadonlyMap<Currency, bigint>;
  /** One entry per (account, log): a transfer appears under its sender and its receiver. */
  payments: readonly { account: string; payment: Payment }[];
  /** One entry per payment with a reference (its kind "payment" transfer), for lookups by reference. */
  byReference?: readonly Payment[];
  /** Admin events of the range. */
  admin?: readonly AdminRecord[];
  /** The payments of the range to report (one per log, mints and burns excluded), in log order. */
  seen?: readonly SeenPayment[];
}

export interface PaymentPage {
  items: PaymentItem[];
  /** Position of the last item when more items follow, else null. */
  next: LogPosition | null;
}

/** A full, ordered dump of derived state; equal dumps mean equal stores. */
export interface StateDump {
  balances: Record<string, string>;
  supply: Record<string, string>;
  payments: Record<string, Payment>;
  byReference: Record<string, Payment>;
  admin: Record<string, AdminRecord>;
  /** Payments not yet at confirmation depth. */
  unconfirmed: Record<string, SeenPayment>;
  /** sha256 over all the entries above, in key order. */
  digest: string;
}

/**
 * Layout version of derived state. 2: payment entries carry reference, fee
 * and kind; 3: payments indexed by reference; 4: undo log, admin events,
 * unconfirmed payments; 5: payments stored as rows (paymentCodec.ts). A
 * store of another version is re-indexed from the chain (the events outbox
 * is kept: its sequence numbers are never reused).
 */
export const SCHEMA_VERSION = 5;

const SEQ_WIDTH = 16;
/** Meta key: the outbox's last seq before a wipe (the outbox numbers on from there). */
const SEQ_FLOOR = "seqFloor";
const seqKey = (seq: number): string => String(seq).padStart(SEQ_WIDTH, "0");
/** Outbox events per LevelDB entry (see #putEvents); an entry of one event is the older layout, read the same way. */
const EVENTS_PER_ENTRY = 256;
const blockKey = (n: number): string => String(n).padStart(BLOCK_WIDTH, "0");

/** The outbox id of a fact: see NodeEvent.id. */
export function eventId(type: NodeEventType, chainId: number, blockHash: string, txHash: string, logIndex: number): string {
  // One-shot hash(): a third of createHash's cost, on the backfill's hot path.
  return `0x${hash("sha256", `${type}:${chainId.toString()}:${blockHash}:${txHash}:${logIndex.toString()}`, "hex")}`;
}

type Snapshot = ReturnType<Level["snapshot"]>;
type Sub = AbstractSublevel<Level, string | Buffer | Uint8Array, string, string>;
/** A sublevel of the node's LevelDB, for state that is not derived from the chain (the relayer's intents). */
export type StoreSublevel = Sub;

/** Reads against one consistent snapshot of the store. */
export interface StoreReader {
  cursor(): Promise<Cursor | undefined>;
  balances(account: string): Promise<Record<Currency, bigint>>;
  supply(): Promise<Record<Currency, bigint>>;
  payments(account: string, opts: { limit: number; before?: LogPosition | undefined }): Promise<PaymentPage>;
  /** Payments carrying `reference` (lowercase), newest first. */
  paymentsByReference(reference: string, opts: { limit: number; before?: LogPosition | undefined }): Promise<PaymentPage>;
}

/**
 * The node's LevelDB: derived state (balances, supply, payments per
 * account) and the cursor. Every indexer commit is one atomic batch across
 * sublevels, so a crash leaves the state of the previous commit intact.
 */
export class NodeStore {
  readonly #db: Level;
  readonly #meta: Sub;
  readonly #balances: Sub;
  readonly #supply: Sub;
  readonly #payments: Sub;
  readonly #byReference: Sub;
  readonly #relayer: Sub;
  readonly #merchants: Sub;
  readonly #invoices: Sub;
  readonly #webhooks: Sub;
  readonly #admin: Sub;
  readonly #unconfirmed: Sub;
  readonly #undo: Sub;
  readonly #events: Sub;
  readonly #subs: Record<SubName, Sub>;
  /** `{ sublevel }` options per derived sublevel, made once (a backfill puts hundreds of thousands of entries). */
  readonly #putOptions: Record<SubName, { sublevel: Sub }>;
  readonly #confirmations: number;
  /** The newest event on disk. */
  #lastSeq = 0;
  /** The newest event numbered, staged batches included (see stage). */
  #stagedSeq = 0;
  /** Writers of outbox events (stage, rollback, appendEvents) take turns: each numbers its events from #stagedSeq. */
  #writing: Promise<unknown> = Promise.resolve();
  /** The batch staged and not yet on disk, if any: its writes to the subs commits read back, and its write. */
  #inflight: InFlight | undefined;

  private constructor(db: Level, confirmations: number) {
    this.#db = db;
    this.#confirmations = confirmations;
    this.#admin = db.sublevel("adm");
    this.#unconfirmed = db.sublevel("pcf");
    this.#undo = db.sublevel("und");
    this.#events = db.sublevel("evt");
    this.#meta = db.sublevel("meta");
    this.#balances = db.sublevel("bal");
    this.#supply = db.sublevel("sup");
    this.#payments = db.sublevel("pay");
    this.#byReference = db.sublevel("ref");
    this.#relayer = db.sublevel("rly");
    this.#merchants = db.sublevel("mer");
    this.#invoices = db.sublevel("inv");
    this.#webhooks = db.sublevel("whk");
    this.#subs = { bal: this.#balances, sup: this.#supply, pay: this.#payments, ref: this.#byReference, adm: this.#admin, pcf: this.#unconfirmed };
    this.#putOptions = Object.fromEntries(Object.entries(this.#subs).map(([name, sublevel]) => [name, { sublevel }])) as Record<SubName, { sublevel: Sub }>;
  }

  /** `confirmations`: the depth at which a payment reads as confirmed (1: once in a block). */
  static async open(dir: string, opts: { confirmations?: number } = {}): Promise<NodeStore> {
    const db = new Level(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.open();
    const store = new NodeStore(db, opts.confirmations ?? 1);
    const [last] = await store.#events.keys({ reverse: true, limit: 1 }).all();
    const floor = await store.#meta.get(SEQ_FLOOR);
    store.#lastSeq = Math.max(last === undefined ? 0 : Number(last), floor === undefined ? 0 : Number(floor));
    store.#stagedSeq = store.#lastSeq;
    return store;
  }

  get confirmations(): number {
    return this.#confirmations;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async identity(): Promise<ChainIdentity | undefined> {
    const v = await this.#meta.get("identity");
    return v === undefined ? undefined : (JSON.parse(v) as ChainIdentity);
  }

  /** Stamps the identity and the current SCHEMA_VERSION, together. */
  async setIdentity(identity: ChainIdentity): Promise<void> {
    await this.#db.batch([
      { type: "put", key: "identity", value: JSON.stringify(identity), sublevel: this.#meta },
      { type: "put", key: "schema", value: String(SCHEMA_VERSION), sublevel: this.#meta },
    ]);
  }

  /** The layout version the stored state was derived with (1: before versions were stamped). */
  async schemaVersion(): Promise<number> {
    const v = await this.#meta.get("schema");
    return v === undefined ? 1 : Number(v);
  }

  async cursor(): Promise<Cursor | undefined> {
    return this.reader().cursor();
  }

  /** True when the store holds no entry at all. */
  async isEmpty(): Promise<boolean> {
    const keys = await this.#db.keys({ limit: 1 }).all();
    return keys.length === 0;
  }

  /**
   * Deletes everything but the merchants, their invoices and webhook
   * settings (records of people, not facts of a chain) and the outbox's seq
   * floor. The identity goes first, so an interrupted wipe leaves a store
   * without identity, which startup wipes again.
   */
  async wipe(): Promise<void> {
    // The outbox's last seq survives as a floor, written with the identity's removal: SSE
    // clients resume by Last-Event-ID, so the new chain's events must number on from it.
    await this.#db.batch([
      { type: "del", key: "identity", sublevel: this.#meta },
      { type: "put", key: SEQ_FLOOR, value: String(this.#lastSeq), sublevel: this.#meta },
    ]);
    // Sublevel keys are "!name!key": clear the gaps between the kept ranges.
    const kept = [`!inv!`, `!mer!`, `!meta!${SEQ_FLOOR}`, `!whk!cfg!`].sort();
    let from: string | undefined;
    for (const prefix of kept) {
      await this.#db.clear(from === undefined ? { lt: prefix } : { gte: from, lt: prefix });
      from = prefixEnd(prefix);
    }
    if (from !== undefined) await this.#db.clear({ gte: from });
  }

  /**
   * Deletes the state derived from the chain and keeps the relayer's
   * records: they are not derived (accepted intents live only here), and
   * they still hold for the same chain after a re-index.
   */
  async wipeDerived(): Promise<void> {
    await this.#meta.del("identity");
    for (const sub of [...Object.values(this.#subs), this.#undo]) await sub.clear();
    await this.#meta.clear({ lt: SEQ_FLOOR });
    await this.#meta.clear({ gt: SEQ_FLOOR });
  }

  /** The relayer's part of the store (intents and its transactions), outside derived state. */
  relayerSublevel(): StoreSublevel {
    return this.#relayer;
  }

  /** Webhook settings and deliveries (sublevel `whk`): kept by wipeDerived (not derived from the chain). */
  webhookSublevel(): StoreSublevel {
    return this.#webhooks;
  }

  /** The merchants' part of the store (sublevel `mer`): kept by wipeDerived and wipe. */
  merchantSublevel(): StoreSublevel {
    return this.#merchants;
  }

  /** The invoices' part of the store (sublevel `inv`): kept by wipeDerived and wipe. */
  invoiceSublevel(): StoreSublevel {
    return this.#invoices;
  }

  /**
   * Appends events that are not derived from a block (invoice status
   * changes) to the outbox, numbered after the newest, in one atomic batch
   * with the caller's own records (`extra`: its cursor, what it pushed), so
   * a crash neither loses nor repeats them.
   */
  appendEvents(events: readonly Omit<NodeEvent, "seq">[], extra: readonly ({ type: "put"; key: string; value: string; sublevel: StoreSublevel } | { type: "del"; key: string; sublevel: StoreSublevel })[]): Promise<number> {
    return this.#turn(async () => {
      await this.#settled();
      let seq = this.#stagedSeq;
      const lines = events.map((e) => ({ seq: ++seq, json: JSON.stringify({ seq, ...e }) }));
      const batch = this.#db.batch();
      for (const op of extra) {
        if (op.type === "put") batch.put(op.key, op.value, { sublevel: op.sublevel });
        else batch.del(op.key, { sublevel: op.sublevel });
      }
      this.#putEvents(batch, lines);
      await batch.write({ sync: true });
      this.#lastSeq = this.#stagedSeq = seq;
      return seq;
    });
  }

  #turn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writing.then(fn);
    this.#writing = run.catch(() => undefined);
    return run;
  }

  /** Current balances of some (account, currency) pairs, zero when absent; a staged batch's values count. */
  async balancesOf(keys: readonly { account: string; currency: Currency }[]): Promise<bigint[]> {
    const values = await this.#getStaged("bal", keys.map((k) => balanceKey(k.account, k.currency)));
    return values.map((v) => (v === null ? 0n : BigInt(v)));
  }

  /** Values of `keys` in `sub` as they will be once the staged batch is on disk (null: absent). */
  async #getStaged(sub: SubName, keys: readonly string[]): Promise<(string | null)[]> {
    // Taken before the read: the batch may reach the disk (and leave #inflight) meanwhile.
    const overlay = this.#inflight?.writes.get(sub);
    const values = await this.#subs[sub].getMany(keys as string[]);
    return keys.map((k, i) => {
      const staged = overlay?.get(k);
      return staged !== undefined ? staged : (values[i] ?? null);
    });
  }

  /** Waits until no staged batch is left unwritten; a failed one's error is its own caller's. */
  async #settled(): Promise<void> {
    await this.#inflight?.written.catch(() => undefined);
  }

  /**
   * Waits until every staged batch is on disk or has failed, and forgets a
   * failure: the caller (the indexer, after an error) then re-reads the
   * cursor and state from the disk before it stages again.
   */
  settle(): Promise<void> {
    return this.#turn(async () => {
      await this.#settled();
      this.#inflight = undefined;
      this.#stagedSeq = this.#lastSeq;
    });
  }

  async supplyOf(): Promise<Record<Currency, bigint>> {
    return this.reader().supply();
  }

  /**
   * Writes the derived state of a block range, the new cursor, the events it
   * causes and (in the reorg window) its undo record as ONE atomic batch:
   * a crash leaves either all of it or none.
   */
  async commit(changes: StateChanges, cursor: Cursor, opts?: CommitOptions): Promise<void> {
    await (await this.stage(changes, cursor, opts)).written;
  }

  /**
   * Builds the commit's batch and starts writing it, without waiting for
   * the disk: the indexer derives the next range while LevelDB writes this
   * one (the write runs off the JS thread). Batches are written in the
   * order they are staged, each only once the one before is on disk (a
   * failed write fails every batch staged after it), so a crash still
   * leaves a prefix of whole commits. The next stage reads this batch's
   * balances, supply and unconfirmed payments as if written; at most one
   * batch is in flight while another is built. Resolves once the batch
   * before this one is on disk; rejects if that one failed.
   */
  stage(changes: StateChanges, cursor: Cursor, opts?: CommitOptions): Promise<{ written: Promise<void> }> {
    return this.#turn(() => this.#stage(changes, cursor, opts));
  }

  async #stage(changes: StateChanges, cursor: Cursor, opts?: CommitOptions): Promise<{ written: Promise<void> }> {
    const writes: [SubName, string, string | null][] = [];
    // A payment is written under its sender, its receiver, its reference and in its event: serialised once (the backfill's hot path).
    const jsonOf = new Map<Payment, string>();
    const pj = (p: Payment): string => {
      let j = jsonOf.get(p);
      if (j === undefined) {
        j = encodePayment(p);
        jsonOf.set(p, j);
      }
      return j;
    };
    const batch = this.#db.batch();
    for (const b of changes.balances.values()) writes.push(["bal", balanceKey(b.account, b.currency), b.value.toString()]);
    for (const [currency, value] of changes.supply) writes.push(["sup", currency, value.toString()]);
    // Facts (payments, references, admin events) only ever get new keys: straight into the batch
    // (the backfill's bulk), remembered only when an undo record must delete them again.
    const newFacts: [SubName, string][] | undefined = opts?.undo ? [] : undefined;
    const putFact = (sub: "pay" | "ref" | "adm", key: string, value: string): void => {
      batch.put(key, value, this.#putOptions[sub]);
      newFacts?.push([sub, key]);
    };
    let last: Payment | undefined;
    let lastPos = "";
    for (const { account, payment } of changes.payments) {
      // A transfer's entries under its sender and its receiver are consecutive: one position key.
      if (payment !== last) {
        last = payment;
        lastPos = positionKey(payment);
      }
      putFact("pay", paymentKeyAt(account, lastPos), pj(payment));
    }
    for (const payment of changes.byReference ?? []) {
      if (payment.reference !== null) putFact("ref", paymentKey(payment.reference, payment), pj(payment));
    }
    for (const a of changes.admin ?? []) putFact("adm", positionKey(a), JSON.stringify(a));

    /** Serialised events: payment events as compact lines (see encodePaymentEvent), the others as JSON.stringify(NodeEvent). */
    const events: { seq: number; json: string }[] = [];
    let seq = this.#stagedSeq;
    if (opts) {
      const emit = (type: NodeEventType, f: { blockNumber: number; logIndex: number; txHash: string }, blockHash: string, accounts: string[], admin: AdminRecord): void => {
        const e: NodeEvent = { seq: ++seq, id: eventId(type, opts.chainId, blockHash, f.txHash, f.logIndex), type, chainId: opts.chainId, blockNumber: f.blockNumber, blockHash, txHash: f.txHash, logIndex: f.logIndex, accounts, admin };
        events.push({ seq, json: JSON.stringify(e) });
      };
      const report = (type: "payment.pending" | "payment.confirmed", p: SeenPayment, status: PaymentStatus): void => {
        const pay = p.payment;
        events.push({ seq: ++seq, json: encodePaymentEvent(opts.chainId, status, eventId(type, opts.chainId, p.blockHash, pay.txHash, pay.logIndex), p.blockHash, p.accounts, pj(pay)) });
      };
      // The deepest block counted as confirmed once the cursor is at `cursor`.
      const confirmedThrough = cursor.blockNumber - opts.confirmations + 1;
      const confirmedNow = new Map<string, string>();
      if (opts.confirmations > 1) {
        const due = await this.#stagedRange("pcf", blockKey(confirmedThrough + 1));
        for (const [key, value] of due) {
          const p = JSON.parse(value) as SeenPayment;
          writes.push(["pcf", key, null]);
          confirmedNow.set(key, value);
          report("payment.confirmed", p, "confirmed");
        }
      }
      const seenPayment = (p: SeenPayment): void => {
        if (p.payment.blockNumber <= confirmedThrough) {
          report("payment.confirmed", p, "confirmed");
        } else {
          writes.push(["pcf", positionKey(p.payment), JSON.stringify(p)]);
          report("payment.pending", p, "pending");
        }
      };
      if (opts.admin.length === 0) {
        for (const p of opts.payments) seenPayment(p);
      } else {
        // Events in log order, payments and admin events interleaved.
        type Fact = { pos: LogPosition; p: SeenPayment; a?: undefined } | { pos: LogPosition; p?: undefined; a: CommitOptions["admin"][number] };
        const facts: Fact[] = [...opts.payments.map((p) => ({ pos: p.payment, p })), ...opts.admin.map((a) => ({ pos: a.record, a }))];
        facts.sort((x, y) => byPosition(x.pos, y.pos));
        for (const { p, a } of facts) {
          if (p) seenPayment(p);
          else emit(`admin.${a.record.kind}`, a.record, a.blockHash, [a.record.account.toLowerCase()], a.record);
        }
      }
      if (opts.undo) {
        const entries: [SubName, string, string | null][] = (newFacts ?? []).map(([sub, key]) => [sub, key, null]);
        const keysBySub = new Map<SubName, string[]>();
        for (const [sub, key, value] of writes) {
          // A new pending payment is new in this commit (like the facts); a
          // confirmed pending one was just read. Only balances and supply need reading back.
          if (sub === "pcf" && value !== null) {
            entries.push([sub, key, null]);
            continue;
          }
          if (sub === "pcf") {
            entries.push([sub, key, confirmedNow.get(key) ?? null]);
            continue;
          }
          const list = keysBySub.get(sub);
          if (list) list.push(key);
          else keysBySub.set(sub, [key]);
        }
        for (const [sub, keys] of keysBySub) {
          const unique = [...new Set(keys)];
          const prev = await this.#getStaged(sub, unique);
          for (const [i, key] of unique.entries()) entries.push([sub, key, prev[i] ?? null]);
        }
        const record: UndoRecord = { toBlock: cursor.blockNumber, prevCursor: opts.prevCursor, entries, payments: [...opts.payments] };
        batch.put(blockKey(cursor.blockNumber), JSON.stringify(record), { sublevel: this.#undo });
      }
      for (const key of await this.#undo.keys({ lte: blockKey(opts.pruneThrough) }).all()) batch.del(key, { sublevel: this.#undo });
    }
    for (const [sub, key, value] of writes) {
      if (value === null) batch.del(key, this.#putOptions[sub]);
      else batch.put(key, value, this.#putOptions[sub]);
    }
    this.#putEvents(batch, events);
    batch.put("cursor", JSON.stringify(cursor), { sublevel: this.#meta });

    const staged = new Map<SubName, Map<string, string | null>>();
    for (const [sub, key, value] of writes) {
      if (!READ_BACK_SUBS.has(sub)) continue;
      let m = staged.get(sub);
      if (!m) {
        m = new Map<string, string | null>();
        staged.set(sub, m);
      }
      m.set(key, value);
    }
    const previous = this.#inflight;
    const written = (async () => {
      await previous?.written;
      // sync: the commit is on disk (not only in the OS cache) before the
      // cursor moves on, so even a power cut never takes the node backwards.
      await batch.write({ sync: true });
      this.#lastSeq = seq;
    })();
    const flight: InFlight = { writes: staged, written };
    this.#inflight = flight;
    this.#stagedSeq = seq;
    written.then(
      () => {
        if (this.#inflight === flight) this.#inflight = undefined;
      },
      () => {
        // The failed batch stays in flight: every batch staged after it chains
        // onto it and fails too (never a gap on disk) until settle() forgets it.
        this.#stagedSeq = this.#lastSeq;
      },
    );
    // Before the next batch is built, the one before this is on disk: the overlay is one batch
    // deep. If it failed, so does this stage: the caller built on it and must start over (settle).
    await previous?.written;
    return { written };
  }

  /** Entries of `sub` with keys below `lt`, in key order, as they will be once the staged batch is on disk. */
  async #stagedRange(sub: SubName, lt: string): Promise<[string, string][]> {
    // The overlay is taken before the read: the batch may reach the disk (and leave #inflight) meanwhile.
    const overlay = this.#inflight?.writes.get(sub);
    const entries = await this.#subs[sub].iterator({ lt }).all();
    if (!overlay || overlay.size === 0) return entries;
    const merged = new Map(entries);
    for (const [key, value] of overlay) {
      if (key >= lt) continue;
      if (value === null) merged.delete(key);
      else merged.set(key, value);
    }
    return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The undo records of the reorg window, newest first. */
  async undoRecords(): Promise<UndoRecord[]> {
    const values = await this.#undo.values({ reverse: true }).all();
    return values.map((v) => JSON.parse(v) as UndoRecord);
  }

  /**
   * Undoes the newest commit, in one atomic batch: restores the previous
   * value of every key it changed, moves the cursor back to where it was,
   * deletes the record and appends a `payment.dropped` event for each of
   * `dropped` (payments of that commit that the chain no longer has).
   */
  rollback(record: UndoRecord, dropped: readonly { seen: SeenPayment; status: PaymentStatus }[], chainId: number): Promise<void> {
    return this.#turn(() => this.#rollback(record, dropped, chainId));
  }

  async #rollback(record: UndoRecord, dropped: readonly { seen: SeenPayment; status: PaymentStatus }[], chainId: number): Promise<void> {
    await this.#settled();
    const cursor = await this.cursor();
    if (cursor?.blockNumber !== record.toBlock) throw new Error(`undo record of block ${record.toBlock.toString()} is not the newest commit`);
    const batch = this.#db.batch();
    for (const [sub, key, prev] of record.entries) {
      if (prev === null) batch.del(key, { sublevel: this.#subs[sub] });
      else batch.put(key, prev, { sublevel: this.#subs[sub] });
    }
    batch.del(blockKey(record.toBlock), { sublevel: this.#undo });
    let seq = this.#stagedSeq;
    const events: { seq: number; json: string }[] = [];
    for (const { seen, status } of dropped) {
      const p = seen.payment;
      const e: NodeEvent = {
        seq: ++seq,
        id: eventId("payment.dropped", chainId, seen.blockHash, p.txHash, p.logIndex),
        type: "payment.dropped",
        chainId,
        blockNumber: p.blockNumber,
        blockHash: seen.blockHash,
        txHash: p.txHash,
        logIndex: p.logIndex,
        accounts: seen.accounts,
        payment: { ...p, status },
      };
      events.push({ seq: e.seq, json: JSON.stringify(e) });
    }
    this.#putEvents(batch, events);
    batch.put("cursor", JSON.stringify(record.prevCursor), { sublevel: this.#meta });
    await batch.write({ sync: true });
    this.#lastSeq = this.#stagedSeq = seq;
  }

  /**
   * Appends consecutive events to the outbox as entries of up to
   * EVENTS_PER_ENTRY JSON lines, keyed by the last seq of each: a backfill
   * commits one put per few hundred events instead of one per event.
   */
  #putEvents(batch: ReturnType<Level["batch"]>, events: readonly { seq: number; json: string }[]): void {
    for (let i = 0; i < events.length; i += EVENTS_PER_ENTRY) {
      const chunk = events.slice(i, i + EVENTS_PER_ENTRY);
      const last = chunk[chunk.length - 1];
      if (last) batch.put(seqKey(last.seq), chunk.map((e) => e.json).join("\n"), { sublevel: this.#events });
    }
  }

  /** Outbox events with a sequence number above `seq`, oldest first. */
  async eventsAfter(seq: number, limit: number): Promise<NodeEvent[]> {
    const out: NodeEvent[] = [];
    if (limit <= 0) return out;
    // The first entry whose last seq is above `seq` holds seq + 1; only the lines needed are parsed.
    for await (const [key, value] of this.#events.iterator({ gt: seqKey(seq), limit })) {
      const lines = value.split("\n");
      const first = Number(key) - lines.length + 1;
      for (let i = Math.max(0, seq + 1 - first); i < lines.length && out.length < limit; i++) out.push(decodeEvent(first + i, lines[i] ?? ""));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The newest event's sequence number; 0 when there is none. */
  lastEventSeq(): Promise<number> {
    return Promise.resolve(this.#lastSeq);
  }

  /**
   * A reader; with `snapshot`, every read sees the same point in time.
   * Single keys (the cursor, balances) are read with getSync: a few
   * microseconds from LevelDB's memtable or cache, against a thread-pool
   * round trip per read, which made the API's tail latency.
   */
  reader(snapshot?: Snapshot): StoreReader {
    const opts = snapshot ? { snapshot } : {};
    const cursorNow = (): Cursor | undefined => {
      const v = this.#meta.getSync("cursor", opts);
      return v === undefined ? undefined : (JSON.parse(v) as Cursor);
    };
    /** Newest first among the keys `<prefix>!<position>` of `sub`, strictly before `before`. */
    const pageOf = async (sub: Sub, prefix: string, { limit, before }: { limit: number; before?: LogPosition | undefined }): Promise<PaymentPage> => {
      const range = paymentRange(prefix);
      const entries = await sub.iterator({ ...opts, reverse: true, gt: range.gt, lt: before ? paymentKey(prefix, before) : range.lt, limit: limit + 1 }).all();
      const indexed = cursorNow()?.blockNumber ?? -1;
      const items = entries.slice(0, limit).map(([, v]): PaymentItem => {
        const p = decodePayment(v);
        return { ...p, status: indexed - p.blockNumber + 1 >= this.#confirmations ? "confirmed" : "pending" };
      });
      const last = items.at(-1);
      return { items, next: entries.length > limit && last ? { blockNumber: last.blockNumber, logIndex: last.logIndex } : null };
    };
    return {
      cursor: () => Promise.resolve(cursorNow()),
      balances: (account) => Promise.resolve(Object.fromEntries(CURRENCIES.map((c) => [c, BigInt(this.#balances.getSync(balanceKey(account, c), opts) ?? "0")])) as Record<Currency, bigint>),
      supply: async () => {
        const values = await this.#supply.getMany([...CURRENCIES], opts);
        return Object.fromEntries(CURRENCIES.map((c, i) => [c, BigInt(values[i] ?? "0")])) as Record<Currency, bigint>;
      },
      payments: async (account, page) => pageOf(this.#payments, account, page),
      paymentsByReference: async (reference, page) => pageOf(this.#byReference, reference, page),
    };
  }

  /** Runs `fn` against one explicit snapshot, closed afterwards. */
  async read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    const snapshot = this.#db.snapshot();
    try {
      return await fn(this.reader(snapshot));
    } finally {
      await snapshot.close();
    }
  }

  /** Every entry of derived state, in key order, with a digest (crash and re-index comparisons). */
  async dump(): Promise<StateDump> {
    const snapshot = this.#db.snapshot();
    try {
      const hash = createHash("sha256");
      const collect = async (name: string, sub: Sub): Promise<[string, string][]> => {
        const entries = await sub.iterator({ snapshot }).all();
        for (const [k, v] of entries) hash.update(`${name}\u0000${k}\u0000${v}\u0000`);
        return entries;
      };
      const balances = Object.fromEntries(await collect("bal", this.#balances));
      const supply = Object.fromEntries(await collect("sup", this.#supply));
      const payments = Object.fromEntries((await collect("pay", this.#payments)).map(([k, v]) => [k, decodePayment(v)]));
      const byReference = Object.fromEntries((await collect("ref", this.#byReference)).map(([k, v]) => [k, decodePayment(v)]));
      const admin = Object.fromEntries((await collect("adm", this.#admin)).map(([k, v]) => [k, JSON.parse(v) as AdminRecord]));
      const unconfirmed = Object.fromEntries((await collect("pcf", this.#unconfirmed)).map(([k, v]) => [k, JSON.parse(v) as SeenPayment]));
      return { balances, supply, payments, byReference, admin, unconfirmed, digest: hash.digest("hex") };
    } finally {
      await snapshot.close();
    }
  }
}

/** The first key after every key that starts with `prefix` (for an exact key: the key itself is the prefix, and the next key ends the range). */
function prefixEnd(prefix: string): string {
  return prefix.endsWith("!") ? `${prefix.slice(0, -1)}"` : `${prefix}\u0000`;
}

/**
 * A payment event as stored: `[2, chainId, status, id, blockHash, accounts,
 * payment row]` (paymentCodec.ts), its seq given by its place in the entry. The backfill writes
 * one per transfer: the payment's JSON is the one already made for its
 * history entries, and the fields the payment repeats (block, tx, log
 * index) are not stored twice. decodeEvent rebuilds the NodeEvent.
 */
function encodePaymentEvent(chainId: number, status: PaymentStatus, id: string, blockHash: string, accounts: readonly string[], paymentJson: string): string {
  return `[2,${chainId.toString()},"${status}",${JSON.stringify(id)},${JSON.stringify(blockHash)},${JSON.stringify(accounts)},${paymentJson}]`;
}

type PaymentEventLine = [number, number, PaymentStatus, string, string, string[], unknown];

/** One outbox line: a compact payment event (encodePaymentEvent; layout 2, the first released) or a NodeEvent as JSON (every other event, and all lines of older stores). */
function decodeEvent(seq: number, line: string): NodeEvent {
  if (!line.startsWith("[")) return JSON.parse(line) as NodeEvent;
  const [version, chainId, status, id, blockHash, accounts, row] = JSON.parse(line) as PaymentEventLine;
  if (version !== 2) throw new Error(`outbox event ${seq.toString()} has an unknown layout ${String(version)}`);
  const payment = paymentOfRow(row);
  return { seq, id, type: `payment.${status}`, chainId, blockNumber: payment.blockNumber, blockHash, txHash: payment.txHash, logIndex: payment.logIndex, accounts, payment: { ...payment, status } };
}

function byPosition(a: LogPosition, b: LogPosition): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}
