import { createHash } from "node:crypto";
import type { Logger } from "../log.ts";
import type { NodeEvent, NodeStore, StoreReader, StoreSublevel } from "../store/store.ts";
import { OutboxFollower } from "./outboxFollower.ts";

/** The zero hash: the txHash of an event no transaction caused (yet), the block hash before any block. */
export const NO_TX = `0x${"0".repeat(64)}`;
const MS_WIDTH = 15;
/** Longest sleep between rounds when nothing wakes the watcher. */
const IDLE_MS = 60_000;

type Op = { type: "put"; key: string; value: string; sublevel: StoreSublevel } | { type: "del"; key: string; sublevel: StoreSublevel };

/**
 * The watcher's keys, directly in the record kind's sublevel (not in a child
 * sublevel) so that NodeStore.appendEvents writes them in its batch:
 *
 *   w!cur                  -> the last outbox seq looked at
 *   w!s!<id>               -> the state last pushed for record <id> (StatusObservation.state)
 *   e!<ms:15>!<id>         -> "" (look at record <id> again once the clock is past ms)
 *
 * The record's own store writes the `e!` entry in the same batch as the
 * change that needs a look (use dueKey): an invoice's expiry, a refund's
 * creation or cancellation (due at once).
 */
export const dueKey = (atMs: number, id: string): string => `e!${String(atMs).padStart(MS_WIDTH, "0")}!${id}`;

/** A record store the watcher follows: it calls onQueued after writing a dueKey entry (wakes the watcher). */
export interface QueueingStore {
  onQueued: (() => void) | undefined;
}

/** What a record looks like now, and the event that reports it. */
export interface StatusObservation {
  /** Compared with what was last pushed: when it differs, `event` is appended and this is stored. */
  state: string;
  /** The event; the watcher fills in its id, chainId and the indexed block. */
  event: Omit<NodeEvent, "seq" | "id" | "chainId" | "blockNumber" | "blockHash">;
  /**
   * What the event says, without its type and chain (the watcher adds them),
   * hashed into the event's id: the same fact again (a re-index going
   * through the same states) has the same id, so webhooks deliver it once.
   */
  fact: string;
}

/** One kind of record whose status changes are pushed (invoices, refunds). */
export interface StatusKind<T extends { id: string }> {
  /** Log component ("invoices", "refunds"). */
  name: string;
  /** The kind's sublevel: the watcher's keys (above) live in it. */
  root: StoreSublevel;
  store: QueueingStore;
  /** The record a payment's reference belongs to, if any. */
  byReference(reference: string): Promise<T | undefined>;
  byId(id: string): Promise<T | undefined>;
  /** Whether any record of the kind exists: with none, no outbox event can concern one (a backfill's are skipped unread). */
  hasRecords(): Promise<boolean>;
  /** The state that counts as pushed when nothing was (undefined: a record's first state is always pushed). */
  initial: string | undefined;
  /** The record's state now, read under one store read; `prev` is the state last pushed (or `initial`). */
  observe(reader: StoreReader, record: T, ctx: { now: number; prev: string | undefined }): Promise<StatusObservation>;
}

/** What every status watcher takes besides its kind (InvoiceWatcher and RefundWatcher add their records' store). */
export interface StatusWatcherBaseOptions {
  store: NodeStore;
  chainId: number;
  log: Logger;
  /** Called after events were appended (wakes the SSE hub and webhooks). */
  onAppended: () => void;
  /** Outbox events read per round. Default 500. */
  pageSize?: number;
  now?: () => number;
}

export interface StatusWatcherOptions<T extends { id: string }> extends StatusWatcherBaseOptions {
  kind: StatusKind<T>;
}

/**
 * Pushes status changes of node records (invoices, refunds) that the chain
 * decides: an {@link OutboxFollower} (its cursor `w!cur` in the kind's sublevel),
 * looks again at the records whose reference a payment event carries and at
 * those whose due entry has come, and when a record's state differs from
 * the one last pushed appends its event. The events, the cursor, the states
 * pushed and the due entries consumed are one batch
 * (NodeStore.appendEvents): a crash never loses or repeats a push. Changes
 * that come faster than a round are pushed as the latest state.
 */
export class StatusWatcher<T extends { id: string }> extends OutboxFollower {
  readonly #store: NodeStore;
  readonly #kind: StatusKind<T>;
  readonly #root: StoreSublevel;
  readonly #chainId: number;
  readonly #log: Logger;
  readonly #onAppended: () => void;
  readonly #pageSize: number;
  readonly #now: () => number;

  constructor(opts: StatusWatcherOptions<T>) {
    const log = opts.log.child({ component: opts.kind.name });
    // OutboxFollower.start: a cursor past the head (a chain reset) restarts at the head; states are recomputed from the new outbox.
    super({ source: opts.store, cursor: { sub: opts.kind.root, key: "w!cur" }, log, errorMessage: `${opts.kind.name} status round failed` });
    this.#store = opts.store;
    this.#kind = opts.kind;
    this.#root = opts.kind.root;
    this.#chainId = opts.chainId;
    this.#log = log;
    this.#onAppended = opts.onAppended;
    this.#pageSize = opts.pageSize ?? 500;
    this.#now = opts.now ?? Date.now;
  }

  protected override started(): void {
    this.#kind.store.onQueued = () => {
      this.notify();
    };
  }

  protected override async stopping(roundOver: Promise<void>): Promise<void> {
    this.#kind.store.onQueued = undefined;
    await roundOver;
  }

  /** Rounds until there is nothing left to do; returns how long to sleep. */
  protected override async round(): Promise<number> {
    while (this.running && (await this.#round()));
    return this.#untilNextDue();
  }

  /** Milliseconds until the first due entry comes (at most IDLE_MS). */
  async #untilNextDue(): Promise<number> {
    const [first] = await this.#root.keys({ gt: "e!", lt: "e!~", limit: 1 }).all();
    if (first === undefined) return IDLE_MS;
    // Due strictly after its time (an invoice expires past expiresAt): wake 1 ms past it.
    return Math.min(IDLE_MS, Math.max(0, Number(first.slice(2, 2 + MS_WIDTH)) + 1 - this.#now()));
  }

  /** One page of outbox events and the due entries; true when there may be more to do. */
  async #round(): Promise<boolean> {
    const cur = Number((await this.#root.get("w!cur")) ?? "0");
    const head = await this.#store.lastEventSeq();
    // The head is read first: a record created after hasRecords() answered is one whose payments came after it was made.
    if (cur < head && !(await this.#kind.hasRecords())) {
      await this.#root.put("w!cur", String(head));
      return true;
    }
    const events = cur < head ? (await this.#store.eventsAfter(cur, this.#pageSize)).filter((e) => e.seq <= head) : [];
    const now = this.#now();
    // Entries with a time before now (keys up to now - 1, inclusive).
    const dueKeys = await this.#root.keys({ gt: "e!", lt: `${dueKey(now - 1, "")}~`, limit: this.#pageSize }).all();
    if (events.length === 0 && dueKeys.length === 0) return false;

    const records = new Map<string, T>();
    for (const e of events) {
      const ref = e.payment?.reference;
      if (!e.type.startsWith("payment.") || ref === undefined || ref === null) continue;
      const record = await this.#kind.byReference(ref);
      if (record) records.set(record.id, record);
    }
    for (const key of dueKeys) {
      const record = await this.#kind.byId(key.slice(key.lastIndexOf("!") + 1));
      if (record) records.set(record.id, record);
    }

    const out: Omit<NodeEvent, "seq">[] = [];
    const ops: Op[] = [];
    const sub = this.#root;
    await this.#store.read(async (reader) => {
      const cursor = await reader.cursor();
      for (const record of records.values()) {
        const prev = (await sub.get(`w!s!${record.id}`)) ?? this.#kind.initial;
        const seen = await this.#kind.observe(reader, record, { now, prev });
        if (seen.state === prev) continue;
        const { type, ...rest } = seen.event;
        out.push({
          id: `0x${createHash("sha256").update(`${type}:${this.#chainId.toString()}:${seen.fact}`).digest("hex")}`,
          type,
          chainId: this.#chainId,
          blockNumber: cursor?.blockNumber ?? 0,
          blockHash: cursor?.blockHash ?? NO_TX,
          ...rest,
        });
        ops.push({ type: "put", key: `w!s!${record.id}`, value: seen.state, sublevel: sub });
      }
    });
    for (const key of dueKeys) ops.push({ type: "del", key, sublevel: sub });
    const last = events.at(-1);
    if (last) ops.push({ type: "put", key: "w!cur", value: String(last.seq), sublevel: sub });
    await this.#store.appendEvents(out, ops);
    if (out.length > 0) {
      this.#log.debug(`${this.#kind.name} events`, { count: out.length });
      this.#onAppended();
    }
    return true;
  }
}
