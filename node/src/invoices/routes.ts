import type express from "express";
import type { Request, Response } from "express";
import QRCode from "qrcode";
import { z } from "zod";
import { BASE_UNITS_RE } from "../../../client/sdk/amount.ts";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import { requireMerchant } from "../api/auth.ts";
import { endpoint, jsonBody, onlyQuery } from "../api/endpoint.ts";
import { ApiError } from "../api/errors.ts";
import { idempotencyConflict, invalidCursor, ListCursor, parseBody, parseId, parseIdempotencyKey, parseLimit, parseReference } from "../api/params.ts";
import type { Merchant, MerchantStore } from "../merchants/merchantStore.ts";
import type { NodeStore } from "../store/store.ts";
import { INVOICE_STATES, invoiceStatus, type Invoice, type InvoiceState, type InvoiceStatus, type InvoiceStore, type NewInvoice } from "./invoiceStore.ts";
import { allPaymentsByReference } from "./invoiceWatcher.ts";
import { ndefUriMessage } from "./ndef.ts";

export interface InvoiceRouteDeps {
  invoices: InvoiceStore;
  merchants: MerchantStore;
  store: NodeStore;
  chainId: number;
  /** Checksummed token address per currency. */
  tokens: Record<Currency, string>;
  readJson: (req: Request) => Promise<unknown>;
}

/** An invoice as the API serves it: the record and its status now. */
export type InvoiceView = Invoice & InvoiceStatus;

/**
 * What a payer's wallet may learn of an invoice from its reference alone
 * (GET /v1/payment-requests/{reference}): who asks, how much, until when, and
 * whether it is still payable. The reference is a random 32-byte secret until
 * the payment puts it on-chain; after that anyone could ask, so the
 * description is shown only while the invoice is still payable.
 */
export interface PaymentRequestView {
  reference: string;
  merchant: { name: string };
  payee: string;
  currency: Currency;
  amount: string;
  description: string | null;
  expiresAt: string;
  status: InvoiceState;
}

const MAX_BASE_UNITS = (1n << 128n) - 1n;
export const MAX_EXPIRY_SEC = 30 * 24 * 3600;
const DEFAULT_EXPIRY_SEC = 15 * 60;
const PNG_SIZES = { min: 64, max: 1024, default: 256 };
const noControl = (s: string): boolean => !/\p{Cc}/u.test(s);

const newInvoiceSchema = z.strictObject({
  amount: z.string(),
  currency: z.string(),
  description: z.string().max(200, "must be at most 200 characters").refine(noControl, "must not contain control characters"),
  expiresInSec: z.number().optional(),
  expiresAt: z.string().optional(),
  orderId: z
    .string()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .refine(noControl, "must not contain control characters")
    .optional(),
});

const FIELDS = "amount, currency, description, expiresInSec or expiresAt, orderId";

/** The body of POST /v1/invoices, validated; also its canonical form (for idempotency). */
export function parseNewInvoice(body: unknown, nowMs: number): { input: NewInvoice; canonical: string } {
  const d = parseBody(newInvoiceSchema, body, `{${FIELDS}}`, FIELDS);
  if (!BASE_UNITS_RE.test(d.amount) || d.amount.length > 40) throw new ApiError(400, "invalid_amount", "amount must be a whole number of base units as a decimal string, e.g. \"12500000\" for 12.5");
  const amount = BigInt(d.amount);
  if (amount === 0n) throw new ApiError(400, "invalid_amount", "amount must be greater than zero");
  if (amount > MAX_BASE_UNITS) throw new ApiError(400, "invalid_amount", "amount is too large");
  if (!(CURRENCIES as readonly string[]).includes(d.currency)) throw new ApiError(400, "invalid_currency", `currency must be one of ${CURRENCIES.join(", ")}`);
  let expiresAtMs: number;
  if (d.expiresInSec !== undefined && d.expiresAt !== undefined) throw new ApiError(400, "invalid_expiry", "give expiresInSec or expiresAt, not both");
  if (d.expiresAt !== undefined) {
    const iso = z.iso.datetime({ offset: true }).safeParse(d.expiresAt);
    const ms = iso.success ? Date.parse(iso.data) : NaN;
    if (Number.isNaN(ms)) throw new ApiError(400, "invalid_expiry", "expiresAt must be an ISO 8601 date-time with a time zone, e.g. 2030-01-01T12:00:00Z");
    if (ms <= nowMs) throw new ApiError(400, "invalid_expiry", "expiresAt is in the past");
    if (ms > nowMs + MAX_EXPIRY_SEC * 1000) throw new ApiError(400, "invalid_expiry", `expiresAt is more than ${(MAX_EXPIRY_SEC / 86400).toString()} days ahead`);
    expiresAtMs = ms;
  } else {
    const sec = d.expiresInSec ?? DEFAULT_EXPIRY_SEC;
    if (!Number.isInteger(sec) || sec < 1 || sec > MAX_EXPIRY_SEC) throw new ApiError(400, "invalid_expiry", `expiresInSec must be a whole number of seconds from 1 to ${MAX_EXPIRY_SEC.toString()}`);
    expiresAtMs = nowMs + sec * 1000;
  }
  const currency = d.currency as Currency;
  // Key order fixed: the same request always has the same canonical form.
  const canonical = JSON.stringify([d.amount, d.currency, d.description, d.expiresInSec ?? null, d.expiresAt ?? null, d.orderId ?? null]);
  return { input: { amount, currency, description: d.description, orderId: d.orderId ?? null, expiresAtMs }, canonical };
}

function parseStatusFilter(value: unknown): InvoiceState | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !(INVOICE_STATES as readonly string[]).includes(value)) {
    throw new ApiError(400, "invalid_status", `status must be one of ${INVOICE_STATES.join(", ")}`);
  }
  return value as InvoiceState;
}

/** The invoices list: "<merchant id>!<created ms:16>" of the last invoice served; only one issued to this merchant is accepted. */
const invoiceCursor = new ListCursor("v1", /^mer_[0-9a-f]{16}!\d{16}$/);

function parseListCursor(value: unknown, merchantId: string): string | undefined {
  const key = invoiceCursor.parse(value);
  if (key !== undefined && !key.startsWith(`${merchantId}!`)) throw invalidCursor();
  return key;
}

function parsePngSize(value: unknown): number {
  if (value === undefined) return PNG_SIZES.default;
  const n = typeof value === "string" && /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= PNG_SIZES.min && n <= PNG_SIZES.max)) throw new ApiError(400, "invalid_size", `size must be a whole number of pixels from ${PNG_SIZES.min.toString()} to ${PNG_SIZES.max.toString()}`);
  return n;
}

/**
 * POST|GET /v1/invoices, GET /v1/invoices/{id}, /v1/invoices/{id}/qr and
 * /v1/invoices/{id}/ndef. Merchant keys only; another merchant's invoice is
 * 404, as if it did not exist.
 */
export function mountInvoiceRoutes(app: express.Express, deps: InvoiceRouteDeps): void {
  const merchant = (res: Response): Merchant => res.locals.merchant as Merchant;
  const auth = requireMerchant(deps.merchants);
  const view = async (invoice: Invoice): Promise<InvoiceView> => {
    const payments = await deps.store.read((r) => allPaymentsByReference(r, invoice.reference));
    return { ...invoice, ...invoiceStatus(invoice, payments, Date.now()) };
  };
  const owned = async (req: Request, res: Response): Promise<Invoice> => {
    const id = parseId("invoice", req.params.id);
    const invoice = await deps.invoices.get(merchant(res).id, id);
    if (!invoice) throw new ApiError(404, "invoice_not_found", `no invoice ${id}`);
    return invoice;
  };

  endpoint(app, "/v1/invoices", {
    post: [
      onlyQuery([]),
      auth,
      jsonBody,
      async (req, res) => {
        const key = parseIdempotencyKey(req, "invoice");
        const { input, canonical } = parseNewInvoice(await deps.readJson(req), Date.now());
        const m = merchant(res);
        const result = await deps.invoices.create({ merchantId: m.id, payout: m.payout, chainId: deps.chainId, token: deps.tokens[input.currency] }, input, key, canonical);
        if (result.kind === "conflict") throw idempotencyConflict("invoice", result.id);
        res.status(result.kind === "created" ? 201 : 200).json(await view(result.invoice));
      },
    ],
    get: [
      onlyQuery(["status", "limit", "cursor"]),
      auth,
      async (req, res) => {
        const m = merchant(res);
        const status = parseStatusFilter(req.query.status);
        const limit = parseLimit(req.query.limit);
        const before = parseListCursor(req.query.cursor, m.id);
        const views = new Map<string, InvoiceView>();
        const page = await deps.invoices.list(m.id, {
          limit,
          before,
          accept: async (invoice) => {
            const v = await view(invoice);
            views.set(invoice.id, v);
            return status === undefined || v.status === status;
          },
        });
        res.json({ items: page.items.map((i) => views.get(i.id)), nextCursor: page.next === null ? null : invoiceCursor.encode(page.next) });
      },
    ],
  });

  // Public: the payer's wallet has the reference (from the URI), not the merchant's key.
  endpoint(app, "/v1/payment-requests/:reference", {
    get: [
      onlyQuery([]),
      async (req, res) => {
        const reference = parseReference(req.params.reference);
        const invoice = await deps.invoices.byReference(reference);
        const m = invoice && (await deps.merchants.get(invoice.merchantId));
        if (!invoice || !m) throw new ApiError(404, "payment_request_not_found", "no invoice of this node has this reference");
        const v = await view(invoice);
        const payable = v.status === "open" || v.status === "partially_paid";
        const body: PaymentRequestView = { reference: invoice.reference, merchant: { name: m.name }, payee: invoice.payee, currency: invoice.currency, amount: invoice.amount, description: payable ? invoice.description : null, expiresAt: invoice.expiresAt, status: v.status };
        res.json(body);
      },
    ],
  });

  endpoint(app, "/v1/invoices/:id", {
    get: [
      onlyQuery([]),
      auth,
      async (req, res) => {
        res.json(await view(await owned(req, res)));
      },
    ],
  });

  endpoint(app, "/v1/invoices/:id/qr", {
    get: [
      onlyQuery(["format", "size"]),
      auth,
      async (req, res) => {
        const format = req.query.format ?? "svg";
        if (format !== "svg" && format !== "png") throw new ApiError(400, "invalid_format", "format must be svg or png");
        if (format === "svg" && req.query.size !== undefined) throw new ApiError(400, "invalid_size", "size applies to format=png only (an SVG scales)");
        const size = parsePngSize(req.query.size);
        const invoice = await owned(req, res);
        if (format === "svg") {
          res.type("image/svg+xml").send(await QRCode.toString(invoice.uri, { type: "svg", errorCorrectionLevel: "M", margin: 4 }));
        } else {
          res.type("image/png").send(await QRCode.toBuffer(invoice.uri, { type: "png", errorCorrectionLevel: "M", margin: 4, width: size }));
        }
      },
    ],
  });

  endpoint(app, "/v1/invoices/:id/ndef", {
    get: [
      onlyQuery([]),
      auth,
      async (req, res) => {
        const invoice = await owned(req, res);
        res.type("application/octet-stream").send(ndefUriMessage(invoice.uri));
      },
    ],
  });
}
