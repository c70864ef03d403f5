import { createHash, randomBytes } from "node:crypto";
import { getAddress, hexlify } from "ethers";
import { z } from "zod";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { formatPaymentUri } from "../../../client/sdk/paymentUri.ts";
import { ApiError } from "../api/errors.ts";
import { idempotencyConflict, ListCursor, parseBody } from "../api/params.ts";
import type { Merchant } from "../merchants/merchantStore.ts";
import type { NodeEvent, NodeStore, PaymentItem, StoreReader } from "../store/store.ts";
import { MAX_BLOCK } from "../store/keys.ts";
import { RefundStore, type RefundRecord } from "./refundStore.ts";

/**
 * Refunds: a merchant asks to send back (part of) a confirmed payment it
 * received. The node checks it against the indexed payment, never allowing
 * more than the payment's amount across all its refunds, and answers with an
 * EIP-681 request for the merchant's wallet to pay (payout -> original payer,
 * same token, a fresh reference). Whether a refund is completed is not
 * stored: it is read from the indexed payments carrying its reference, so a
 * reorg that drops the refund payment reopens the refund by itself.
 */

/** What the refunds need of the invoices (node/src/invoices' InvoiceStore has this method). */
export interface InvoiceLookup {
  byReference(reference: string): Promise<{ id: string } | undefined>;
}

/** cancelled: the merchant cancelled it before any payment of it was seen (final). */
export type RefundStatus = "open" | "completed" | "cancelled";

/** On a refund payment (account histories, SSE payment events): the refund it pays. */
export interface RefundLink {
  id: string;
  /** The refunded payment. */
  of: { txHash: string; logIndex: number };
  invoiceId: string | null;
}

/** A refund as the API serves it. */
export interface RefundView {
  id: string;
  reference: string;
  /** The EIP-681 request the merchant's wallet pays. */
  uri: string;
  status: RefundStatus;
  currency: Currency;
  amount: string;
  /** Received by the payer so far through confirmed refund payments, base units. */
  paid: string;
  from: string;
  to: string;
  payment: { txHash: string; logIndex: number };
  invoiceId: string | null;
  reason: string | null;
  createdAt: string;
  cancelledAt: string | null;
  /** The confirmed and pending payments that carry this refund's reference from the payout to the payer. */
  payments: { txHash: string; logIndex: number; amount: string; status: PaymentItem["status"] }[];
}

export interface RefundDeps {
  store: NodeStore;
  chainId: number;
  tokens: Record<Currency, string>;
  /** The block of a mined transaction (undefined when the chain does not know it). */
  blockOfTx: (txHash: string) => Promise<number | undefined>;
  invoices: InvoiceLookup;
}

const newRefundSchema = z.strictObject({
  payment: z.string().regex(/^0x[0-9a-fA-F]{64}:(0|[1-9]\d{0,7})$/, 'must be "<txHash>:<logIndex>" (0x and 64 hex digits, a colon, a log index)'),
  amount: z.string().regex(/^[1-9]\d{0,77}$/, "must be a whole number of base units greater than zero, as a decimal string"),
  reason: z
    .string()
    .max(500, "must be at most 500 characters")
    .refine((s) => !/\p{Cc}/u.test(s), "must not contain control characters")
    .optional(),
});

export type NewRefund = z.infer<typeof newRefundSchema>;

/** The body of POST /v1/refunds, or 400 with the field at fault. */
export function parseNewRefund(body: unknown): NewRefund {
  return parseBody(newRefundSchema, body, "{payment, amount, reason?}", "payment, amount, reason");
}

/** The refunds list: "<created ms:15>!<refund id>" of the last refund served. */
export const refundCursor = new ListCursor("r1", /^\d{15}!rfd_[0-9a-f]{16}$/);

/** The refund's payments and status, from the payments indexed under its reference. */
async function settlement(r: StoreReader, refund: RefundRecord): Promise<Pick<RefundView, "status" | "paid" | "payments">> {
  // References are random: only the refund's own payments (and anyone's deliberate copies) carry one; 100 is plenty.
  const page = await r.paymentsByReference(refund.reference, { limit: 100 });
  const mine = page.items.filter((p) => p.kind === "payment" && p.from === refund.from && p.to === refund.to && p.currency === refund.currency);
  const paid = mine.filter((p) => p.status === "confirmed").reduce((sum, p) => sum + BigInt(p.amount), 0n);
  return {
    status: refund.cancelledAt !== undefined ? "cancelled" : paid >= BigInt(refund.amount) ? "completed" : "open",
    paid: paid.toString(),
    payments: mine.map((p) => ({ txHash: p.txHash, logIndex: p.logIndex, amount: p.amount, status: p.status })),
  };
}

export class RefundService {
  readonly #deps: RefundDeps;
  readonly refunds: RefundStore;
  /** Creations and cancellations run one at a time: the over-refund check and the writes must not interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: RefundDeps) {
    this.#deps = deps;
    this.refunds = new RefundStore(deps.store.merchantSublevel());
  }

  async #invoiceId(reference: string | null): Promise<string | null> {
    if (reference === null) return null;
    return (await this.#deps.invoices.byReference(reference))?.id ?? null;
  }

  async view(r: StoreReader, refund: RefundRecord): Promise<RefundView> {
    const s = await settlement(r, refund);
    return {
      id: refund.id,
      reference: refund.reference,
      uri: formatPaymentUri({ chainId: this.#deps.chainId, token: this.#deps.tokens[refund.currency], to: refund.to, amount: BigInt(refund.amount), reference: refund.reference }),
      status: s.status,
      currency: refund.currency,
      amount: refund.amount,
      paid: s.paid,
      from: refund.from,
      to: refund.to,
      payment: { txHash: refund.payment.txHash, logIndex: refund.payment.logIndex },
      invoiceId: await this.#invoiceId(refund.payment.reference),
      reason: refund.reason,
      createdAt: refund.createdAt,
      cancelledAt: refund.cancelledAt ?? null,
      payments: s.payments,
    };
  }

  /** One of `merchant`'s refunds; 404 refund_not_found for another merchant's (it learns nothing about them). */
  async get(merchant: Merchant, id: string): Promise<RefundView> {
    const refund = await this.refunds.get(id);
    if (refund?.merchantId !== merchant.id) throw new ApiError(404, "refund_not_found", `no refund ${id}`);
    return this.#deps.store.read((r) => this.view(r, refund));
  }

  async list(merchant: Merchant, opts: { limit: number; before?: string | undefined }): Promise<{ items: RefundView[]; next: string | null }> {
    const page = await this.refunds.list(merchant.id, { limit: opts.limit, ...(opts.before === undefined ? {} : { before: opts.before }) });
    const items = await this.#deps.store.read((r) => Promise.all(page.items.map((x) => this.view(r, x))));
    return { items, next: page.next };
  }

  /**
   * Creates a refund of `input.payment` for `merchant`. The same idempotency
   * key with the same body answers the first refund again (created: false);
   * with another body, 409 idempotency_conflict.
   */
  create(merchant: Merchant, input: NewRefund, idempotencyKey: string): Promise<{ refund: RefundView; created: boolean }> {
    return this.#serially(() => this.#create(merchant, input, idempotencyKey));
  }

  /**
   * Cancels one of `merchant`'s refunds: 404 refund_not_found for another
   * merchant's, 409 refund_already_paid once any payment of it (pending
   * included) is seen. Cancelling a cancelled refund answers it again.
   */
  cancel(merchant: Merchant, id: string): Promise<RefundView> {
    return this.#serially(async () => {
      const refund = await this.refunds.get(id);
      if (refund?.merchantId !== merchant.id) throw new ApiError(404, "refund_not_found", `no refund ${id}`);
      if (refund.cancelledAt !== undefined) return this.#deps.store.read((r) => this.view(r, refund));
      const s = await this.#deps.store.read((r) => settlement(r, refund));
      if (s.payments.length > 0) {
        throw new ApiError(409, "refund_already_paid", `refund ${id} has ${s.payments.length.toString()} payment(s) on the chain (${s.paid} of ${refund.amount} base units confirmed): it can no longer be cancelled`);
      }
      const cancelled: RefundRecord = { ...refund, cancelledAt: new Date().toISOString() };
      await this.refunds.update(cancelled);
      return this.#deps.store.read((r) => this.view(r, cancelled));
    });
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #create(merchant: Merchant, input: NewRefund, idempotencyKey: string): Promise<{ refund: RefundView; created: boolean }> {
    const keyHash = createHash("sha256").update(idempotencyKey, "utf8").digest("hex");
    const request = JSON.stringify({ payment: input.payment.toLowerCase(), amount: input.amount, reason: input.reason ?? null });
    const earlier = await this.refunds.idempotent(merchant.id, keyHash);
    if (earlier) {
      if (earlier.request !== request) throw idempotencyConflict("refund", earlier.id);
      const refund = await this.refunds.get(earlier.id);
      if (!refund) throw new Error(`refund ${earlier.id} of an idempotency key is missing`);
      return { refund: await this.#deps.store.read((r) => this.view(r, refund)), created: false };
    }

    const [txHashText, logIndexText] = input.payment.split(":") as [string, string];
    const txHash = txHashText.toLowerCase();
    const logIndex = Number(logIndexText);
    const notFound = new ApiError(404, "payment_not_found", `no payment ${input.payment} to this merchant's payout ${merchant.payout} is indexed`);
    const block = await this.#deps.blockOfTx(txHash);
    if (block === undefined || block > MAX_BLOCK) throw notFound;
    const payout = merchant.payout.toLowerCase();
    const original = await this.#deps.store.read(async (r) => {
      // The payout's history entry at exactly (block, logIndex): the page just before (block, logIndex + 1).
      const page = await r.payments(payout, { limit: 1, before: { blockNumber: block, logIndex: logIndex + 1 } });
      const p = page.items[0];
      return p?.txHash.toLowerCase() === txHash && p.logIndex === logIndex ? p : undefined;
    });
    if (original?.to !== merchant.payout || original.kind === "fee") throw notFound;
    if (original.status !== "confirmed") throw new ApiError(409, "payment_not_confirmed", `payment ${input.payment} is not confirmed yet: refund it once it is`);

    const amount = BigInt(input.amount);
    const earlierRefunds = await this.refunds.ofPayment(txHash, logIndex);
    // A cancelled refund no longer counts, except what was paid to it anyway (its old request paid after the cancel).
    const refunded = await this.#deps.store.read(async (r) => {
      let sum = 0n;
      for (const x of earlierRefunds) sum += x.cancelledAt === undefined ? BigInt(x.amount) : BigInt((await settlement(r, x)).paid);
      return sum;
    });
    if (refunded + amount > BigInt(original.amount)) {
      throw new ApiError(409, "refund_exceeds_payment", `the payment was ${original.amount} base units and ${refunded.toString()} are already refunded or being refunded: at most ${(BigInt(original.amount) - refunded).toString()} more can be refunded`);
    }

    const refund: RefundRecord = {
      id: `rfd_${randomBytes(8).toString("hex")}`,
      merchantId: merchant.id,
      reference: hexlify(randomBytes(32)),
      payment: { txHash: original.txHash, logIndex, blockNumber: original.blockNumber, reference: original.reference, amount: original.amount },
      currency: original.currency,
      amount: amount.toString(),
      from: merchant.payout,
      to: getAddress(original.from),
      reason: input.reason ?? null,
      createdAt: new Date().toISOString(),
    };
    await this.refunds.add(refund, { keyHash, request });
    return { refund: await this.#deps.store.read((r) => this.view(r, refund)), created: true };
  }

  /**
   * The refund each payment pays, if it is one: a payment carrying a
   * refund's reference from the refund's payout to its payer, in its
   * currency (anyone can copy a reference). What it links never changes.
   */
  async refundLinks(items: readonly PaymentItem[]): Promise<(RefundLink | undefined)[]> {
    const withRef = items.filter((p) => p.kind === "payment" && p.reference !== null);
    const ids = await this.refunds.idsByReference(withRef.map((p) => p.reference ?? ""));
    const refundIdOf = new Map(withRef.map((p, i) => [p, ids[i]]));
    const found = ids.filter((x): x is string => x !== undefined);
    const byId = new Map((found.length === 0 ? [] : await this.refunds.getMany([...new Set(found)])).map((x) => [x.id, x]));
    return Promise.all(
      items.map(async (p) => {
        const id = refundIdOf.get(p);
        const refund = id === undefined ? undefined : byId.get(id);
        if (!refund || p.from !== refund.from || p.to !== refund.to || p.currency !== refund.currency) return undefined;
        return { id: refund.id, of: { txHash: refund.payment.txHash, logIndex: refund.payment.logIndex }, invoiceId: await this.#invoiceId(refund.payment.reference) };
      }),
    );
  }

  /**
   * Joins refunds into a page of account payments (read time, off the
   * indexer's path): a refund payment gets `refund`, a refunded payment its `refunds`.
   */
  async annotate<T extends PaymentItem>(r: StoreReader, items: readonly T[]): Promise<(T & { refund?: RefundLink; refunds?: { id: string; amount: string; status: RefundStatus }[] })[]> {
    const links = await this.refundLinks(items);
    return Promise.all(
      items.map(async (p, i) => {
        const out: T & { refund?: RefundLink; refunds?: { id: string; amount: string; status: RefundStatus }[] } = { ...p };
        const link = links[i];
        if (link) out.refund = link;
        if (p.kind !== "fee") {
          const refunds = await this.refunds.ofPayment(p.txHash, p.logIndex);
          if (refunds.length > 0) out.refunds = await Promise.all(refunds.map(async (x) => ({ id: x.id, amount: x.amount, status: (await settlement(r, x)).status })));
        }
        return out;
      }),
    );
  }

  /**
   * Adds the refund link to the payment of each event that pays a refund
   * (SseHubOptions.decorate): the payer's account stream shows which refund
   * its incoming payment is, as its history does.
   */
  async linkEvents(events: NodeEvent[]): Promise<NodeEvent[]> {
    const paying = events.filter((e): e is NodeEvent & { payment: PaymentItem } => e.payment !== undefined && e.payment.reference !== null && e.payment.kind === "payment");
    if (paying.length === 0) return events;
    const links = await this.refundLinks(paying.map((e) => e.payment));
    const linkOf = new Map(paying.map((e, i) => [e, links[i]]));
    return events.map((e) => {
      const link = linkOf.get(e as NodeEvent & { payment: PaymentItem });
      return link && e.payment ? { ...e, payment: { ...e.payment, refund: link } } : e;
    });
  }
}
