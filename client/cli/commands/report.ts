import { z } from "zod";
import { formatAmount } from "../../sdk/amount.ts";
import { nodeBaseUrl, requestJson } from "../../sdk/apiClient.ts";
import { OrioleError } from "../../sdk/errors.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseCurrencyArg } from "../validate.ts";
import { merchantKey } from "./merchantKey.ts";

const units = z.string().regex(/^-?(0|[1-9]\d*)$/);
const reportSchema = z.object({
  date: z.string(),
  payout: z.string(),
  totals: z.array(z.object({ currency: z.string(), gross: units, fees: units, refunds: units, net: units, payments: z.number(), refundPayments: z.number() })),
  items: z.array(z.record(z.string(), z.unknown())),
});

const signedAmount = (s: string): string => (s.startsWith("-") ? `-${formatAmount(BigInt(s.slice(1)))}` : formatAmount(BigInt(s)));

/** `oriole report daily --date YYYY-MM-DD [--currency C] [--csv]`: the merchant's settlement report of a UTC day. */
export async function reportDaily(ctx: CliContext, args: { date: string; currency?: string | undefined; csv: boolean; keyFile?: string | undefined }): Promise<CommandResult> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(args.date)) throw new OrioleError("invalid_date", `"${args.date.slice(0, 20)}" is not a date: use YYYY-MM-DD (a UTC day)`, { date: args.date.slice(0, 20) });
  const currency = args.currency === undefined ? undefined : parseCurrencyArg(args.currency);
  const key = await merchantKey(ctx, args.keyFile);
  const q = `date=${args.date}${currency === undefined ? "" : `&currency=${currency}`}`;
  if (args.csv) {
    // The CSV as the node wrote it (requestJson reads JSON only); errors still come as JSON.
    const res = await fetch(`${nodeBaseUrl(ctx.apiUrl)}/v1/merchants/me/reports/daily?${q}&format=csv`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(30_000) }).catch((e: unknown) => {
      throw new OrioleError("node_unreachable", `cannot reach the Oriole node at ${ctx.apiUrl}`, { url: ctx.apiUrl }, { cause: e });
    });
    if (!res.ok) await requestJson(ctx.apiUrl, `/v1/merchants/me/reports/daily?${q}`, reportSchema, { bearer: key });
    const csv = (await res.text()).trimEnd();
    return { json: { csv }, text: csv };
  }
  const report = await requestJson(ctx.apiUrl, `/v1/merchants/me/reports/daily?${q}`, reportSchema, { bearer: key, timeoutMs: 30_000 });
  const lines = [ctx.t("report.header", { date: report.date, payout: report.payout })];
  if (report.totals.length === 0) lines.push(ctx.t("report.empty"));
  for (const t of report.totals) {
    lines.push(ctx.t("report.line", { currency: t.currency, gross: formatAmount(BigInt(t.gross)), fees: formatAmount(BigInt(t.fees)), refunds: formatAmount(BigInt(t.refunds)), net: signedAmount(t.net), payments: t.payments, refundPayments: t.refundPayments }));
  }
  return { json: report, text: lines.join("\n") };
}
