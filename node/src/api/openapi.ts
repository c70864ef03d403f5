import { CURRENCIES } from "../../../client/sdk/currencies.ts";
import { RELAYER_ERROR_STATUS } from "../relayer/errors.ts";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./params.ts";
import { notifyPaths, notifySchemas } from "../notify/openapi.ts";
import { invoicePaths, invoiceSchemas } from "../invoices/openapi.ts";
import { refundPaths, refundSchemas } from "../refunds/openapi.ts";
import { escrowPaths, escrowSchemas } from "../escrow/openapi.ts";
import { offlinePaths, offlineSchemas } from "../offline/openapi.ts";
import { error, ref } from "./openapiParts.ts";

const currencyMap = (valueSchema: Record<string, unknown>): Record<string, unknown> => ({
  type: "object",
  properties: Object.fromEntries(CURRENCIES.map((c) => [c, valueSchema])),
  required: [...CURRENCIES],
  additionalProperties: false,
});

const requestIdHeader = {
  "x-request-id": { description: "Identifies the request in the node's logs; echoes a valid incoming x-request-id.", schema: { type: "string" } },
};

const rateLimited = {
  description: "rate_limited: too many requests for this API key (or from this IP without one); see Retry-After",
  headers: { "retry-after": { description: "Seconds to wait", schema: { type: "integer" } } },
  content: { "application/json": { schema: ref("Error") } },
};

/** Every endpoint refuses query parameters it does not define (also those that take none). */
const unknownParameter = error("unknown_parameter: a query parameter this endpoint does not define");

const ok = (description: string, schema: Record<string, unknown>): Record<string, unknown> => ({
  description,
  headers: requestIdHeader,
  content: { "application/json": { schema } },
});

const addressParam = {
  name: "address",
  in: "path",
  required: true,
  description: "Account address: 0x and 40 hex digits, lowercase or EIP-55 checksummed.",
  schema: ref("Address"),
};

const limitParam = {
  name: "limit",
  in: "query",
  required: false,
  description: `Items per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`,
  schema: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
};

const cursorParam = {
  name: "cursor",
  in: "query",
  required: false,
  description: "Opaque: the nextCursor of the previous page.",
  schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
};

/** The node's API as an OpenAPI 3.1 document, served at /openapi.json. */
export function openApiDocument(opts: { version: string }): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Oriole settlement node API",
      version: opts.version,
      description:
        "API of an Oriole settlement node: the chain it follows, balances and payments it indexed, its relayer of passkey payment intents, and merchants. Amounts are integers in base units (6 decimals) as decimal strings. Every error has the shape {\"error\": {\"code\", \"message\", \"requestId\"}} with a stable code. Lists are paginated with limit and an opaque cursor (nextCursor). Requests are rate limited per merchant API key, or per IP without one (429 rate_limited with Retry-After). CORS: the node's --cors-origins (default any origin; no credentials are used).",
    },
    paths: {
      "/v1/network": {
        get: {
          operationId: "getNetwork",
          summary: "The chain the node follows and Oriole's contracts on it",
          responses: { "200": ok("Network", ref("Network")), "400": error("Unknown query parameter (unknown_parameter)") },
        },
      },
      "/v1/accounts/{address}/balances": {
        get: {
          operationId: "getBalances",
          summary: "Balance of every currency for one account, as indexed",
          parameters: [addressParam],
          responses: {
            "200": ok("Balances", ref("Balances")),
            "400": error("invalid_address or unknown_parameter"),
          },
        },
      },
      "/v1/accounts/{address}/payments": {
        get: {
          operationId: "listPayments",
          summary: "Transfers sent or received by one account, newest first (mints come from, burns go to the zero address)",
          parameters: [
            addressParam,
            limitParam,
            cursorParam,
          ],
          responses: {
            "200": ok("A page of payments", ref("PaymentPage")),
            "400": error("invalid_address, invalid_limit, invalid_cursor or unknown_parameter"),
          },
        },
      },
      "/v1/payments": {
        get: {
          operationId: "findPaymentsByReference",
          summary: "Payments carrying a reference (e.g. an invoice id), newest first: the payer → payee item of each (kind payment)",
          parameters: [
            {
              name: "reference",
              in: "query",
              required: true,
              description: "The bytes32 reference: 0x and 64 hex digits, any case.",
              schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" },
            },
            limitParam,
            cursorParam,
          ],
          responses: {
            "200": ok("A page of payments", ref("PaymentPage")),
            "400": error("invalid_reference, invalid_limit, invalid_cursor or unknown_parameter"),
          },
        },
      },
      "/v1/intents": {
        post: {
          operationId: "submitIntent",
          summary: "Relay a passkey account's signed payment intent (idempotent: the id is the intent's EIP-712 digest)",
          requestBody: { required: true, content: { "application/json": { schema: ref("IntentSubmission") } } },
          responses: {
            "202": ok("Accepted now: queued", ref("Intent")),
            "200": ok("Already known: the stored record of the first submission", ref("Intent")),
            "400": error(
              "invalid_request, unsupported_token, intent_expired, fee_too_low, invalid_signature, user_verification_required, unknown_device, account_not_deployed, deployment_mismatch or unknown_parameter",
            ),
            "403": error("relayer_disabled: the node runs without a relayer key"),
            "409": error("nonce_used (on-chain) or nonce_conflict (another intent with this nonce is in flight)"),
            "413": error("invalid_request: body over 16 kB"),
            "422": error("simulation_failed: the payment would revert; the message carries the decoded reason"),
            "503": error("chain_unavailable: the chain's RPC failed during the checks; retry. relayer_unfunded: the relayer has too little ETH for gas; nothing was queued (intents accepted before are sent once it is funded)"),
          },
        },
      },
      "/v1/intents/{id}": {
        get: {
          operationId: "getIntent",
          summary: "An intent's status",
          parameters: [{ name: "id", in: "path", required: true, description: "The intent's EIP-712 digest", schema: ref("Bytes32") }],
          responses: {
            "200": ok("The intent", ref("Intent")),
            "400": error("invalid_request (malformed id) or unknown_parameter"),
            "403": error("relayer_disabled"),
            "404": error("intent_not_found"),
          },
        },
      },
      "/v1/accounts/{address}/next-nonce": {
        get: {
          operationId: "nextNonce",
          summary: "The lowest nonce of a passkey account unused on-chain and not held by an intent in flight",
          parameters: [addressParam],
          responses: {
            "200": ok("Next nonce", { type: "object", required: ["nonce"], properties: { nonce: ref("Uint") } }),
            "400": error("invalid_address or unknown_parameter"),
            "403": error("relayer_disabled"),
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "Liveness: the process serves requests",
          responses: { "200": ok("Alive", ref("Health")), "400": unknownParameter },
        },
      },
      "/readyz": {
        get: {
          operationId: "ready",
          summary: "Readiness: 200 once the indexer has caught up with the chain head, 503 before",
          responses: {
            "200": ok("Caught up", ref("Readiness")),
            "400": unknownParameter,
            "503": { description: "Catching up (or the indexer stopped)", headers: requestIdHeader, content: { "application/json": { schema: ref("Readiness") } } },
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: { "200": ok("OpenAPI 3.1 document", { type: "object" }), "400": unknownParameter },
        },
      },
      "/docs": {
        get: {
          operationId: "docs",
          summary: "This document as a readable HTML page (no scripts; strict Content-Security-Policy)",
          responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } }, "400": unknownParameter },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          summary:
            "Prometheus metrics (text format 0.0.4): oriole_indexed_block, oriole_head_block, oriole_indexer_lag_blocks, oriole_reorgs_total, oriole_indexer_failed, oriole_head_subscription_up, oriole_relayer_queue_length, oriole_relayer_unfunded, oriole_sse_clients, oriole_webhook_deliveries_total{outcome=delivered|retry|failed|cancelled}, oriole_webhook_queue_depth, oriole_http_request_duration_seconds (histogram by route, method, status), oriole_event_loop_delay_seconds{quantile}. Never rate limited.",
          responses: { "200": { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } }, "400": unknownParameter },
        },
      },
      "/v1/merchants": {
        post: {
          operationId: "createMerchant",
          summary: "Create a merchant (admin token). The answer carries its API key: shown this once, only its hash is stored",
          security: [{ adminToken: [] }],
          requestBody: { required: true, content: { "application/json": { schema: ref("NewMerchant") } } },
          responses: {
            "201": ok("Created", ref("CreatedMerchant")),
            "400": error("invalid_request (not JSON, not an object, bad name), invalid_address (payout), unknown_field or unknown_parameter"),
            "401": error("unauthorized: no or a wrong admin token"),
            "403": error("forbidden: a merchant API key instead of the admin token"),
            "413": error("invalid_request: body over 16 kB"),
            "429": rateLimited,
          },
        },
        get: {
          operationId: "listMerchants",
          summary: "Every merchant (admin token), in id order",
          security: [{ adminToken: [] }],
          parameters: [limitParam, cursorParam],
          responses: {
            "200": ok("A page of merchants", ref("MerchantPage")),
            "400": error("invalid_limit, invalid_cursor or unknown_parameter"),
            "401": error("unauthorized"),
            "403": error("forbidden: a merchant API key"),
            "429": rateLimited,
          },
        },
      },
      "/v1/merchants/me": {
        get: {
          operationId: "getMyMerchant",
          summary: "The merchant of the API key",
          security: [{ merchantKey: [] }],
          responses: {
            "200": ok("The merchant", ref("Merchant")),
            "400": error("unknown_parameter"),
            "401": error("unauthorized: no or a wrong API key"),
            "429": rateLimited,
          },
        },
      },
      ...notifyPaths,
      ...invoicePaths,
      ...refundPaths,
      ...escrowPaths,
      ...offlinePaths,
      "/v1/merchants/{id}": {
        get: {
          operationId: "getMerchant",
          summary: "One merchant: the admin sees any, a merchant's key only its own",
          security: [{ adminToken: [] }, { merchantKey: [] }],
          parameters: [{ name: "id", in: "path", required: true, description: "mer_ and 16 hex digits", schema: { type: "string", pattern: "^mer_[0-9a-f]{16}$" } }],
          responses: {
            "200": ok("The merchant", ref("Merchant")),
            "400": error("invalid_merchant_id or unknown_parameter"),
            "401": error("unauthorized"),
            "403": error("forbidden: another merchant's key"),
            "404": error("merchant_not_found (admin only)"),
            "429": rateLimited,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "The node's admin token: ORIOLE_ADMIN_TOKEN, else the file <data dir>/admin-token created at first start" },
        merchantKey: { type: "http", scheme: "bearer", description: "A merchant's API key, ok_live_ and 32 hex digits, shown once when the merchant is created" },
      },
      schemas: {
        ...refundSchemas,
        ...escrowSchemas,
        ...offlineSchemas,
        ...notifySchemas,
        NewMerchant: {
          type: "object",
          additionalProperties: false,
          required: ["name", "payout"],
          properties: { name: { type: "string", minLength: 1, maxLength: 100 }, payout: { ...ref("Address"), description: "Where the merchant is paid" } },
        },
        Merchant: {
          type: "object",
          additionalProperties: false,
          required: ["id", "name", "payout", "createdAt"],
          properties: {
            id: { type: "string", pattern: "^mer_[0-9a-f]{16}$" },
            name: { type: "string" },
            payout: ref("Address"),
            createdAt: { type: "string", format: "date-time" },
          },
        },
        CreatedMerchant: {
          type: "object",
          required: ["merchant", "apiKey"],
          properties: { merchant: ref("Merchant"), apiKey: { type: "string", pattern: "^ok_live_[0-9a-f]{32}$", description: "Shown this once; store it" } },
        },
        MerchantPage: {
          type: "object",
          required: ["items", "nextCursor"],
          properties: { items: { type: "array", items: ref("Merchant") }, nextCursor: { type: ["string", "null"] } },
        },
        ...invoiceSchemas,
        Address: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "EIP-55 checksummed in responses" },
        BaseUnits: { type: "string", pattern: "^(0|[1-9][0-9]*)$", description: "Integer amount in base units (6 decimals), as a decimal string" },
        Currency: { type: "string", enum: [...CURRENCIES] },
        Error: {
          type: "object",
          required: ["error"],
          additionalProperties: false,
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              additionalProperties: false,
              properties: {
                code: {
                  type: "string",
                  description: "Stable machine-readable code",
                  examples: [
                    "invalid_address",
                    "invalid_reference",
                    "invalid_limit",
                    "invalid_cursor",
                    "unknown_parameter",
                    "not_found",
                    "method_not_allowed",
                    "bad_request",
                    "internal_error",
                    "unauthorized",
                    "forbidden",
                    "rate_limited",
                    "unknown_field",
                    "invalid_merchant_id",
                    "merchant_not_found",
                    "cors_forbidden",
                    ...Object.keys(RELAYER_ERROR_STATUS),
                  ],
                },
                message: { type: "string", description: "Human-readable explanation" },
                requestId: { type: "string", description: "The request's x-request-id, to find it in the node's logs" },
              },
            },
          },
        },
        Network: {
          type: "object",
          required: ["chainId", "blockNumber", "indexedBlock", "contracts"],
          properties: {
            chainId: { type: "integer" },
            blockNumber: { type: "integer", description: "Chain head as last seen by the node" },
            indexedBlock: { type: "integer", description: "Last block whose effects are indexed" },
            contracts: {
              type: "object",
              required: ["tokens", "accounts", "escrow", "offlineVault"],
              properties: {
                tokens: currencyMap(ref("Address")),
                accounts: {
                  type: "object",
                  required: ["implementation", "factory", "relay"],
                  properties: { implementation: ref("Address"), factory: ref("Address"), relay: ref("Address") },
                },
                escrow: { ...ref("Address"), description: "OrioleEscrow: escrow of an order's payment, every currency" },
                offlineVault: { ...ref("Address"), description: "OfflineVault: offline allowances and batch settlement of offline payment codes" },
              },
            },
            escrowRelayer: {
              oneOf: [{ type: "object", required: ["address"], properties: { address: ref("Address") } }, { type: "null" }],
              description: "The EOA that sends relayed escrow actions and fundings and offline vault calls (derived from the relayer key; the operator funds its gas); null without a relayer key",
            },
            relayer: {
              oneOf: [
                {
                  type: "object",
                  required: ["address", "fees"],
                  properties: { address: ref("Address"), fees: { ...currencyMap(ref("BaseUnits")), description: "The relayer's fee per currency, charged exactly (never above the intent's maxRelayerFee)" } },
                },
                { type: "null" },
              ],
              description: "The node's relayer; null when it runs without a relayer key",
            },
          },
        },
        Bytes32: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" },
        Uint: { type: "string", pattern: "^(0|[1-9][0-9]*)$", description: "uint256 as a decimal string" },
        PaymentIntent: {
          type: "object",
          additionalProperties: false,
          required: ["token", "to", "amount", "reference", "nonce", "deadline", "maxRelayerFee"],
          properties: {
            token: ref("Address"),
            to: ref("Address"),
            amount: ref("BaseUnits"),
            reference: ref("Bytes32"),
            nonce: { ...ref("Uint"), description: "Unordered nonce: bit nonce & 255 of word nonce >> 8" },
            deadline: { ...ref("Uint"), description: "Unix seconds; at most one day ahead" },
            maxRelayerFee: ref("BaseUnits"),
          },
        },
        IntentSubmission: {
          type: "object",
          additionalProperties: false,
          required: ["account", "intent", "signature"],
          properties: {
            account: ref("Address"),
            intent: ref("PaymentIntent"),
            signature: { type: "string", pattern: "^0x([0-9a-fA-F]{2})+$", description: "Passkey signature: qx ‖ qy ‖ r ‖ s ‖ uint16 authenticatorData length ‖ authenticatorData ‖ clientDataJSON suffix" },
            deployment: {
              type: "object",
              additionalProperties: false,
              required: ["qx", "qy", "salt"],
              properties: { qx: ref("Bytes32"), qy: ref("Bytes32"), salt: ref("Uint") },
              description: "For a counterfactual account's first payment(s): the relayer deploys it",
            },
          },
        },
        Intent: {
          type: "object",
          required: ["id", "status", "txHash", "account", "nonce", "relayerFee"],
          properties: {
            id: { ...ref("Bytes32"), description: "The intent's EIP-712 digest" },
            status: { type: "string", enum: ["queued", "submitted", "confirmed", "failed"] },
            txHash: { oneOf: [ref("Bytes32"), { type: "null" }], description: "The carrying transaction: latest broadcast while submitted, the mined one once final" },
            account: ref("Address"),
            nonce: ref("Uint"),
            relayerFee: ref("BaseUnits"),
            error: {
              type: "object",
              required: ["code", "message"],
              properties: { code: { type: "string" }, message: { type: "string" } },
              description: "Why it failed (status failed only)",
            },
          },
        },
        Balances: {
          type: "object",
          required: ["address", "indexedBlock", "balances"],
          properties: {
            address: ref("Address"),
            indexedBlock: { type: "integer" },
            balances: currencyMap(ref("BaseUnits")),
          },
        },
        Reference: { type: "string", pattern: "^0x[0-9a-f]{64}$", description: "A payment's bytes32 reference (invoice id, order hash, …), lowercase hex" },
        Payment: {
          type: "object",
          description:
            "One Transfer as seen by one account. A payment with a reference (pay, payFrom, payWithPermit, payWithAuthorization, settlePayments) shows as its payer → payee transfer (kind payment) and, when the merchant pays a fee, the payer → fee collector transfer (kind fee); both carry the Payment event's reference.",
          required: ["txHash", "logIndex", "blockNumber", "timestamp", "from", "to", "currency", "amount", "reference", "fee", "kind", "status"],
          properties: {
            txHash: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
            logIndex: { type: "integer" },
            blockNumber: { type: "integer" },
            timestamp: { type: "integer", description: "Block time, unix seconds" },
            from: ref("Address"),
            to: ref("Address"),
            currency: ref("Currency"),
            amount: { ...ref("BaseUnits"), description: "What `to` received (for kind payment: the merchant's net, after the fee)" },
            reference: { oneOf: [ref("Reference"), { type: "null" }], description: "The Payment event's reference; null for a plain transfer (incl. mints and burns)" },
            fee: { ...ref("BaseUnits"), description: "For kind payment: the merchant fee (the payer paid amount + fee). \"0\" otherwise" },
            kind: {
              type: "string",
              enum: ["transfer", "payment", "fee"],
              description: "transfer: a plain ERC-20 transfer, mint or burn; payment: the payer → payee transfer of a payment with a reference; fee: its payer → fee collector transfer",
            },
            refund: { ...ref("RefundLink"), description: "Present on a refund payment (the merchant's payout paying a refund back)" },
            refunds: {
              type: "array",
              description: "Present on a payment that has refunds",
              items: { type: "object", required: ["id", "amount", "status"], properties: { id: { type: "string" }, amount: ref("BaseUnits"), status: { type: "string", enum: ["open", "completed", "cancelled"] } } },
            },
            status: {
              type: "string",
              enum: ["pending", "confirmed"],
              description:
                "pending while its block is fewer than the node's --confirmations blocks deep (counting the block itself), then confirmed. With --confirmations 1 (the default) a payment is confirmed in the block it first appears in: items always read confirmed and the only event is payment.confirmed (no payment.pending). In a payment.dropped event: the status it had when its block left the chain.",
            },
          },
        },
        PaymentPage: {
          type: "object",
          required: ["items", "nextCursor"],
          properties: {
            items: { type: "array", items: ref("Payment") },
            nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page; null on the last page" },
          },
        },
        Health: { type: "object", required: ["status"], properties: { status: { const: "ok" } } },
        Readiness: {
          type: "object",
          required: ["status", "indexedBlock", "headBlock"],
          properties: {
            status: { type: "string", enum: ["ready", "catching_up", "failed"] },
            indexedBlock: { type: "integer" },
            headBlock: { type: ["integer", "null"] },
          },
        },
      },
    },
  };
}
