/**
 * What notifications read: the indexer's events outbox (sublevel `evt`,
 * written in the same atomic batch as the state change that caused each
 * event).
 */
import type { NodeEvent } from "../store/store.ts";

export type { NodeEvent, NodeEventType } from "../store/store.ts";

/** Reads the outbox in seq order. NodeStore implements it. */
export interface EventSource {
  /** Events with seq > `seq`, ascending, at most `limit`. */
  eventsAfter(seq: number, limit: number): Promise<NodeEvent[]>;
  /** The highest seq written, 0 when none. */
  lastEventSeq(): Promise<number>;
}

/** The merchant fields notifications need. */
export interface MerchantRef {
  id: string;
  /** Checksummed payout address. */
  payout: string;
}

/** Finds merchants (the api helper's MerchantStore provides `list`). */
export interface MerchantLookup {
  list(): Promise<MerchantRef[]>;
}

/** True when `account` (any case) is one of the event's accounts. */
export function concernsAccount(event: NodeEvent, account: string): boolean {
  const a = account.toLowerCase();
  return event.accounts.includes(a);
}

/**
 * True when the event is the merchant's own (an invoice event carries its
 * merchantId) or its payout is the payee of the event's payment.
 */
export function concernsMerchant(event: NodeEvent, merchant: MerchantRef): boolean {
  if (event.merchantId !== undefined) return event.merchantId === merchant.id;
  return event.payment !== undefined && event.payment.to.toLowerCase() === merchant.payout.toLowerCase();
}
