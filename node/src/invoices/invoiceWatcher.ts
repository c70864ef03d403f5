import type { PaymentItem, StoreReader } from "../store/store.ts";
import type { LogPosition } from "../store/keys.ts";
import { NO_TX, StatusWatcher, type StatusKind, type StatusWatcherBaseOptions } from "../notify/statusWatcher.ts";
import { invoiceStatus, type Invoice, type InvoiceStore } from "./invoiceStore.ts";

/** What was last pushed for an invoice (absent: nothing yet, i.e. open with nothing received). */
interface Pushed {
  status: string;
  amountReceived: string;
}

export interface InvoiceWatcherOptions extends StatusWatcherBaseOptions {
  invoices: InvoiceStore;
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
 * Invoices as a StatusWatcher kind: a payment carrying an invoice's
 * reference, or its expiry (the `e!` entry InvoiceStore.create writes),
 * makes the watcher recompute its status; a change of status or of the
 * amount received is pushed as `invoice.<status>` with the whole invoice.
 */
export function invoiceStatusKind(invoices: InvoiceStore): StatusKind<Invoice> {
  return {
    name: "invoices",
    root: invoices.root,
    store: invoices,
    byReference: (reference) => invoices.byReference(reference),
    byId: (id) => invoices.byId(id),
    hasRecords: () => invoices.hasAny(),
    initial: JSON.stringify({ status: "open", amountReceived: "0" } satisfies Pushed),
    async observe(reader, invoice, { now }) {
      const status = invoiceStatus(invoice, await allPaymentsByReference(reader, invoice.reference), now);
      const lastPayment = status.payments.at(-1);
      return {
        state: JSON.stringify({ status: status.status, amountReceived: status.amountReceived } satisfies Pushed),
        event: {
          type: `invoice.${status.status}`,
          txHash: lastPayment?.txHash ?? NO_TX,
          logIndex: lastPayment?.logIndex ?? 0,
          accounts: [],
          merchantId: invoice.merchantId,
          invoice: { ...invoice, ...status },
        },
        // The same status from the same payments is the same fact.
        fact: `${invoice.id}:${status.amountReceived}:${status.payments.map((p) => `${p.txHash}:${p.logIndex.toString()}:${p.blockNumber.toString()}`).join(",")}`,
      };
    },
  };
}

/** Pushes invoice status changes (`invoice.<status>` events): see StatusWatcher and invoiceStatusKind. */
export class InvoiceWatcher extends StatusWatcher<Invoice> {
  constructor(opts: InvoiceWatcherOptions) {
    super({ ...opts, kind: invoiceStatusKind(opts.invoices) });
  }
}
