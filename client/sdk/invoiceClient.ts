import { z } from "zod";
import { BASE_UNITS_RE } from "./amount.ts";
import { CURRENCIES, type Currency } from "./currencies.ts";
import { requestJson } from "./apiClient.ts";
import { isOrioleError } from "./errors.ts";

/**
 * The node's invoice API for merchants (Authorization: Bearer <API key>):
 * create (with an idempotency key), get, list. Responses are validated.
 */

const baseUnits = z.string().regex(BASE_UNITS_RE, "not a base-unit amount");
export const INVOICE_STATES = ["open", "partially_paid", "paid", "expired"] as const;
export type InvoiceState = (typeof INVOICE_STATES)[number];

export const invoiceSchema = z.object({
  id: z.string().regex(/^inv_[0-9a-f]{16}$/),
  merchantId: z.string(),
  reference: z.string().regex(/^0x[0-9a-f]{64}$/),
  currency: z.enum(CURRENCIES),
  amount: baseUnits,
  description: z.string(),
  orderId: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  uri: z.string().startsWith("ethereum:"),
  payee: z.string(),
  status: z.enum(INVOICE_STATES),
  amountReceived: baseUnits,
  excess: baseUnits,
  late: baseUnits,
  refundable: baseUnits,
  payments: z.array(z.object({ txHash: z.string(), logIndex: z.number(), blockNumber: z.number(), timestamp: z.number(), from: z.string(), amount: baseUnits, late: z.boolean() })),
});
export type InvoiceView = z.infer<typeof invoiceSchema>;

const pageSchema = z.object({ items: z.array(invoiceSchema), nextCursor: z.string().nullable() });
export type InvoicePage = z.infer<typeof pageSchema>;

export interface NewInvoiceParams {
  /** Base units. */
  amount: bigint;
  currency: Currency;
  description: string;
  expiresInSec?: number;
  orderId?: string;
}

/** POST /v1/invoices. `idempotencyKey`: the same key retried returns the same invoice. */
export async function createInvoice(apiUrl: string, apiKey: string, params: NewInvoiceParams, idempotencyKey: string): Promise<InvoiceView> {
  const body: Record<string, unknown> = { amount: params.amount.toString(), currency: params.currency, description: params.description };
  if (params.expiresInSec !== undefined) body.expiresInSec = params.expiresInSec;
  if (params.orderId !== undefined) body.orderId = params.orderId;
  return requestJson(apiUrl, "/v1/invoices", invoiceSchema, { method: "POST", body, bearer: apiKey, headers: { "idempotency-key": idempotencyKey } });
}

export async function getInvoice(apiUrl: string, apiKey: string, id: string): Promise<InvoiceView> {
  return requestJson(apiUrl, `/v1/invoices/${encodeURIComponent(id)}`, invoiceSchema, { bearer: apiKey });
}

export async function listInvoices(apiUrl: string, apiKey: string, opts: { status?: InvoiceState; limit?: number; cursor?: string } = {}): Promise<InvoicePage> {
  const q = new URLSearchParams();
  if (opts.status !== undefined) q.set("status", opts.status);
  if (opts.limit !== undefined) q.set("limit", String(opts.limit));
  if (opts.cursor !== undefined) q.set("cursor", opts.cursor);
  return requestJson(apiUrl, `/v1/invoices${q.size > 0 ? `?${q.toString()}` : ""}`, pageSchema, { bearer: apiKey });
}

const paymentRequestSchema = z.object({
  reference: z.string().regex(/^0x[0-9a-f]{64}$/),
  merchant: z.object({ name: z.string() }),
  payee: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  currency: z.enum(CURRENCIES),
  amount: baseUnits,
  description: z.string().nullable(),
  expiresAt: z.iso.datetime({ offset: true }),
  status: z.enum(INVOICE_STATES),
});
export type PaymentRequestInfo = z.infer<typeof paymentRequestSchema>;

/**
 * GET /v1/payment-requests/{reference} (public): the invoice behind a payment
 * URI's reference, as a payer's wallet shows it. Undefined when the node has
 * no invoice with that reference (any other payment request).
 */
export async function lookupPaymentRequest(apiUrl: string, reference: string): Promise<PaymentRequestInfo | undefined> {
  try {
    return await requestJson(apiUrl, `/v1/payment-requests/${encodeURIComponent(reference)}`, paymentRequestSchema);
  } catch (e) {
    if (isOrioleError(e) && e.code === "payment_request_not_found") return undefined;
    throw e;
  }
}
