import { formatAmount } from "../../sdk/amount.ts";
import type { Payment } from "../../sdk/apiClient.ts";
import { readKeystore } from "../../sdk/keystore.ts";
import { walletAddressOf } from "../wallet.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseAddressArg } from "../validate.ts";

export type Direction = "in" | "out" | "self";

/** How a payment looks from `me`: direction and the other party. */
export function describePayment(p: Payment, me: string): { direction: Direction; counterparty: string } {
  if (p.from === me && p.to === me) return { direction: "self", counterparty: me };
  if (p.to === me) return { direction: "in", counterparty: p.from };
  return { direction: "out", counterparty: p.to };
}

/** A reference short enough for a line: "0x1234abcd…ef01". */
export function shortReference(ref: string): string {
  return `${ref.slice(0, 10)}…${ref.slice(-4)}`;
}

/** UTC, to the second: "2026-11-26 15:03:22Z". */
function formatTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

/** `oriole history [address] [--limit N] [--cursor C]`: payments, newest first. */
export async function history(ctx: CliContext, args: { address?: string; limit?: number; cursor?: string }): Promise<CommandResult> {
  const me = args.address !== undefined ? parseAddressArg(args.address) : await walletAddressOf(ctx, await readKeystore(ctx.keystorePath));
  const page = await (await ctx.api()).getPayments({ address: me, limit: args.limit, cursor: args.cursor });
  const rows = page.items.map((p) => ({ p, ...describePayment(p, me) }));

  const json = {
    address: me,
    items: rows.map(({ p, direction, counterparty }) => ({
      direction,
      counterparty,
      amount: formatAmount(p.amount),
      amountBaseUnits: p.amount.toString(),
      currency: p.currency,
      timestamp: p.timestamp,
      time: new Date(p.timestamp * 1000).toISOString(),
      txHash: p.txHash,
      logIndex: p.logIndex,
      blockNumber: p.blockNumber,
      kind: p.kind,
      reference: p.reference,
      fee: formatAmount(p.fee),
      feeBaseUnits: p.fee.toString(),
    })),
    nextCursor: page.nextCursor,
  };

  const lines = [ctx.t("history.header", { address: me })];
  if (rows.length === 0) lines.push(`  ${ctx.t("history.empty")}`);
  const dirWidth = Math.max(...(["in", "out", "self"] as const).map((d) => ctx.t(`history.${d}`).length));
  const amounts = rows.map(({ p, direction }) => `${direction === "in" ? "+" : direction === "out" ? "-" : " "}${formatAmount(p.amount)}`);
  const amountWidth = Math.max(0, ...amounts.map((a) => a.length));
  rows.forEach(({ p, direction, counterparty }, i) => {
    const party = direction === "in" ? ctx.t("history.from") : ctx.t("history.to");
    const extra: string[] = [];
    if (p.kind === "fee") extra.push(ctx.t("history.feeTransfer"));
    if (p.reference !== null) extra.push(ctx.t("history.ref", { ref: shortReference(p.reference) }));
    if (p.fee > 0n) extra.push(ctx.t("history.fee", { fee: `${formatAmount(p.fee)} ${p.currency}` }));
    const tail = extra.length > 0 ? `  ${extra.join("  ")}` : "";
    lines.push(`  ${formatTime(p.timestamp)}  ${ctx.t(`history.${direction}`).padEnd(dirWidth)}  ${(amounts[i] ?? "").padStart(amountWidth)} ${p.currency}  ${party} ${counterparty}${tail}`);
  });
  if (page.nextCursor !== null) lines.push(ctx.t("history.more", { address: me, cursor: page.nextCursor }));
  return { json, text: lines.join("\n") };
}
