/**
 * What notifications read: the indexer's events outbox (sublevel `evt`,
 * written in the same atomic batch as the state change that caused each
 * event). See /work/issue5-spec.md "Events outbox".
 */
import type { Payment } from "../store/store.ts";

export const EVENT_TYPES = [
  "payment.pending",
  "payment.confirmed",
  "payment.dropped",
  "admin.mint",
  "admin.burn",
  "admin.freeze",
  "admin.unfreeze",
  "admin.pause",
  "admin.unpause",
] as const;
export type NodeEventType = (typeof EVENT_TYPES)[number];

/** A payment as the API serves it, with its confirmation status. */
export type EventPayment = Payment & { status?: "pending" | "confirmed" };

export interface NodeEvent {
  /** Outbox position: monotonic, never reused (the SSE `id:`). */
  seq: number;
  /** `0x` + sha256 of type, chain, block hash, tx hash and log index: the same fact always has the same id. */
  id: string;
  type: NodeEventType;
  chainId: number;
  blockNumber: number;
  blockHash: string;
  txHash: string;
  logIndex: number;
  /** Lowercase addresses concerned (payer, payee). */
  accounts: string[];
  payment?: EventPayment;
}

/** Reads the outbox in seq order. NodeStore implements it once the indexer writes events. */
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

/** True when the merchant's payout is the payee of the event's payment. */
export function concernsMerchant(event: NodeEvent, payout: string): boolean {
  return event.payment !== undefined && event.payment.to.toLowerCase() === payout.toLowerCase();
}
