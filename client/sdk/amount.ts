import { DECIMALS } from "./currencies.ts";
import { OrioleError } from "./errors.ts";

const AMOUNT_RE = /^(0|[1-9]\d*)(?:\.(\d+))?$/;
const SCALE = 10n ** BigInt(DECIMALS);
/** Largest amount accepted from a user: 2^128-1 base units is far beyond any real supply. */
const MAX_BASE_UNITS = (1n << 128n) - 1n;

/**
 * Parses a decimal amount typed by a person ("12.5", "1000000") into base
 * units. Never goes through floating point. Rejects signs, exponents,
 * separators, more than 6 decimals, zero, and absurdly large values.
 */
export function parseAmount(input: string): bigint {
  const s = input.trim();
  const m = AMOUNT_RE.exec(s);
  if (!m) {
    throw new OrioleError("invalid_amount", `"${input}" is not a valid amount: use digits with an optional "." and up to ${DECIMALS} decimals`, { amount: input });
  }
  const whole = m[1] ?? "0";
  const frac = m[2] ?? "";
  if (frac.length > DECIMALS) {
    throw new OrioleError("invalid_amount", `"${input}" has more than ${DECIMALS} decimals`, { amount: input });
  }
  const units = BigInt(whole) * SCALE + BigInt(frac.padEnd(DECIMALS, "0") || "0");
  if (units === 0n) throw new OrioleError("invalid_amount", "the amount must be greater than zero", { amount: input });
  if (units > MAX_BASE_UNITS) throw new OrioleError("invalid_amount", `"${input}" is too large`, { amount: input });
  return units;
}

/** Formats base units as a decimal string with the trailing zeros of the fraction removed. */
export function formatAmount(units: bigint): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole.toString()}${frac ? `.${frac}` : ""}`;
}

/** Base units as they travel in JSON: a decimal string of a non-negative integer. */
export const BASE_UNITS_RE = /^(0|[1-9]\d*)$/;
