import { ZeroAddress } from "ethers";
import { CURRENCIES, isCurrency, type Currency } from "../../../client/sdk/currencies.ts";
import { ApiError } from "../api/errors.ts";
import type { Merchant } from "../merchants/merchantStore.ts";
import type { RefundStore } from "../refunds/refundStore.ts";
import type { NodeStore, PaymentItem } from "../store/store.ts";

/**
 * A merchant's daily settlement report, derived from the indexed history of
 * its payout account (confirmed entries only, so it is exact and follows
 * reorgs): for one UTC day,
 *
 *   gross   = what payers paid for payments to the payout (received + merchant fee)
 *   fees    = the token's merchant fees on them (the Payment event's `fee`)
 *   refunds = what left the payout in refund payments (payments carrying a refund's reference to its payer)
 *   net     = gross - fees - refunds
 *
 * Plain transfers to the payout count as payments without a fee; mints and
 * the payout's other outgoing transfers are not settlement.
 */

export interface ReportLine {
  type: "payment" | "refund";
  txHash: string;
  logIndex: number;
  blockNumber: number;
  /** ISO 8601, UTC. */
  time: string;
  currency: Currency;
  /** The payer of a payment; the refunded payer of a refund. */
  counterparty: string;
  /** Base units, decimal. A refund line has gross and fee "0", refund its outflow, net its negation. */
  gross: string;
  fee: string;
  refund: string;
  net: string;
  reference: string | null;
  refundId: string | null;
}

export interface ReportTotals {
  currency: Currency;
  gross: string;
  fees: string;
  refunds: string;
  net: string;
  payments: number;
  refundPayments: number;
}

export interface DailyReport {
  merchantId: string;
  payout: string;
  date: string;
  from: string;
  to: string;
  /** The last block the node had indexed when the report was made (a day not over yet is not final). */
  indexedBlock: number;
  totals: ReportTotals[];
  items: ReportLine[];
}

const DAY_SECONDS = 86_400;
const PAGE = 100;

/** A YYYY-MM-DD calendar date; returns the UTC day's first second. */
export function parseReportDate(value: unknown): number {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new ApiError(400, "invalid_date", "date is required: a UTC day as YYYY-MM-DD");
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) throw new ApiError(400, "invalid_date", `"${value}" is not a calendar date`);
  return ms / 1000;
}

export function parseReportCurrency(value: unknown): Currency | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !isCurrency(value)) throw new ApiError(400, "invalid_currency", `currency must be one of ${CURRENCIES.join(", ")}`);
  return value;
}

export function parseReportFormat(value: unknown): "json" | "csv" {
  if (value === undefined || value === "json") return "json";
  if (value === "csv") return "csv";
  throw new ApiError(400, "invalid_format", "format must be json or csv");
}

/** The report of the UTC day starting at `dayStart` (unix seconds) for `merchant`, optionally one currency only. */
export async function dailyReport(deps: { store: NodeStore; refunds: RefundStore }, merchant: Merchant, dayStart: number, currency?: Currency): Promise<DailyReport> {
  const dayEnd = dayStart + DAY_SECONDS;
  const payout = merchant.payout;
  const { entries, indexedBlock } = await deps.store.read(async (r) => {
    const inDay: PaymentItem[] = [];
    let before: { blockNumber: number; logIndex: number } | undefined;
    // Newest first: skip what is after the day, stop at the first entry before it.
    for (;;) {
      const page = await r.payments(payout.toLowerCase(), { limit: PAGE, before });
      let done = page.next === null;
      for (const p of page.items) {
        if (p.timestamp >= dayEnd) continue;
        if (p.timestamp < dayStart) {
          done = true;
          break;
        }
        inDay.push(p);
      }
      if (done || page.next === null) break;
      before = page.next;
    }
    return { entries: inDay.reverse(), indexedBlock: (await r.cursor())?.blockNumber ?? 0 };
  });

  const outgoing = entries.filter((p) => p.from === payout && p.kind === "payment" && p.reference !== null);
  const refundIds = await deps.refunds.idsByReference(outgoing.map((p) => p.reference ?? ""));
  const refundRecords = new Map((await deps.refunds.getMany([...new Set(refundIds.filter((x): x is string => x !== undefined))])).map((x) => [x.id, x]));
  const refundOf = new Map(outgoing.map((p, i) => [p, refundRecords.get(refundIds[i] ?? "")]));

  const items: ReportLine[] = [];
  for (const p of entries) {
    if (p.status !== "confirmed" || (currency !== undefined && p.currency !== currency)) continue;
    const base = { txHash: p.txHash, logIndex: p.logIndex, blockNumber: p.blockNumber, time: new Date(p.timestamp * 1000).toISOString(), currency: p.currency, reference: p.reference };
    if (p.to === payout && p.from !== ZeroAddress && (p.kind === "payment" || p.kind === "transfer")) {
      const fee = BigInt(p.fee);
      const gross = BigInt(p.amount) + fee;
      items.push({ type: "payment", ...base, counterparty: p.from, gross: gross.toString(), fee: fee.toString(), refund: "0", net: p.amount, refundId: null });
      continue;
    }
    const refund = refundOf.get(p);
    // A refund payment is the payout paying the refund's payer with its reference, for this merchant's refund.
    if (refund?.merchantId === merchant.id && p.to === refund.to && p.currency === refund.currency) {
      const out = BigInt(p.amount) + BigInt(p.fee);
      items.push({ type: "refund", ...base, counterparty: p.to, gross: "0", fee: "0", refund: out.toString(), net: (-out).toString(), refundId: refund.id });
    }
  }

  const totals: ReportTotals[] = [];
  for (const c of currency === undefined ? CURRENCIES : [currency]) {
    const lines = items.filter((l) => l.currency === c);
    if (currency === undefined && lines.length === 0) continue;
    const sum = (f: (l: ReportLine) => string): bigint => lines.reduce((s, l) => s + BigInt(f(l)), 0n);
    const gross = sum((l) => l.gross);
    const fees = sum((l) => l.fee);
    const refunds = sum((l) => l.refund);
    totals.push({
      currency: c,
      gross: gross.toString(),
      fees: fees.toString(),
      refunds: refunds.toString(),
      net: (gross - fees - refunds).toString(),
      payments: lines.filter((l) => l.type === "payment").length,
      refundPayments: lines.filter((l) => l.type === "refund").length,
    });
  }
  return {
    merchantId: merchant.id,
    payout,
    date: new Date(dayStart * 1000).toISOString().slice(0, 10),
    from: new Date(dayStart * 1000).toISOString(),
    to: new Date(dayEnd * 1000).toISOString(),
    indexedBlock,
    totals,
    items,
  };
}

const CSV_COLUMNS = ["type", "date", "time", "currency", "txHash", "logIndex", "counterparty", "gross", "fee", "refund", "net", "reference", "refundId"] as const;

/**
 * The report as CSV: a header row, one row per line item, then one `total`
 * row per currency (its gross, fee, refund and net columns are the sums of
 * the lines above). Amounts are decimal base units; no field needs quoting.
 */
export function reportCsv(report: DailyReport): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const l of report.items) {
    rows.push([l.type, report.date, l.time, l.currency, l.txHash, l.logIndex.toString(), l.counterparty, l.gross, l.fee, l.refund, l.net, l.reference ?? "", l.refundId ?? ""]);
  }
  for (const t of report.totals) {
    rows.push(["total", report.date, "", t.currency, "", "", "", t.gross, t.fees, t.refunds, t.net, "", ""]);
  }
  return `${rows.map((r) => r.join(",")).join("\r\n")}\r\n`;
}
