/**
 * Key layout of the node's LevelDB. Fixed-width decimal numbers make the
 * lexicographic order of keys equal their numeric order, so one reverse
 * iteration over an account's prefix yields its payments newest first.
 *
 *   meta      identity | cursor                         -> JSON
 *   balances  <account>!<currency>                      -> decimal string (base units)
 *   supply    <currency>                                -> decimal string (base units)
 *   payments  <account>!<block:12>!<logIndex:8>         -> payment row (paymentCodec.ts)
 *   ref       <reference>!<block:12>!<logIndex:8>       -> payment row (kind "payment" only)
 *
 * Accounts and references are lowercase 0x-prefixed hex.
 */
export const BLOCK_WIDTH = 12;
export const LOG_INDEX_WIDTH = 8;

/** A place in the log order: (blockNumber, logIndex). */
export interface LogPosition {
  blockNumber: number;
  logIndex: number;
}

export const MAX_BLOCK = 10 ** BLOCK_WIDTH - 1;
export const MAX_LOG_INDEX = 10 ** LOG_INDEX_WIDTH - 1;

export function positionKey(p: LogPosition): string {
  return `${String(p.blockNumber).padStart(BLOCK_WIDTH, "0")}!${String(p.logIndex).padStart(LOG_INDEX_WIDTH, "0")}`;
}

export function paymentKey(account: string, p: LogPosition): string {
  return paymentKeyAt(account, positionKey(p));
}

/** paymentKey with the position key already made (see positionKey). */
export function paymentKeyAt(account: string, position: string): string {
  return `${account}!${position}`;
}

/** Bounds that select every payment of `account` ("~" sorts after every digit). */
export function paymentRange(account: string): { gt: string; lt: string } {
  return { gt: `${account}!`, lt: `${account}!~` };
}

export function balanceKey(account: string, currency: string): string {
  return `${account}!${currency}`;
}
