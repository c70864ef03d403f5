import { formatAmount } from "../../sdk/amount.ts";
import type { Currency } from "../../sdk/currencies.ts";

/** Base units as money for people: at least two decimals ("12.50"), never rounded (6-decimal tokens keep every digit). */
export function money(units: bigint): string {
  const s = formatAmount(units);
  const dot = s.indexOf(".");
  if (dot < 0) return `${s}.00`;
  return s.length - dot - 1 < 2 ? `${s}0` : s;
}

export function moneyWithCurrency(units: bigint, currency: Currency): string {
  return `${money(units)} ${currency}`;
}

/** A bytes32 reference for display: 0x1234…cdef. */
export function shortHash(h: string): string {
  return h.length > 18 ? `${h.slice(0, 10)}…${h.slice(-6)}` : h;
}
