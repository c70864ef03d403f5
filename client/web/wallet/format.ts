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

/** A bytes32 reference in full, in groups of eight hex digits (0x1a2b3c4d 5e6f…), so a person can compare it. */
export function groupedReference(h: string): string {
  const hex = h.startsWith("0x") ? h.slice(2) : h;
  return `0x${(hex.match(/.{1,8}/g) ?? []).join(" ")}`;
}

/** A date and time for people, in the page's language. */
export function dateTime(ms: number, lang: "en" | "zh"): string {
  return new Date(ms).toLocaleString(lang === "zh" ? "zh-CN" : "en", { dateStyle: "medium", timeStyle: "short" });
}
