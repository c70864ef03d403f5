import { ref, error, json } from "../api/openapiParts.ts";
import { statusEventSchema } from "../notify/openapi.ts";

/** OpenAPI 3.1 paths and schemas of the invoice endpoints and events (merged into /openapi.json). */

const idParam = { name: "id", in: "path", required: true, description: "inv_ and 16 hex digits", schema: { type: "string", pattern: "^inv_[0-9a-f]{16}$" } };
const notFound = error("invoice_not_found (absent, or another merchant's)");
const badId = "invalid_invoice_id";

export const invoicePaths: Record<string, unknown> = {
  "/v1/invoices": {
    post: {
      operationId: "createInvoice",
      summary:
        "Create an invoice (a payment request). Its status is computed from the chain: only confirmed payments carrying its reference, to the merchant's payout, in its currency count. Status changes are pushed as invoice.* events on /v1/merchants/me/events and the webhook.",
      security: [{ merchantKey: [] }],
      parameters: [
        {
          name: "Idempotency-Key",
          in: "header",
          required: true,
          description: "Any 1 to 255 printable ASCII characters, one per invoice. The same key with the same body returns the same invoice (200); with another body, 409 idempotency_conflict.",
          schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
        },
      ],
      requestBody: { required: true, content: { "application/json": { schema: ref("NewInvoice") } } },
      responses: {
        "201": json("Created", ref("Invoice")),
        "200": json("The invoice first created with this Idempotency-Key and body", ref("Invoice")),
        "400": error("idempotency_key_required, invalid_idempotency_key, invalid_amount, invalid_currency, invalid_expiry, invalid_request, unknown_field or unknown_parameter"),
        "401": error("unauthorized"),
        "409": error("idempotency_conflict"),
        "413": error("invalid_request: body over 16 kB"),
      },
    },
    get: {
      operationId: "listInvoices",
      summary: "The merchant's invoices, newest first, optionally by status (computed now)",
      security: [{ merchantKey: [] }],
      parameters: [
        { name: "status", in: "query", required: false, schema: ref("InvoiceState") },
        { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
        { name: "cursor", in: "query", required: false, description: "nextCursor of the previous page (a filtered page may be short and still have a next one)", schema: { type: "string" } },
      ],
      responses: {
        "200": json("A page of invoices", { type: "object", required: ["items", "nextCursor"], properties: { items: { type: "array", items: ref("Invoice") }, nextCursor: { type: ["string", "null"] } } }),
        "400": error("invalid_status, invalid_limit, invalid_cursor or unknown_parameter"),
        "401": error("unauthorized"),
      },
    },
  },
  "/v1/invoices/{id}": {
    get: {
      operationId: "getInvoice",
      summary: "One invoice of the merchant, with its status now",
      security: [{ merchantKey: [] }],
      parameters: [idParam],
      responses: { "200": json("The invoice", ref("Invoice")), "400": error(`${badId} or unknown_parameter`), "401": error("unauthorized"), "404": notFound },
    },
  },
  "/v1/payment-requests/{reference}": {
    get: {
      operationId: "getPaymentRequest",
      summary:
        "Public: what a payer's wallet shows before paying an invoice's EIP-681 URI (merchant name, amount, expiry, status), found by the URI's reference. The description is null once the invoice is paid or expired (the reference is public on-chain after payment).",
      parameters: [{ name: "reference", in: "path", required: true, schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } }],
      responses: {
        "200": json("The payment request", ref("PaymentRequest")),
        "400": error("invalid_reference or unknown_parameter"),
        "404": error("payment_request_not_found"),
      },
    },
  },
  "/v1/invoices/{id}/qr": {
    get: {
      operationId: "getInvoiceQr",
      summary: "The invoice's payment URI as a QR code (error correction M)",
      security: [{ merchantKey: [] }],
      parameters: [
        idParam,
        { name: "format", in: "query", required: false, schema: { type: "string", enum: ["svg", "png"], default: "svg" } },
        { name: "size", in: "query", required: false, description: "PNG width and height in pixels (png only)", schema: { type: "integer", minimum: 64, maximum: 1024, default: 256 } },
      ],
      responses: {
        "200": { description: "The QR code", content: { "image/svg+xml": { schema: { type: "string" } }, "image/png": { schema: { type: "string", format: "binary" } } } },
        "400": error(`${badId}, invalid_format, invalid_size or unknown_parameter`),
        "401": error("unauthorized"),
        "404": notFound,
      },
    },
  },
  "/v1/invoices/{id}/ndef": {
    get: {
      operationId: "getInvoiceNdef",
      summary:
        "The payment URI as an NFC NDEF message, for tags and card emulation: one well-known URI record (TNF 0x01, type \"U\", identifier code 0x00 then the whole URI; MB, ME and SR set, or the long-record form when the payload exceeds 255 bytes)",
      security: [{ merchantKey: [] }],
      parameters: [idParam],
      responses: {
        "200": { description: "The NDEF message bytes", content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
        "400": error(`${badId} or unknown_parameter`),
        "401": error("unauthorized"),
        "404": notFound,
      },
    },
  },
};

export const invoiceSchemas: Record<string, unknown> = {
  InvoiceState: { type: "string", enum: ["open", "partially_paid", "paid", "expired"] },
  PaymentRequest: {
    type: "object",
    additionalProperties: false,
    required: ["reference", "merchant", "payee", "currency", "amount", "description", "expiresAt", "status"],
    properties: {
      reference: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      merchant: { type: "object", additionalProperties: false, required: ["name"], properties: { name: { type: "string" } } },
      payee: { type: "string", description: "Checksummed address the invoice is paid to" },
      currency: ref("Currency"),
      amount: ref("BaseUnits"),
      description: { type: ["string", "null"], description: "null once paid or expired" },
      expiresAt: { type: "string", format: "date-time" },
      status: ref("InvoiceState"),
    },
  },
  NewInvoice: {
    type: "object",
    additionalProperties: false,
    required: ["amount", "currency", "description"],
    properties: {
      amount: { ...ref("BaseUnits"), description: "Greater than zero, at most 2^128-1" },
      currency: ref("Currency"),
      description: { type: "string", maxLength: 200 },
      expiresInSec: { type: "integer", minimum: 1, maximum: 2_592_000, description: "Default 900; not with expiresAt" },
      expiresAt: { type: "string", format: "date-time", description: "In the future, at most 30 days ahead; not with expiresInSec" },
      orderId: { type: "string", minLength: 1, maxLength: 100 },
    },
  },
  Invoice: {
    type: "object",
    required: ["id", "merchantId", "reference", "currency", "amount", "description", "orderId", "createdAt", "expiresAt", "uri", "payee", "status", "amountReceived", "excess", "late", "refundable", "payments"],
    properties: {
      id: { type: "string", pattern: "^inv_[0-9a-f]{16}$" },
      merchantId: { type: "string" },
      reference: { type: "string", pattern: "^0x[0-9a-f]{64}$", description: "The bytes32 the payment carries (the token's pay(to, amount, ref))" },
      currency: ref("Currency"),
      amount: ref("BaseUnits"),
      description: { type: "string" },
      orderId: { type: ["string", "null"] },
      createdAt: { type: "string", format: "date-time" },
      expiresAt: { type: "string", format: "date-time" },
      uri: { type: "string", description: "EIP-681: ethereum:<token>@<chainId>/transfer?address=<payee>&uint256=<amount>&reference=<reference>" },
      payee: ref("Address"),
      status: { ...ref("InvoiceState"), description: "paid: on-time confirmed payments reach the amount; partially_paid: some; expired: short of it after expiresAt (by the clock or a block's timestamp)" },
      amountReceived: { ...ref("BaseUnits"), description: "Everything counted, on time and late" },
      excess: { ...ref("BaseUnits"), description: "Paid on time beyond the amount" },
      late: { ...ref("BaseUnits"), description: "Paid in blocks after expiresAt" },
      refundable: { ...ref("BaseUnits"), description: "paid: excess + late; expired: everything received; otherwise 0" },
      payments: {
        type: "array",
        items: {
          type: "object",
          required: ["txHash", "logIndex", "blockNumber", "timestamp", "from", "amount", "late"],
          properties: { txHash: { type: "string" }, logIndex: { type: "integer" }, blockNumber: { type: "integer" }, timestamp: { type: "integer" }, from: ref("Address"), amount: ref("BaseUnits"), late: { type: "boolean" } },
        },
      },
    },
  },
  InvoiceEvent: statusEventSchema({
    description:
      "An invoice status change on /v1/merchants/me/events and the webhook (never on account streams): event types invoice.open (a reorg took the payments away), invoice.partially_paid, invoice.paid, invoice.expired (pushed at expiry, and again when a late payment arrives). The same status from the same payments has the same id.",
    types: ["invoice.open", "invoice.partially_paid", "invoice.paid", "invoice.expired"],
    txHash: "The newest counted payment's transaction; zeros when none",
    field: "invoice",
    record: ref("Invoice"),
  }),
};
