import type { Currency } from "../../../client/sdk/currencies.ts";
import type { Payment, PaymentKind } from "./store.ts";

/**
 * How a payment is stored (history entries, references, outbox events): a
 * JSON array of its fields in Payment's order. A backfill writes each
 * payment three times, and without the field names an entry is about 30%
 * smaller, which is what LevelDB's writes and compactions cost.
 */
type PaymentRow = [string, number, number, number, string, string, Currency, string, string | null, string, PaymentKind];

export function encodePayment(p: Payment): string {
  const row: PaymentRow = [p.txHash, p.logIndex, p.blockNumber, p.timestamp, p.from, p.to, p.currency, p.amount, p.reference, p.fee, p.kind];
  return JSON.stringify(row);
}

/** The Payment of an encodePayment row (parsed), with its fields in the order the API has always served them. */
export function paymentOfRow(row: unknown): Payment {
  if (!Array.isArray(row) || row.length !== 11) throw new Error(`stored payment is not a row of 11 fields: ${JSON.stringify(row)}`);
  const [txHash, logIndex, blockNumber, timestamp, from, to, currency, amount, reference, fee, kind] = row as PaymentRow;
  return { txHash, logIndex, blockNumber, timestamp, from, to, currency, amount, reference, fee, kind };
}

export function decodePayment(text: string): Payment {
  return paymentOfRow(JSON.parse(text));
}
