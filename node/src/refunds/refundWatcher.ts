import { NO_TX, StatusWatcher, type StatusKind, type StatusWatcherBaseOptions } from "../notify/statusWatcher.ts";
import type { RefundRecord } from "./refundStore.ts";
import type { RefundService } from "./refunds.ts";

/** What was last pushed for a refund (absent: nothing yet; its first state is pushed). */
interface Pushed {
  status: string;
  paid: string;
}

export interface RefundWatcherOptions extends StatusWatcherBaseOptions {
  refunds: RefundService;
}

/**
 * Refunds as a StatusWatcher kind. A creation or a cancellation (the `e!`
 * entry RefundStore writes with it) or a payment carrying a refund's
 * reference makes the watcher read the refund again; a change of status or
 * of the amount paid is pushed as `refund.<status>` (open, completed,
 * cancelled) with the refund as GET /v1/refunds/{id} shows it:
 * refund.open when created, again when a partial payment is confirmed or a
 * reorg takes a payment back; refund.completed once confirmed payments reach
 * its amount; refund.cancelled when the merchant cancels it (and again if
 * its old request is paid anyway).
 */
export function refundStatusKind(service: RefundService): StatusKind<RefundRecord> {
  const refunds = service.refunds;
  return {
    name: "refunds",
    root: refunds.root,
    store: refunds,
    byReference: (reference) => refunds.byReference(reference),
    byId: (id) => refunds.get(id),
    hasRecords: () => refunds.hasAny(),
    initial: undefined,
    async observe(reader, refund, { prev }) {
      const view = await service.view(reader, refund);
      // Newest first: the event's transaction is the newest confirmed payment of the refund.
      const confirmed = view.payments.filter((p) => p.status === "confirmed");
      const state = JSON.stringify({ status: view.status, paid: view.paid } satisfies Pushed);
      return {
        state,
        event: {
          type: `refund.${view.status}`,
          txHash: confirmed[0]?.txHash ?? NO_TX,
          logIndex: confirmed[0]?.logIndex ?? 0,
          accounts: [],
          merchantId: refund.merchantId,
          refund: view,
        },
        // The same change (from the same state, the same payments) is the same fact; the
        // state it came from tells a refund reopened by a reorg from the one just created.
        fact: `${refund.id}:${view.paid}:${confirmed.map((p) => `${p.txHash}:${p.logIndex.toString()}`).join(",")}:from:${prev ?? "none"}`,
      };
    },
  };
}

/** Pushes refund status changes (`refund.<status>` events): see StatusWatcher and refundStatusKind. */
export class RefundWatcher extends StatusWatcher<RefundRecord> {
  constructor(opts: RefundWatcherOptions) {
    super({ ...opts, kind: refundStatusKind(opts.refunds) });
  }
}
