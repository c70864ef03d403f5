import { randomUUID } from "node:crypto";
import QRCode from "qrcode";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import { createInvoice, getInvoice, INVOICE_STATES, listInvoices, type InvoiceState, type InvoiceView } from "../../sdk/invoiceClient.ts";
import { usageError } from "../argv.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseCurrencyArg } from "../validate.ts";
import { merchantKey } from "./merchantKey.ts";

/** --expires-in: whole seconds, 1 to 30 days. */
export function parseExpiresIn(input: string): number {
  const n = /^\d{1,7}$/.test(input) ? Number(input) : NaN;
  if (!(n >= 1 && n <= 2_592_000)) throw usageError("usage.invalidExpiresIn", { value: input });
  return n;
}

export function parseStatusArg(input: string): InvoiceState {
  if (!(INVOICE_STATES as readonly string[]).includes(input)) throw usageError("usage.invalidStatus", { value: input, statuses: INVOICE_STATES.join(", ") });
  return input as InvoiceState;
}

function summary(ctx: CliContext, i: InvoiceView): string {
  return ctx.t("invoice.summary", {
    id: i.id,
    amount: formatAmount(BigInt(i.amount)),
    currency: i.currency,
    status: ctx.t(`invoice.status.${i.status}`),
    received: formatAmount(BigInt(i.amountReceived)),
    refundable: formatAmount(BigInt(i.refundable)),
    expiresAt: i.expiresAt,
    description: i.description,
  });
}

/** `oriole invoice create --amount A --currency C --description D [--expires-in S] [--order-id O]`: prints the URI and its QR code. */
export async function invoiceCreate(
  ctx: CliContext,
  args: { amount: string; currency: string; description: string; expiresIn: string | undefined; orderId: string | undefined; keyFile: string | undefined },
): Promise<CommandResult> {
  const amount = parseAmount(args.amount);
  const currency = parseCurrencyArg(args.currency);
  const expiresInSec = args.expiresIn === undefined ? undefined : parseExpiresIn(args.expiresIn);
  const key = await merchantKey(ctx, args.keyFile);
  // One key per command run: a retry inside requestJson cannot create a second invoice.
  const invoice = await createInvoice(ctx.apiUrl, key, { amount, currency, description: args.description, ...(expiresInSec === undefined ? {} : { expiresInSec }), ...(args.orderId === undefined ? {} : { orderId: args.orderId }) }, randomUUID());
  const qr = await QRCode.toString(invoice.uri, { type: "utf8", errorCorrectionLevel: "M", margin: 2 });
  return { json: invoice, text: `${summary(ctx, invoice)}\n${ctx.t("invoice.uri", { uri: invoice.uri })}\n\n${qr}` };
}

export async function invoiceShow(ctx: CliContext, args: { id: string; keyFile: string | undefined }): Promise<CommandResult> {
  const invoice = await getInvoice(ctx.apiUrl, await merchantKey(ctx, args.keyFile), args.id);
  return { json: invoice, text: `${summary(ctx, invoice)}\n${ctx.t("invoice.uri", { uri: invoice.uri })}` };
}

export async function invoiceList(ctx: CliContext, args: { status: string | undefined; limit: number | undefined; cursor: string | undefined; keyFile: string | undefined }): Promise<CommandResult> {
  const status = args.status === undefined ? undefined : parseStatusArg(args.status);
  const page = await listInvoices(ctx.apiUrl, await merchantKey(ctx, args.keyFile), { ...(status === undefined ? {} : { status }), ...(args.limit === undefined ? {} : { limit: args.limit }), ...(args.cursor === undefined ? {} : { cursor: args.cursor }) });
  const lines = page.items.length === 0 ? [ctx.t("invoice.listEmpty")] : page.items.map((i) => summary(ctx, i));
  if (page.nextCursor !== null) lines.push(ctx.t("invoice.more", { cursor: page.nextCursor }));
  return { json: page, text: lines.join("\n") };
}
