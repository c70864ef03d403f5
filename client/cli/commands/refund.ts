import { randomUUID } from "node:crypto";
import { z } from "zod";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import { requestJson } from "../../sdk/apiClient.ts";
import { OrioleError } from "../../sdk/errors.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { merchantKey } from "./merchantKey.ts";

const refundSchema = z.object({
  id: z.string(),
  reference: z.string(),
  uri: z.string(),
  status: z.enum(["open", "completed", "cancelled"]),
  currency: z.string(),
  amount: z.string(),
  paid: z.string(),
  from: z.string(),
  to: z.string(),
  payment: z.object({ txHash: z.string(), logIndex: z.number() }),
  invoiceId: z.string().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
  cancelledAt: z.string().nullable().optional(),
});
type Refund = z.infer<typeof refundSchema>;

function shown(ctx: CliContext, r: Refund): string {
  return ctx.t("refund.shown", { id: r.id, amount: formatAmount(BigInt(r.amount)), currency: r.currency, to: r.to, status: r.status, paid: formatAmount(BigInt(r.paid)), payment: `${r.payment.txHash}:${r.payment.logIndex.toString()}`, uri: r.uri });
}

/**
 * `oriole refund create --payment TX:LOG --amount A [--reason R] [--pay]`: asks the node for a refund
 * (merchant key); with --pay the wallet (the merchant's payout) pays its request at once through `pay`.
 */
export async function refundCreate(ctx: CliContext, args: { payment: string; amount: string; reason?: string | undefined; pay: boolean; idempotencyKey?: string | undefined; keyFile?: string | undefined }): Promise<CommandResult> {
  if (!/^0x[0-9a-fA-F]{64}:\d{1,8}$/.test(args.payment.trim())) {
    throw new OrioleError("invalid_payment", `"${args.payment.slice(0, 80)}" is not a payment: use <txHash>:<logIndex> (see oriole history)`, { payment: args.payment.slice(0, 80) });
  }
  const amount = parseAmount(args.amount);
  const key = await merchantKey(ctx, args.keyFile);
  const refund = await requestJson(ctx.apiUrl, "/v1/refunds", refundSchema, {
    method: "POST",
    bearer: key,
    // A retry of this command with the same --idempotency-key never refunds twice.
    headers: { "idempotency-key": args.idempotencyKey ?? randomUUID() },
    body: { payment: args.payment.trim(), amount: amount.toString(), ...(args.reason === undefined ? {} : { reason: args.reason }) },
  });
  if (!args.pay) return { json: { refund }, text: shown(ctx, refund) };
  const { pay } = await import("./pay.ts");
  const paid = await pay(ctx, { target: refund.uri });
  return { json: { refund, payment: paid.json }, text: `${shown(ctx, refund)}\n${paid.text}` };
}

function refundId(id: string): string {
  if (!/^rfd_[0-9a-f]{16}$/.test(id)) throw new OrioleError("invalid_refund_id", `"${id.slice(0, 40)}" is not a refund id (rfd_ and 16 hex digits)`, { id: id.slice(0, 40) });
  return id;
}

/** `oriole refund show <id>`: one refund, its status read from the chain by the node. */
export async function refundShow(ctx: CliContext, args: { id: string; keyFile?: string | undefined }): Promise<CommandResult> {
  const id = refundId(args.id);
  const refund = await requestJson(ctx.apiUrl, `/v1/refunds/${id}`, refundSchema, { bearer: await merchantKey(ctx, args.keyFile) });
  return { json: { refund }, text: shown(ctx, refund) };
}

/** `oriole refund cancel <id>`: cancels a refund nothing was paid to yet (again: the same answer). */
export async function refundCancel(ctx: CliContext, args: { id: string; keyFile?: string | undefined }): Promise<CommandResult> {
  const id = refundId(args.id);
  const refund = await requestJson(ctx.apiUrl, `/v1/refunds/${id}/cancel`, refundSchema, { method: "POST", bearer: await merchantKey(ctx, args.keyFile) });
  return { json: { refund }, text: shown(ctx, refund) };
}
