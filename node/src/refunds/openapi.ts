import { CURRENCIES } from "../../../client/sdk/currencies.ts";
import { ref, error, json, units } from "../api/openapiParts.ts";
import { statusEventSchema } from "../notify/openapi.ts";

/** OpenAPI 3.1 paths and schemas of refunds and daily settlement reports (merged into /openapi.json). */

const signedUnits = { type: "string", pattern: "^-?(0|[1-9][0-9]*)$", description: "Base units, decimal (negative: money out)" };
const txHash = { type: "string", pattern: "^0x[0-9a-f]{64}$" };

/** What GET /v1/refunds/{id} and POST /v1/refunds/{id}/cancel share. */
const oneRefund = { security: [{ merchantKey: [] }], parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", pattern: "^rfd_[0-9a-f]{16}$" } }] };
const oneRefundErrors = {
  "400": error("invalid_refund_id or unknown_parameter"),
  "401": error("unauthorized"),
  "404": error("refund_not_found (also another merchant's refund)"),
};

export const refundPaths: Record<string, unknown> = {
  "/v1/refunds": {
    post: {
      operationId: "createRefund",
      summary:
        "Refund (part of) a confirmed payment to the merchant's payout. All refunds of a payment (open and completed; a cancelled one only for what was paid to it) never exceed its amount. The answer's uri is the EIP-681 request the merchant's wallet pays: from the payout to the original payer, same token, the refund's fresh reference. The refund is completed once confirmed payments carrying that reference from the payout to the payer add up to its amount.",
      security: [{ merchantKey: [] }],
      parameters: [
        {
          name: "Idempotency-Key",
          in: "header",
          required: true,
          description: "Any 1 to 255 printable ASCII characters, one per refund. The same key with the same body returns the same refund (200); with another body, 409 idempotency_conflict.",
          schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
        },
      ],
      requestBody: { required: true, content: { "application/json": { schema: ref("NewRefund") } } },
      responses: {
        "201": json("The refund, created", ref("Refund")),
        "200": json("The refund this Idempotency-Key created before", ref("Refund")),
        "400": error("invalid_request, unknown_field, idempotency_key_required, invalid_idempotency_key or unknown_parameter"),
        "401": error("unauthorized"),
        "404": error("payment_not_found: no such payment to this merchant's payout"),
        "409": error("refund_exceeds_payment, payment_not_confirmed or idempotency_conflict"),
        "413": error("invalid_request: body over 16 kB"),
      },
    },
    get: {
      operationId: "listRefunds",
      summary: "The merchant's refunds, newest first",
      security: [{ merchantKey: [] }],
      parameters: [
        { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
        { name: "cursor", in: "query", required: false, description: "nextCursor of the previous page", schema: { type: "string" } },
      ],
      responses: {
        "200": json("A page of refunds", { type: "object", required: ["items", "nextCursor"], properties: { items: { type: "array", items: ref("Refund") }, nextCursor: { type: ["string", "null"] } } }),
        "400": error("invalid_limit, invalid_cursor or unknown_parameter"),
        "401": error("unauthorized"),
      },
    },
  },
  "/v1/refunds/{id}": {
    get: {
      operationId: "getRefund",
      summary: "One of the merchant's refunds, with its status read from the chain",
      ...oneRefund,
      responses: { "200": json("The refund", ref("Refund")), ...oneRefundErrors },
    },
  },
  "/v1/refunds/{id}/cancel": {
    post: {
      operationId: "cancelRefund",
      summary:
        "Cancel one of the merchant's refunds before it is paid: its status becomes cancelled (final) and it no longer counts against the payment's amount, so a new refund can be created. Once any payment of the refund is seen on the chain (pending or confirmed) it cannot be cancelled. Cancelling a cancelled refund answers it again (200). A payment made to a cancelled refund's request anyway still counts, as what it paid.",
      ...oneRefund,
      responses: {
        "200": json("The refund, cancelled", ref("Refund")),
        ...oneRefundErrors,
        "409": error("refund_already_paid: a payment of the refund is on the chain (paid or partly paid)"),
      },
    },
  },
  "/v1/merchants/me/reports/daily": {
    get: {
      operationId: "dailyReport",
      summary:
        "The merchant's settlement report for one UTC day, from the payout's confirmed history: gross (what payers paid: received + merchant fee), fees (the token's merchant fees), refunds (what refund payments took out of the payout), net = gross - fees - refunds, per currency, with the line items. CSV: a header row, one row per line item, then one total row per currency; decimal base units.",
      security: [{ merchantKey: [] }],
      parameters: [
        { name: "date", in: "query", required: true, schema: { type: "string", format: "date", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" } },
        { name: "currency", in: "query", required: false, description: "One currency; default every currency with activity", schema: { type: "string", enum: [...CURRENCIES] } },
        { name: "format", in: "query", required: false, schema: { type: "string", enum: ["json", "csv"], default: "json" } },
      ],
      responses: {
        "200": { description: "The report", content: { "application/json": { schema: ref("DailyReport") }, "text/csv": { schema: { type: "string" } } } },
        "400": error("invalid_date, invalid_currency, invalid_format or unknown_parameter"),
        "401": error("unauthorized"),
      },
    },
  },
};

export const refundSchemas: Record<string, unknown> = {
  NewRefund: {
    type: "object",
    additionalProperties: false,
    required: ["payment", "amount"],
    properties: {
      payment: { type: "string", pattern: "^0x[0-9a-fA-F]{64}:(0|[1-9][0-9]{0,7})$", description: "<txHash>:<logIndex> of the payment's transfer to the payout" },
      amount: { ...units, pattern: "^[1-9][0-9]{0,77}$" },
      reason: { type: "string", maxLength: 500 },
    },
  },
  Refund: {
    type: "object",
    required: ["id", "reference", "uri", "status", "currency", "amount", "paid", "from", "to", "payment", "invoiceId", "reason", "createdAt", "cancelledAt", "payments"],
    properties: {
      id: { type: "string", pattern: "^rfd_[0-9a-f]{16}$" },
      reference: ref("Reference"),
      uri: { type: "string", description: "EIP-681 request: the payout pays `amount` to the payer with `reference`" },
      status: { type: "string", enum: ["open", "completed", "cancelled"], description: "cancelled: by the merchant (POST /v1/refunds/{id}/cancel), final" },
      currency: ref("Currency"),
      amount: units,
      paid: { ...units, description: "Received by the payer through confirmed refund payments" },
      from: ref("Address"),
      to: ref("Address"),
      payment: { type: "object", required: ["txHash", "logIndex"], properties: { txHash, logIndex: { type: "integer" } } },
      invoiceId: { type: ["string", "null"], description: "The invoice of the refunded payment's reference" },
      reason: { type: ["string", "null"] },
      createdAt: { type: "string", format: "date-time" },
      cancelledAt: { type: ["string", "null"], format: "date-time" },
      payments: {
        type: "array",
        items: { type: "object", required: ["txHash", "logIndex", "amount", "status"], properties: { txHash, logIndex: { type: "integer" }, amount: units, status: { type: "string", enum: ["pending", "confirmed"] } } },
      },
    },
  },
  RefundEvent: statusEventSchema({
    description:
      "A refund status change on /v1/merchants/me/events and the merchant's webhook (never on account streams: the customer's stream sees the refund payment itself, with its RefundLink). Event types: refund.open (created; again when a partial payment is confirmed, or a reorg takes a payment back), refund.completed (confirmed payments reach the amount), refund.cancelled (cancelled by the merchant; again if its old request is paid anyway). A pending payment pushes nothing. Changes faster than the node looks are pushed as the latest. The same change has the same id (also when a re-index goes through it again); a webhook retry carries the same id and body.",
    types: ["refund.open", "refund.completed", "refund.cancelled"],
    txHash: "The newest confirmed refund payment's transaction; zeros when none",
    field: "refund",
    record: { ...ref("Refund"), description: "The refund as GET /v1/refunds/{id} showed it at the change" },
  }),
  RefundLink: {
    type: "object",
    description: "On a refund payment in an account's history and in payment events on SSE streams: the refund it pays",
    required: ["id", "of", "invoiceId"],
    properties: { id: { type: "string" }, of: { type: "object", required: ["txHash", "logIndex"], properties: { txHash, logIndex: { type: "integer" } } }, invoiceId: { type: ["string", "null"] } },
  },
  DailyReport: {
    type: "object",
    required: ["merchantId", "payout", "date", "from", "to", "indexedBlock", "totals", "items"],
    properties: {
      merchantId: { type: "string" },
      payout: ref("Address"),
      date: { type: "string", format: "date" },
      from: { type: "string", format: "date-time" },
      to: { type: "string", format: "date-time" },
      indexedBlock: { type: "integer" },
      totals: {
        type: "array",
        items: {
          type: "object",
          required: ["currency", "gross", "fees", "refunds", "net", "payments", "refundPayments"],
          properties: { currency: ref("Currency"), gross: units, fees: units, refunds: units, net: signedUnits, payments: { type: "integer" }, refundPayments: { type: "integer" } },
        },
      },
      items: {
        type: "array",
        items: {
          type: "object",
          required: ["type", "txHash", "logIndex", "blockNumber", "time", "currency", "counterparty", "gross", "fee", "refund", "net", "reference", "refundId"],
          properties: {
            type: { type: "string", enum: ["payment", "refund"] },
            txHash,
            logIndex: { type: "integer" },
            blockNumber: { type: "integer" },
            time: { type: "string", format: "date-time" },
            currency: ref("Currency"),
            counterparty: ref("Address"),
            gross: units,
            fee: units,
            refund: units,
            net: signedUnits,
            reference: { oneOf: [ref("Reference"), { type: "null" }] },
            refundId: { type: ["string", "null"] },
          },
        },
      },
    },
  },
};
