import { createHash } from "node:crypto";
import type { Logger } from "../log.ts";
import type { NodeEvent, NodeStore, PaymentItem, StoreReader, StoreSublevel } from "../store/store.ts";
import type { LogPosition } from "../store/keys.ts";
import { OutboxFollower } from "../notify/outboxFollower.ts";
import { invoiceStatus, type Invoice, type InvoiceStatus, type InvoiceStore } from "./invoiceStore.ts";

const ZERO_HASH = `0x${"0".repeat(64)}`;
const MS_WIDTH = 15;
/** Longest sleep between rounds when nothing wakes the watcher. */
const IDLE_MS = 60_000;

type Op = { type: "put"; key: string; value: string; sublevel: StoreSublevel } | { type: "del"; key: string; sublevel: StoreSublevel };

/** What was last pushed for an invoice (absent: nothing yet, i.e. open with nothing received). */
interface Pushed {
  status: string;
  amountReceived: string;
}

export interface InvoiceWatcherOptions {
  store: NodeStore;
  invoices: InvoiceStore;
  chainId: number;
  log: Logger;
  /** Called after invoice events were appended (wakes the SSE hub and webhooks). */
  onAppended: () => void;
  /** Outbox events read per round. Default 500. */
  pageSize?: number;
  now?: () => number;
}

/** Every payment carrying `reference`, through all pages. */
export async function allPaymentsByReference(reader: StoreReader, reference: string): Promise<PaymentItem[]> {
  const out: PaymentItem[] = [];
  let before: LogPosition | undefined;
  for (;;) {
    const page = await reader.paymentsByReference(reference, { limit: 100, before });
    out.push(...page.items);
    if (!page.next) return out;
    before = page.next;
  }
}

/**
 * Pushes invoice status changes: follows the events outbox (its cursor in
 * `inv`), recomputes the invoices whose reference a payment event carries,
 * and when the status (or the amount received) changed appends an
 * `invoice.<status>` event. The events, the cursor and the statuses pushed
 * are one batch (NodeStore.appendEvents): a crash never loses or repeats a
 * push. Expiry has no payment event: a timer on the expiry queue does it.
 */
export class InvoiceWatcher extends OutboxFollower {
  readonly #store: NodeStore;
  readonly #invoices: InvoiceStore;
  readonly #root: StoreSublevel;
  readonly #chainId: number;
  readonly #log: Logger;
  readonly #onAppended: () => void;
  readonly #pageSize: number;
  readonly #now: () => number;

  constructor(opts: InvoiceWatcherOptions) {
    const log = opts.log.child({ component: "invoices" });
    super({ source: opts.store, cursor: { sub: opts.invoices.root, key: "w!cur" }, log, errorMessage: "invoice round failed" });
    this.#store = opts.store;
    this.#invoices = opts.invoices;
    this.#root = opts.invoices.root;
    this.#chainId = opts.chainId;
    this.#log = log;
    this.#onAppended = opts.onAppended;
    this.#pageSize = opts.pageSize ?? 500;
    this.#now = opts.now ?? Date.now;
  }

  protected override started(): void {
    this.#invoices.onCreated = () => {
      this.notify();
    };
  }

  protected override async stopping(roundOver: Promise<void>): Promise<void> {
    this.#invoices.onCreated = undefined;
    await roundOver;
  }

  /** Rounds until there is nothing left to do; returns how long to sleep. */
  protected override async round(): Promise<number> {
    while (this.running && (await this.#round()));
    return this.#untilNextExpiry();
  }

  /** Milliseconds until the first queued expiry is due (at most IDLE_MS). */
  async #untilNextExpiry(): Promise<number> {
    const [first] = await this.#root.keys({ gt: "e!", lt: "e!~", limit: 1 }).all();
    if (first === undefined) return IDLE_MS;
    // Status turns expired strictly after expiresAt: wake 1 ms past it.
    return Math.min(IDLE_MS, Math.max(0, Number(first.slice(2, 2 + MS_WIDTH)) + 1 - this.#now()));
  }

  /** One page of outbox events and the due expiries; true when there may be more to do. */
  async #round(): Promise<boolean> {
    const cur = Number((await this.#root.get("w!cur")) ?? "0");
    const head = await this.#store.lastEventSeq();
    const events = cur < head ? (await this.#store.eventsAfter(cur, this.#pageSize)).filter((e) => e.seq <= head) : [];
    const now = this.#now();
    const dueKeys = await this.#root.keys({ gt: "e!", lt: `e!${String(now).padStart(MS_WIDTH, "0")}~`, limit: this.#pageSize }).all();
    if (events.length === 0 && dueKeys.length === 0) return false;

    const invoices = new Map<string, Invoice>();
    for (const e of events) {
      const ref = e.payment?.reference;
      if (!e.type.startsWith("payment.") || ref === undefined || ref === null) continue;
      const invoice = await this.#invoices.byReference(ref);
      if (invoice) invoices.set(invoice.id, invoice);
    }
    for (const key of dueKeys) {
      const invoice = await this.#invoices.byId(key.slice(key.lastIndexOf("!") + 1));
      if (invoice) invoices.set(invoice.id, invoice);
    }

    const out: Omit<NodeEvent, "seq">[] = [];
    const ops: Op[] = [];
    const sub = this.#root;
    await this.#store.read(async (reader) => {
      const cursor = await reader.cursor();
      for (const invoice of invoices.values()) {
        const status = invoiceStatus(invoice, await allPaymentsByReference(reader, invoice.reference), now);
        const raw = await sub.get(`w!s!${invoice.id}`);
        const prev: Pushed = raw === undefined ? { status: "open", amountReceived: "0" } : (JSON.parse(raw) as Pushed);
        if (prev.status === status.status && prev.amountReceived === status.amountReceived) continue;
        out.push(this.#event(invoice, status, cursor));
        ops.push({ type: "put", key: `w!s!${invoice.id}`, value: JSON.stringify({ status: status.status, amountReceived: status.amountReceived } satisfies Pushed), sublevel: sub });
      }
    });
    for (const key of dueKeys) ops.push({ type: "del", key, sublevel: sub });
    const last = events.at(-1);
    if (last) ops.push({ type: "put", key: "w!cur", value: String(last.seq), sublevel: sub });
    await this.#store.appendEvents(out, ops);
    if (out.length > 0) {
      this.#log.debug("invoice events", { count: out.length });
      this.#onAppended();
    }
    return true;
  }

  #event(invoice: Invoice, status: InvoiceStatus, cursor: { blockNumber: number; blockHash: string } | undefined): Omit<NodeEvent, "seq"> {
    const type = `invoice.${status.status}` as const;
    const lastPayment = status.payments.at(-1);
    // The same status from the same payments is the same fact: the same id (webhooks deliver it once).
    const fact = `${type}:${this.#chainId.toString()}:${invoice.id}:${status.amountReceived}:${status.payments.map((p) => `${p.txHash}:${p.logIndex.toString()}:${p.blockNumber.toString()}`).join(",")}`;
    return {
      id: `0x${createHash("sha256").update(fact).digest("hex")}`,
      type,
      chainId: this.#chainId,
      blockNumber: cursor?.blockNumber ?? 0,
      blockHash: cursor?.blockHash ?? ZERO_HASH,
      txHash: lastPayment?.txHash ?? ZERO_HASH,
      logIndex: lastPayment?.logIndex ?? 0,
      accounts: [],
      merchantId: invoice.merchantId,
      invoice: { ...invoice, ...status },
    };
  }
}
