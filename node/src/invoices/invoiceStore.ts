import { createHash, randomBytes } from "node:crypto";
import type { AbstractBatchOptions, AbstractSublevel } from "abstract-level";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { formatPaymentUri } from "../../../client/sdk/paymentUri.ts";
import { dueKey, type QueueingStore } from "../notify/statusWatcher.ts";
import type { PaymentItem, StoreSublevel } from "../store/store.ts";

/**
 * Invoices, in the node's LevelDB (sublevel `inv`: node state like the
 * merchants, kept by a chain-reset wipe; their status is never stored but
 * computed from the indexed payments, so a re-index or a reorg needs nothing
 * here):
 *
 *   inv!i <id>                               -> JSON Invoice
 *   inv!r <reference>                        -> id
 *   inv!l <merchantId>!<seq:16>              -> id          (the merchant's list, newest last)
 *   inv!k <merchantId>!<sha256(idemKey)>     -> JSON {id, bodyHash}
 *   inv e!<expiresAtMs:15>!<id>              -> ""          (expiry queue, read by the watcher)
 *   inv w!cur | w!s!<id>                     -> the watcher's outbox cursor and last pushed status
 *
 * The watcher's keys (notify/statusWatcher.ts) live directly in `inv` (not
 * in a child sublevel) so that NodeStore.appendEvents can write them in its batch.
 */

export interface Invoice {
  /** "inv_" + 16 hex digits. */
  id: string;
  merchantId: string;
  /** 0x + 64 lowercase hex: the payment reference the payer's `pay` carries. */
  reference: string;
  currency: Currency;
  /** Base units, decimal. */
  amount: string;
  description: string;
  orderId: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. */
  expiresAt: string;
  /** EIP-681 payment request (token transfer to `payee` with the reference). */
  uri: string;
  /** Checksummed address paid (the merchant's payout when the invoice was made). */
  payee: string;
}

export type InvoiceState = "open" | "partially_paid" | "paid" | "expired";
export const INVOICE_STATES: readonly InvoiceState[] = ["open", "partially_paid", "paid", "expired"];

/** A payment counted towards an invoice. */
export interface InvoicePayment {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  /** Block timestamp, Unix seconds. */
  timestamp: number;
  from: string;
  amount: string;
  /** Made after the invoice expired (its block's timestamp is past expiresAt). */
  late: boolean;
}

export interface InvoiceStatus {
  status: InvoiceState;
  /** Everything counted, on time and late, base units. */
  amountReceived: string;
  /** Paid on time beyond the amount (status paid). */
  excess: string;
  /** Paid after expiry. */
  late: string;
  /** What the merchant owes back: excess + late when paid; everything received when expired; 0 while open. */
  refundable: string;
  payments: InvoicePayment[];
}

/**
 * The status of an invoice from the payments carrying its reference. Only
 * confirmed kind "payment" transfers to the invoice's payee in its currency
 * count. A payment is on time when its block's timestamp is at or before
 * expiresAt; the invoice is expired when the clock (or a block) is past
 * expiresAt and the on-time total is short of the amount.
 */
export function invoiceStatus(invoice: Invoice, payments: readonly PaymentItem[], nowMs: number): InvoiceStatus {
  const expSec = Math.floor(Date.parse(invoice.expiresAt) / 1000);
  const payee = invoice.payee.toLowerCase();
  const counted = payments
    .filter((p) => p.kind === "payment" && p.status === "confirmed" && p.reference === invoice.reference && p.currency === invoice.currency && p.to.toLowerCase() === payee)
    .sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  let onTime = 0n;
  let late = 0n;
  let chainSec = 0;
  const list: InvoicePayment[] = counted.map((p) => {
    const isLate = p.timestamp > expSec;
    if (isLate) late += BigInt(p.amount);
    else onTime += BigInt(p.amount);
    chainSec = Math.max(chainSec, p.timestamp);
    return { txHash: p.txHash, logIndex: p.logIndex, blockNumber: p.blockNumber, timestamp: p.timestamp, from: p.from, amount: p.amount, late: isLate };
  });
  const amount = BigInt(invoice.amount);
  const received = onTime + late;
  // The chain's clock counts too: a block past expiry proves it expired, whatever this machine's clock says.
  const expired = nowMs > Date.parse(invoice.expiresAt) || chainSec > expSec;
  let status: InvoiceState;
  let excess = 0n;
  let refundable = 0n;
  if (onTime >= amount) {
    status = "paid";
    excess = onTime - amount;
    refundable = excess + late;
  } else if (expired) {
    status = "expired";
    refundable = received;
  } else {
    status = onTime > 0n ? "partially_paid" : "open";
  }
  return { status, amountReceived: received.toString(), excess: excess.toString(), late: late.toString(), refundable: refundable.toString(), payments: list };
}

/** What POST /v1/invoices takes, validated. */
export interface NewInvoice {
  amount: bigint;
  currency: Currency;
  description: string;
  orderId: string | null;
  /** Unix ms. */
  expiresAtMs: number;
}

/** What an invoice needs of its merchant and chain. */
export interface InvoiceContext {
  merchantId: string;
  payout: string;
  chainId: number;
  /** Checksummed token address of the invoice's currency. */
  token: string;
}

export type CreateResult = { kind: "created" | "replayed"; invoice: Invoice } | { kind: "conflict"; id: string };

type Child = AbstractSublevel<StoreSublevel, string | Buffer | Uint8Array, string, string>;
const SYNC: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: true };
const SEQ_WIDTH = 16;
const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
export const INVOICE_ID_RE = /^inv_[0-9a-f]{16}$/;

export class InvoiceStore implements QueueingStore {
  readonly #root: StoreSublevel;
  readonly #invoices: Child;
  readonly #refs: Child;
  readonly #lists: Child;
  readonly #idem: Child;
  /** Creations run one at a time: an idempotency key is checked and taken atomically. */
  #queue: Promise<unknown> = Promise.resolve();
  #seq = Date.now() * 1000;
  /** Called after each new invoice, whose expiry is queued (wakes the watcher: QueueingStore). */
  onQueued: (() => void) | undefined;

  constructor(root: StoreSublevel) {
    this.#root = root;
    this.#invoices = root.sublevel("i");
    this.#refs = root.sublevel("r");
    this.#lists = root.sublevel("l");
    this.#idem = root.sublevel("k");
  }

  /** The sublevel `inv` itself: the watcher's records and the expiry queue are keys of it. */
  get root(): StoreSublevel {
    return this.#root;
  }

  /**
   * Creates an invoice under an idempotency key: the same key with the same
   * input gives back the first invoice; with another input, a conflict.
   */
  create(ctx: InvoiceContext, input: NewInvoice, idempotencyKey: string, canonicalBody: string): Promise<CreateResult> {
    const run = this.#queue.then(() => this.#create(ctx, input, idempotencyKey, canonicalBody));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #create(ctx: InvoiceContext, input: NewInvoice, idempotencyKey: string, canonicalBody: string): Promise<CreateResult> {
    const idemKey = `${ctx.merchantId}!${sha256(idempotencyKey)}`;
    const bodyHash = sha256(canonicalBody);
    const prior = await this.#idem.get(idemKey);
    if (prior !== undefined) {
      const { id, bodyHash: h } = JSON.parse(prior) as { id: string; bodyHash: string };
      if (h !== bodyHash) return { kind: "conflict", id };
      const invoice = await this.get(ctx.merchantId, id);
      if (invoice) return { kind: "replayed", invoice };
    }
    const reference = `0x${randomBytes(32).toString("hex")}`;
    const invoice: Invoice = {
      id: `inv_${randomBytes(8).toString("hex")}`,
      merchantId: ctx.merchantId,
      reference,
      currency: input.currency,
      amount: input.amount.toString(),
      description: input.description,
      orderId: input.orderId,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(input.expiresAtMs).toISOString(),
      uri: formatPaymentUri({ chainId: ctx.chainId, token: ctx.token, to: ctx.payout, amount: input.amount, reference }),
      payee: ctx.payout,
    };
    this.#seq = Math.max(this.#seq + 1, Date.now() * 1000);
    await this.#root.batch(
      [
        { type: "put", key: invoice.id, value: JSON.stringify(invoice), sublevel: this.#invoices },
        { type: "put", key: reference, value: invoice.id, sublevel: this.#refs },
        { type: "put", key: `${ctx.merchantId}!${String(this.#seq).padStart(SEQ_WIDTH, "0")}`, value: invoice.id, sublevel: this.#lists },
        { type: "put", key: idemKey, value: JSON.stringify({ id: invoice.id, bodyHash }), sublevel: this.#idem },
        { type: "put", key: dueKey(input.expiresAtMs, invoice.id), value: "" },
      ],
      SYNC,
    );
    this.onQueued?.();
    return { kind: "created", invoice };
  }

  /** The merchant's invoice `id`; undefined when absent or another merchant's. */
  async get(merchantId: string, id: string): Promise<Invoice | undefined> {
    const invoice = await this.byId(id);
    return invoice?.merchantId === merchantId ? invoice : undefined;
  }

  async byId(id: string): Promise<Invoice | undefined> {
    if (!INVOICE_ID_RE.test(id)) return undefined;
    const v = await this.#invoices.get(id);
    return v === undefined ? undefined : (JSON.parse(v) as Invoice);
  }

  /** Whether any invoice exists. */
  async hasAny(): Promise<boolean> {
    return (await this.#invoices.keys({ limit: 1 }).all()).length > 0;
  }

  /** The invoice whose reference this is (0x + 64 hex, any case). */
  async byReference(reference: string): Promise<Invoice | undefined> {
    if (!/^0x[0-9a-fA-F]{64}$/.test(reference)) return undefined;
    const id = await this.#refs.get(reference.toLowerCase());
    return id === undefined ? undefined : this.byId(id);
  }

  /**
   * The merchant's invoices, newest first, from just before `before` (a list
   * key from a previous page). `accept` filters (e.g. by computed status);
   * at most `scanLimit` invoices are looked at per call, so a page may come
   * back short with a `next` to go on from.
   */
  async list(
    merchantId: string,
    opts: { limit: number; before?: string | undefined; accept?: (invoice: Invoice) => Promise<boolean>; scanLimit?: number },
  ): Promise<{ items: Invoice[]; next: string | null }> {
    const items: Invoice[] = [];
    const scanLimit = opts.scanLimit ?? 1000;
    let scanned = 0;
    let lastKey: string | null = null;
    const lt = opts.before ?? `${merchantId}!~`;
    for await (const [key, id] of this.#lists.iterator({ reverse: true, gt: `${merchantId}!`, lt })) {
      if (items.length >= opts.limit || scanned >= scanLimit) return { items, next: lastKey };
      scanned++;
      lastKey = key;
      const invoice = await this.byId(id);
      if (invoice && (!opts.accept || (await opts.accept(invoice)))) items.push(invoice);
    }
    return { items, next: null };
  }
}
