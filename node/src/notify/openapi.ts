import { ref, error, json } from "../api/openapiParts.ts";

/** OpenAPI 3.1 paths and schemas of the notification endpoints (merged into /openapi.json). */

/**
 * The schema of a status watcher's event (see statusWatcher.ts): `type`s of one kind of merchant record
 * (invoice, refund), carrying the record as `field` at the change; merchant streams and webhooks only.
 */
export function statusEventSchema(opts: { description: string; types: string[]; txHash: string; field: string; record: Record<string, unknown> }): Record<string, unknown> {
  return {
    type: "object",
    description: opts.description,
    required: ["seq", "id", "type", "chainId", "merchantId", opts.field, "accounts"],
    properties: {
      seq: { type: "integer" },
      id: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      type: { type: "string", enum: opts.types },
      chainId: { type: "integer" },
      blockNumber: { type: "integer", description: "The indexed block when the change was seen" },
      blockHash: { type: "string" },
      txHash: { type: "string", description: opts.txHash },
      logIndex: { type: "integer" },
      accounts: { type: "array", maxItems: 0, items: { type: "string" } },
      merchantId: { type: "string" },
      [opts.field]: opts.record,
    },
  };
}

const lastEventId = {
  name: "Last-Event-ID",
  in: "header",
  required: false,
  description: "Resume: the id of the last event received. The stream first replays every matching event after it, then goes live.",
  schema: { type: "string", pattern: "^[0-9]{1,16}$" },
};

const stream = (description: string): Record<string, unknown> => ({
  description: `${description}. Each event: \`id:\` the outbox seq, \`event:\` its type, \`data:\` the NodeEvent JSON (schema NodeEvent). Comment lines (\`: heartbeat\`) every 15 s. A client too slow to read is disconnected and resumes with Last-Event-ID.`,
  content: { "text/event-stream": { schema: { type: "string" } } },
});

/** The events SSE streams and webhooks carry (an outbox entry). */
export const notifySchemas: Record<string, unknown> = {
  NodeEvent: {
    type: "object",
    required: ["seq", "id", "type", "chainId", "blockNumber", "blockHash", "txHash", "logIndex", "accounts"],
    properties: {
      seq: { type: "integer", description: "Outbox sequence number: increasing, never reused (also across a re-index or a chain reset); the SSE id" },
      id: {
        type: "string",
        pattern: "^0x[0-9a-f]{64}$",
        description: "payment.* and admin.*: sha256 of type:chainId:blockHash:txHash:logIndex; invoice.* and refund.*: sha256 of the change. The same fact always has the same id (Oriole-Event-Id)",
      },
      type: {
        type: "string",
        enum: [
          "payment.pending",
          "payment.confirmed",
          "payment.dropped",
          "admin.mint",
          "admin.burn",
          "admin.freeze",
          "admin.unfreeze",
          "admin.pause",
          "admin.unpause",
          "invoice.open",
          "invoice.partially_paid",
          "invoice.paid",
          "invoice.expired",
          "refund.open",
          "refund.completed",
          "refund.cancelled",
        ],
        description:
          "payment.pending: first seen, not yet --confirmations deep; payment.confirmed: at depth (with --confirmations 1, the default, a payment is seen and confirmed in the same block: only payment.confirmed is emitted); payment.dropped: its block left the chain in a reorganisation; invoice.*: see InvoiceEvent; refund.*: see RefundEvent (merchant streams and webhooks only)",
      },
      chainId: { type: "integer" },
      blockNumber: { type: "integer" },
      blockHash: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      txHash: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      logIndex: { type: "integer" },
      accounts: { type: "array", items: { type: "string", pattern: "^0x[0-9a-f]{40}$" }, description: "Lowercase addresses concerned" },
      payment: { ...ref("Payment"), description: "payment.* events: the payment, with its status at the event; on SSE streams a refund payment also carries `refund` (RefundLink)" },
      admin: ref("AdminRecord"),
      merchantId: { type: "string", description: "invoice.* and refund.* events: the merchant they belong to" },
      invoice: { ...ref("Invoice"), description: "invoice.* events (see InvoiceEvent)" },
      refund: { ...ref("Refund"), description: "refund.* events (see RefundEvent)" },
    },
  },
  AdminRecord: {
    type: "object",
    required: ["kind", "currency", "account", "amount", "blockNumber", "logIndex", "txHash"],
    properties: {
      kind: { type: "string", enum: ["mint", "burn", "freeze", "unfreeze", "pause", "unpause"] },
      currency: ref("Currency"),
      account: { ...ref("Address"), description: "Minted to, burnt by, frozen or unfrozen, or who paused" },
      amount: { oneOf: [ref("BaseUnits"), { type: "null" }], description: "Mint and burn only" },
      blockNumber: { type: "integer" },
      logIndex: { type: "integer" },
      txHash: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
    },
  },
};

export const notifyPaths: Record<string, unknown> = {
  "/v1/accounts/{address}/events": {
    get: {
      operationId: "streamAccountEvents",
      summary: "Server-Sent Events: payments (pending, confirmed, dropped) and admin events concerning one account. A payment that pays a refund carries `refund` (RefundLink: the refund, the refunded payment, its invoice), as in the account's history; the merchant's refund.* events are not sent here.",
      parameters: [{ name: "address", in: "path", required: true, schema: ref("Address") }, lastEventId],
      responses: { "200": stream("Event stream"), "400": error("invalid_address, invalid_last_event_id or unknown_parameter") },
    },
  },
  "/v1/merchants/me/events": {
    get: {
      operationId: "streamMerchantEvents",
      summary:
        "Server-Sent Events: payments whose payee is the merchant's payout address, the merchant's invoice status changes (invoice.open, invoice.partially_paid, invoice.paid, invoice.expired: see InvoiceEvent) and refund status changes (refund.open, refund.completed, refund.cancelled: see RefundEvent). The webhook gets the same events.",
      security: [{ merchantKey: [] }],
      parameters: [lastEventId],
      responses: { "200": stream("Event stream"), "400": error("invalid_last_event_id or unknown_parameter"), "401": error("unauthorized") },
    },
  },
  "/v1/merchants/me/webhook": {
    put: {
      operationId: "setWebhook",
      summary:
        "Set the merchant's webhook URL. The answer carries a new signing secret, shown this once. Each event is POSTed as JSON (schema NodeEvent) with Oriole-Event-Id (the same on every retry: drop duplicates by it) and Oriole-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>; refuse timestamps more than 5 minutes off. Non-2xx answers are retried with exponential backoff for about 24 h.",
      security: [{ merchantKey: [] }],
      requestBody: {
        required: true,
        content: { "application/json": { schema: { type: "object", required: ["url"], additionalProperties: false, properties: { url: { type: "string", format: "uri", maxLength: 2048, pattern: "^[^\\s\\x00-\\x1f\\x7f-\\x9f]+$", description: "An absolute http(s) URL, without spaces or control characters" } } } } },
      },
      responses: {
        "200": json("The webhook and its secret", { type: "object", required: ["url", "secret"], properties: { url: { type: "string" }, secret: { type: "string", pattern: "^whsec_[0-9a-f]{64}$" } } }),
        "400": error(
          "invalid_request (not JSON, not an http(s) URL, spaces or control characters in it), unknown_field, unknown_parameter, webhook_target_forbidden (the URL's host is or resolves to a loopback, private, link-local, metadata or other non-public address; a node started with --allow-private-webhooks allows them) or webhook_target_unresolvable (the host does not resolve)",
        ),
        "401": error("unauthorized"),
        "413": error("invalid_request: body over 16 kB"),
      },
    },
    delete: {
      operationId: "deleteWebhook",
      summary: "Remove the merchant's webhook (its own only: a key never reaches another merchant's). Nothing is sent afterwards; pending deliveries show as cancelled in the log.",
      security: [{ merchantKey: [] }],
      responses: {
        "204": { description: "Removed" },
        "400": error("unknown_parameter"),
        "401": error("unauthorized"),
        "404": error("webhook_not_set: this merchant has no webhook"),
      },
    },
    get: {
      operationId: "getWebhook",
      summary: "The merchant's webhook URL (never the secret)",
      security: [{ merchantKey: [] }],
      responses: {
        "200": json("The webhook", { type: "object", required: ["url", "updatedAt"], properties: { url: { type: "string" }, updatedAt: { type: "string", format: "date-time" } } }),
        "400": error("unknown_parameter"),
        "401": error("unauthorized"),
        "404": error("webhook_not_set"),
      },
    },
  },
  "/v1/merchants/me/webhook/deliveries": {
    get: {
      operationId: "listWebhookDeliveries",
      summary: "The delivery log: one entry per event, newest first, with its status (pending, delivered, failed, or cancelled when the webhook was deleted first), attempts and the last attempts' outcomes",
      security: [{ merchantKey: [] }],
      parameters: [
        { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
        { name: "cursor", in: "query", required: false, description: "nextCursor of the previous page", schema: { type: "string", pattern: "^[0-9]{1,16}$" } },
      ],
      responses: {
        "200": json("A page of deliveries", { type: "object", required: ["items", "nextCursor"], properties: { items: { type: "array", items: { type: "object" } }, nextCursor: { type: ["string", "null"] } } }),
        "400": error("invalid_limit, invalid_cursor or unknown_parameter"),
        "401": error("unauthorized"),
      },
    },
  },
};
