import { randomUUID } from "node:crypto";
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import type { IndexerStatus } from "../indexer/indexer.ts";
import type { Logger } from "../log.ts";
import type { NodeStore } from "../store/store.ts";
import { isOrioleError } from "../../../client/sdk/errors.ts";
import { isRelayerErrorCode, RELAYER_ERROR_STATUS } from "../relayer/errors.ts";
import type { Relayer } from "../relayer/relayer.ts";
import type { AccountContracts } from "../relayer/validate.ts";
import { publicMerchant, type Merchant, type MerchantStore } from "../merchants/merchantStore.ts";
import { merchantOf, requireAdmin, requireAdminOrMerchant, requireMerchant } from "./auth.ts";
import { DOCS_CSP, renderDocs } from "./docs.ts";
import { ApiError, errorBody } from "./errors.ts";
import { labelled, RequestHistogram, scalar } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import { encodeCursor, merchantCursor, parseAddress, parseCursor, parseId, parseLimit, parseNewMerchant, parseReference } from "./params.ts";
import { endpoint as mountEndpoint, jsonBody, onlyQuery, type Handler } from "./endpoint.ts";
import { RateLimiter } from "./rateLimit.ts";
import { webAppsRouter, type WebApps } from "./webApps.ts";
import { mountNotifyRoutes, type NotifyServices } from "../notify/routes.ts";
import type { InvoiceStore } from "../invoices/invoiceStore.ts";
import { mountInvoiceRoutes } from "../invoices/routes.ts";
import type { RefundService } from "../refunds/refunds.ts";
import { mountRefundRoutes } from "../refunds/routes.ts";
import { mountReportRoutes } from "../reports/routes.ts";
import type { EscrowService } from "../escrow/escrowService.ts";
import { mountEscrowRoutes } from "../escrow/routes.ts";
import type { OfflineService } from "../offline/offlineService.ts";
import { mountOfflineRoutes } from "../offline/routes.ts";

/** What the API reads: the store, the indexer's status, and the chain it follows. */
export interface ApiContext {
  chainId: number;
  /** Checksummed token address per currency. */
  tokens: Record<Currency, string>;
  /** Passkey account contracts (implementation, factory, relay). */
  accounts: AccountContracts;
  /** OrioleEscrow's address (from the deployment). */
  escrowAddress: string;
  /** OfflineVault's address (from the deployment). */
  offlineVaultAddress: string;
  /** The relayer; null when the node runs without a relayer key. */
  relayer: Relayer | null;
  /** Block before the deployment: what `indexedBlock` is before the first commit. */
  baseBlock: number;
  store: NodeStore;
  status: () => IndexerStatus;
  log: Logger;
  version: string;
  /** The browser apps (the wallet at /wallet), bundled or being bundled; absent = API only. */
  /** The bundled web apps, or how to get them (built at the first request that needs them). */
  web?: WebApps | (() => Promise<WebApps>);
  merchants: MerchantStore;
  /** Bearer token of the admin endpoints. A secret: never logged. */
  adminToken: string;
  /** Origins CORS allows: "*" or a list of exact origins. */
  corsOrigins: "*" | readonly string[];
  /** Requests per second per merchant key / per IP without one; 0 = unlimited. */
  rateLimitPerKey: number;
  rateLimitPerIp: number;
  /** SSE streams and webhooks; absent = those endpoints are not served. */
  notify?: NotifyServices;
  /** Invoices; absent = /v1/invoices is not served. */
  invoices?: InvoiceStore;
  /** Refunds (merchant API, and the refund links in account histories); absent = not served. */
  refunds?: RefundService;
  /** OrioleEscrow's state, account lists and signed-action relay; absent = not served. */
  escrows?: EscrowService;
  /** The offline vault's relayed calls (reserve, withdrawal request and completion); absent = not served. */
  offline?: OfflineService;
}

/** Methods and headers a browser on another origin may use (no cookies: the API never uses credentials). */
const CORS_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS";
const CORS_HEADERS = "authorization, content-type, x-request-id, last-event-id, idempotency-key";
/** Paths that are never rate limited: probes and scrapers poll them. */
const UNLIMITED = new Set(["/healthz", "/readyz", "/metrics"]);

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The node's REST API (express 5). Handlers only read; every input goes
 * through params.ts; every failure is `{"error": {"code", "message"}}`.
 */
export function createApi(ctx: ApiContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("case sensitive routing", true);
  app.set("query parser", "simple");
  const log = ctx.log.child({ component: "api" });
  const openapi = openApiDocument({ version: ctx.version });

  const latency = new RequestHistogram();
  // How long callbacks waited for the event loop: a request's tail latency that no handler shows.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  app.use((req, res, next) => {
    const incoming = req.get("x-request-id");
    const id = incoming !== undefined && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.set("x-request-id", id);
    res.set("cache-control", "no-store");
    const t0 = performance.now();
    res.on("finish", () => {
      const seconds = (performance.now() - t0) / 1000;
      // The route's pattern, not the path: one series per endpoint, not per address.
      const routePath = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof routePath === "string" ? routePath : "unmatched";
      latency.observe(route, req.method, res.statusCode, seconds);
      const merchant = res.locals.merchant as Merchant | null | undefined;
      log.debug("request", { requestId: id, method: req.method, path: req.path, route, status: res.statusCode, ms: Math.round(seconds * 1000), merchant: merchant?.id });
    });
    next();
  });

  // CORS: the web wallet may live on another origin. No cookies are ever used (keys travel in Authorization), so "*" is safe.
  app.use((req, res, next) => {
    const origin = req.get("origin");
    if (origin !== undefined) {
      const allowed = ctx.corsOrigins === "*" ? "*" : ctx.corsOrigins.includes(origin) ? origin : undefined;
      if (ctx.corsOrigins !== "*") res.vary("origin");
      if (allowed !== undefined) {
        res.set("access-control-allow-origin", allowed);
        res.set("access-control-expose-headers", "x-request-id, retry-after, www-authenticate");
        if (req.method === "OPTIONS") {
          res.set("access-control-allow-methods", CORS_METHODS);
          res.set("access-control-allow-headers", CORS_HEADERS);
          res.set("access-control-max-age", "600");
          res.status(204).end();
          return;
        }
      } else if (req.method === "OPTIONS") {
        throw new ApiError(403, "cors_forbidden", "this origin is not allowed (see the node's --cors-origins)");
      }
    }
    next();
  });

  const perKey = new RateLimiter({ perSecond: ctx.rateLimitPerKey });
  const perIp = new RateLimiter({ perSecond: ctx.rateLimitPerIp });
  app.use(async (req, res, next) => {
    if (UNLIMITED.has(req.path)) {
      next();
      return;
    }
    // Only a valid key gets its own bucket: random keys must not escape the IP's.
    const merchant = ctx.rateLimitPerKey > 0 ? await merchantOf(req, res, ctx.merchants) : undefined;
    const wait = merchant ? perKey.take(`m:${merchant.id}`) : perIp.take(`ip:${req.socket.remoteAddress ?? "?"}`);
    if (wait > 0) {
      res.set("retry-after", wait.toString());
      throw new ApiError(429, "rate_limited", `too many requests ${merchant ? "for this API key" : "from this address"}; retry after ${wait.toString()} s`);
    }
    next();
  });

  const endpoint = (path: string, methods: Partial<Record<"get" | "post", Handler[]>>): void => {
    mountEndpoint(app, path, methods);
  };
  const query = onlyQuery;

  /** A GET endpoint that takes the query parameters `allowedParams` and no others. */
  const route = (path: string, allowedParams: readonly string[], handler: Handler): void => {
    endpoint(path, { get: [query(allowedParams), handler] });
  };

  /** The relayer, or 403 relayer_disabled when this node has none. */
  const relayer = (): Relayer => {
    if (!ctx.relayer) {
      throw new ApiError(403, "relayer_disabled", "this node runs without a relayer key (ORIOLE_RELAYER_KEY): it does not relay payment intents");
    }
    return ctx.relayer;
  };
  /** Runs a relayer call; its refusals (OrioleError with a relayer code) become their 4xx. */
  const relayed = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (isOrioleError(e) && isRelayerErrorCode(e.code)) throw new ApiError(RELAYER_ERROR_STATUS[e.code], e.code, e.message);
      throw e;
    }
  };

  route("/healthz", [], (_req, res) => {
    res.json({ status: "ok" });
  });

  route("/readyz", [], (_req, res) => {
    const s = ctx.status();
    const status = s.failure ? "failed" : s.caughtUp ? "ready" : "catching_up";
    res.status(status === "ready" ? 200 : 503).json({ status, indexedBlock: s.indexedBlock, headBlock: s.headBlock });
  });

  route("/openapi.json", [], (_req, res) => {
    res.json(openapi);
  });

  const docsHtml = renderDocs(openapi);
  route("/docs", [], (_req, res) => {
    res.set("content-security-policy", DOCS_CSP);
    res.set("x-content-type-options", "nosniff");
    res.type("html").send(docsHtml);
  });

  route("/metrics", [], async (_req, res) => {
    const s = ctx.status();
    const webhooks = ctx.notify ? await ctx.notify.webhooks.metrics() : { outcomes: { delivered: 0, retry: 0, failed: 0, cancelled: 0 }, queueDepth: 0 };
    const text = [
      scalar("oriole_indexed_block", "gauge", "Last block whose effects are committed.", s.indexedBlock),
      scalar("oriole_head_block", "gauge", "Chain head as last seen (0 before the first poll).", s.headBlock ?? 0),
      scalar("oriole_indexer_lag_blocks", "gauge", "Head minus indexed block.", s.headBlock === null ? 0 : Math.max(0, s.headBlock - s.indexedBlock)),
      scalar("oriole_reorgs_total", "counter", "Chain reorganisations the indexer rolled back.", s.reorgs),
      scalar("oriole_indexer_failed", "gauge", "1 when the indexer stopped on an error it cannot retry.", s.failure ? 1 : 0),
      scalar("oriole_head_subscription_up", "gauge", "1 while a WebSocket new-heads subscription wakes the indexer between polls.", s.headSubscription ? 1 : 0),
      scalar("oriole_relayer_queue_length", "gauge", "Payment intents queued by the relayer, not yet sent.", ctx.relayer?.queued ?? 0),
      scalar("oriole_relayer_unfunded", "gauge", "1 while the relayer's broadcasts are refused for too little ETH for gas (intents wait): fund its address.", ctx.relayer?.unfunded === true ? 1 : 0),
      scalar("oriole_sse_clients", "gauge", "Server-Sent Events streams open.", ctx.notify?.hub.subscribers ?? 0),
      labelled(
        "oriole_webhook_deliveries_total",
        "counter",
        "Webhook delivery attempts since start by outcome: delivered (2xx), retry (failed, retried later), failed (failed for good), cancelled (webhook deleted).",
        "outcome",
        webhooks.outcomes,
      ),
      scalar("oriole_webhook_queue_depth", "gauge", "Webhook deliveries waiting for an attempt (pending).", webhooks.queueDepth),
      latency.render("oriole_http_request_duration_seconds", "API request latency by route, method and status."),
      labelled(
        "oriole_event_loop_delay_seconds",
        "gauge",
        "Event loop delay since start (sampled every 5 ms), by quantile: time ready work waited for the JS thread.",
        "quantile",
        Object.fromEntries([0.5, 0.99, 0.999, 1].map((q) => [String(q), loopDelay.count > 0 ? loopDelay.percentile(q * 100) / 1e9 : 0])),
      ),
    ].join("\n");
    res.type("text/plain; version=0.0.4; charset=utf-8").send(`${text}\n`);
  });

  // Merchants. The admin creates them; a merchant's key reads only its own.
  endpoint("/v1/merchants", {
    post: [
      query([]),
      requireAdmin(ctx.adminToken, ctx.merchants),
      jsonBody,
      async (req, res) => {
        const input = parseNewMerchant(await readJsonBody(req, MAX_BODY_BYTES));
        const { merchant, apiKey } = await ctx.merchants.create(input);
        log.info("merchant created", { requestId: res.locals.requestId, merchant: merchant.id });
        res.status(201).json({ merchant: publicMerchant(merchant), apiKey });
      },
    ],
    get: [
      query(["limit", "cursor"]),
      requireAdmin(ctx.adminToken, ctx.merchants),
      async (req, res) => {
        const limit = parseLimit(req.query.limit);
        const after = merchantCursor.parse(req.query.cursor);
        const page = await ctx.merchants.list({ limit, ...(after === undefined ? {} : { after }) });
        res.json({ items: page.items.map(publicMerchant), nextCursor: page.next === null ? null : merchantCursor.encode(page.next) });
      },
    ],
  });

  endpoint("/v1/merchants/me", {
    get: [
      query([]),
      requireMerchant(ctx.merchants),
      (_req, res) => {
        res.json(publicMerchant(res.locals.merchant as Merchant));
      },
    ],
  });

  endpoint("/v1/merchants/:id", {
    get: [
      query([]),
      requireAdminOrMerchant(ctx.adminToken, ctx.merchants),
      async (req, res) => {
        const id = parseId("merchant", req.params.id);
        const self = res.locals.merchant as Merchant | null | undefined;
        // A merchant learns nothing about others, not even whether the id exists.
        if (res.locals.admin !== true && self?.id !== id) throw new ApiError(403, "forbidden", "this API key belongs to another merchant");
        const m = await ctx.merchants.get(id);
        if (!m) throw new ApiError(404, "merchant_not_found", `no merchant ${id}`);
        res.json(publicMerchant(m));
      },
    ],
  });

  route("/v1/network", [], (_req, res) => {
    const s = ctx.status();
    res.json({
      chainId: ctx.chainId,
      blockNumber: s.headBlock ?? s.indexedBlock,
      indexedBlock: s.indexedBlock,
      contracts: { tokens: ctx.tokens, accounts: ctx.accounts, escrow: ctx.escrowAddress, offlineVault: ctx.offlineVaultAddress },
      relayer: ctx.relayer ? ctx.relayer.info : null,
      ...(ctx.escrows ? { escrowRelayer: ctx.escrows.relayerAddress === null ? null : { address: ctx.escrows.relayerAddress } } : {}),
    });
  });

  endpoint("/v1/intents", {
    post: [
      jsonBody,
      query([]),
      async (req, res) => {
        const body = await readJsonBody(req, MAX_BODY_BYTES);
        const result = await relayed(() => relayer().submit(body));
        res.status(result.created ? 202 : 200).json(result.intent);
      },
    ],
  });

  route("/v1/intents/:id", [], async (req, res) => {
    const id = parseId("intent", req.params.id);
    const intent = await relayed(() => relayer().get(id));
    if (!intent) throw new ApiError(404, "intent_not_found", `no intent ${id} (ids are the intent's EIP-712 digest)`);
    res.json(intent);
  });

  route("/v1/accounts/:address/next-nonce", [], async (req, res) => {
    const address = parseAddress(req.params.address);
    const nonce = await relayed(() => relayer().nextNonce(address));
    res.json({ nonce: nonce.toString() });
  });

  route("/v1/accounts/:address/balances", [], async (req, res) => {
    const address = parseAddress(req.params.address);
    const body = await ctx.store.read(async (r) => {
      const [cursor, balances] = await Promise.all([r.cursor(), r.balances(address.toLowerCase())]);
      return {
        address,
        indexedBlock: cursor?.blockNumber ?? ctx.baseBlock,
        balances: Object.fromEntries(CURRENCIES.map((c) => [c, balances[c].toString()])),
      };
    });
    res.json(body);
  });

  route("/v1/accounts/:address/payments", ["limit", "cursor"], async (req, res) => {
    const address = parseAddress(req.params.address);
    const limit = parseLimit(req.query.limit);
    const before = parseCursor(req.query.cursor);
    const { refunds } = ctx;
    const page = await ctx.store.read(async (r) => {
      const p = await r.payments(address.toLowerCase(), { limit, before });
      // Refund links are joined here, at read time: the indexer never looks at refunds.
      return refunds ? { items: await refunds.annotate(r, p.items), next: p.next } : p;
    });
    res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  route("/v1/payments", ["reference", "limit", "cursor"], async (req, res) => {
    const reference = parseReference(req.query.reference);
    const limit = parseLimit(req.query.limit);
    const before = parseCursor(req.query.cursor);
    const page = await ctx.store.read((r) => r.paymentsByReference(reference, { limit, before }));
    res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  if (ctx.notify) mountNotifyRoutes(app, { ...ctx.notify, merchants: ctx.merchants, readJson: (req) => readJsonBody(req, MAX_BODY_BYTES) });

  if (ctx.invoices) mountInvoiceRoutes(app, { invoices: ctx.invoices, merchants: ctx.merchants, store: ctx.store, chainId: ctx.chainId, tokens: ctx.tokens, readJson: (req) => readJsonBody(req, MAX_BODY_BYTES) });
  if (ctx.refunds) {
    mountRefundRoutes(app, { refunds: ctx.refunds, merchants: ctx.merchants, readJson: (req) => readJsonBody(req, MAX_BODY_BYTES) });
    mountReportRoutes(app, { store: ctx.store, refunds: ctx.refunds.refunds, merchants: ctx.merchants });
  }
  if (ctx.escrows) mountEscrowRoutes(app, { escrows: ctx.escrows, readJson: (req) => readJsonBody(req, MAX_BODY_BYTES) });
  if (ctx.offline) mountOfflineRoutes(app, { offline: ctx.offline, readJson: (req) => readJsonBody(req, MAX_BODY_BYTES) });

  if (ctx.web) app.use(webAppsRouter(ctx.web));

  app.use((req) => {
    throw new ApiError(404, "not_found", `no endpoint ${req.method} ${req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path}; see /openapi.json`);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = String(res.locals.requestId ?? "");
    let status: number;
    let code: string;
    let message: string;
    if (err instanceof ApiError) {
      ({ status, code, message } = err);
    } else if (clientErrorStatus(err) !== undefined) {
      status = clientErrorStatus(err) ?? 400;
      code = "bad_request";
      message = err instanceof Error && (err as { expose?: unknown }).expose !== false ? err.message : "bad request";
    } else {
      status = 500;
      code = "internal_error";
      message = `internal error (request ${requestId})`;
      log.error("request failed", { requestId, method: req.method, path: req.path, error: err });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 405 && !res.get("allow")) res.set("allow", req.path === "/v1/intents" ? "POST" : "GET, HEAD");
    res.status(status).json({ error: { ...errorBody(code, message).error, requestId } });
  });

  return app;
}

const MAX_BODY_BYTES = 16 * 1024;

/** How much of an oversized body is read and dropped so the client gets its 413 rather than a reset connection. */
const MAX_DRAIN_BYTES = 4 * 1024 * 1024;

/** Reads and parses a JSON request body of at most `limit` bytes; 400/413 invalid_request otherwise. */
async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const tooLarge = (): ApiError => new ApiError(413, "invalid_request", `the body is larger than ${(limit / 1024).toString()} kB`);
  const declared = Number(req.get("content-length") ?? "0");
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (e: ApiError): void => {
      failed = true;
      reject(e);
    };
    if (declared > limit) fail(tooLarge());
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (failed) {
        // Drop the rest (the answer is already on its way); a client that keeps sending is cut off.
        if (size > limit + MAX_DRAIN_BYTES) req.destroy();
        return;
      }
      if (size > limit) fail(tooLarge());
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (e) => {
      if (!failed) fail(new ApiError(400, "invalid_request", `the body could not be read: ${e.message}`));
    });
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ApiError(400, "invalid_request", `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** The 4xx status of an error thrown by express or its parsers (bad URL encoding, …), if it has one. */
function clientErrorStatus(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const { status, statusCode } = e as { status?: unknown; statusCode?: unknown };
  const value = typeof status === "number" ? status : statusCode;
  return typeof value === "number" && value >= 400 && value < 500 ? value : undefined;
}

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `app` on host:port (0 = any free port) and resolves once listening. */
export async function listen(app: express.Express, opts: { host: string; port: number }): Promise<HttpServer> {
  const server = http.createServer(app);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => {
          if (e) reject(e);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
