import { randomUUID } from "node:crypto";
import http from "node:http";
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
import { ApiError, errorBody } from "./errors.ts";
import { openApiDocument } from "./openapi.ts";
import { checkQueryParams, encodeCursor, parseAddress, parseCursor, parseIntentId, parseLimit, parseReference } from "./params.ts";
import { webAppsRouter, type WebApps } from "./webApps.ts";

/** What the API reads: the store, the indexer's status, and the chain it follows. */
export interface ApiContext {
  chainId: number;
  /** Checksummed token address per currency. */
  tokens: Record<Currency, string>;
  /** Passkey account contracts (implementation, factory, relay). */
  accounts: AccountContracts;
  /** The relayer; null when the node runs without a relayer key. */
  relayer: Relayer | null;
  /** Block before the deployment: what `indexedBlock` is before the first commit. */
  baseBlock: number;
  store: NodeStore;
  status: () => IndexerStatus;
  log: Logger;
  version: string;
  /** The browser apps (the wallet at /wallet), bundled or being bundled; absent = API only. */
  web?: WebApps | Promise<WebApps>;
}

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

  app.use((req, res, next) => {
    const incoming = req.get("x-request-id");
    const id = incoming !== undefined && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.set("x-request-id", id);
    res.set("cache-control", "no-store");
    const t0 = performance.now();
    res.on("finish", () => {
      log.debug("request", { requestId: id, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - t0) });
    });
    next();
  });

  const route = (path: string, allowedParams: readonly string[], handler: (req: Request, res: Response) => Promise<void> | void): void => {
    app
      .route(path)
      .get(async (req, res) => {
        checkQueryParams(req.query, allowedParams);
        await handler(req, res);
      })
      .all((req) => {
        throw new ApiError(405, "method_not_allowed", `${req.method} is not allowed here; use GET`);
      });
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

  route("/v1/network", [], (_req, res) => {
    const s = ctx.status();
    res.json({
      chainId: ctx.chainId,
      blockNumber: s.headBlock ?? s.indexedBlock,
      indexedBlock: s.indexedBlock,
      contracts: { tokens: ctx.tokens, accounts: ctx.accounts },
      relayer: ctx.relayer ? ctx.relayer.info : null,
    });
  });

  app
    .route("/v1/intents")
    .post(
      (req, _res, next) => {
        if (!req.is("application/json")) throw new ApiError(400, "invalid_request", "the body must be JSON (content-type: application/json)");
        checkQueryParams(req.query, []);
        next();
      },
      async (req, res) => {
        const body = await readJsonBody(req, MAX_BODY_BYTES);
        const result = await relayed(() => relayer().submit(body));
        res.status(result.created ? 202 : 200).json(result.intent);
      },
    )
    .all((req) => {
      throw new ApiError(405, "method_not_allowed", `${req.method} is not allowed here; use POST`);
    });

  route("/v1/intents/:id", [], async (req, res) => {
    const id = parseIntentId(req.params.id);
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
    const page = await ctx.store.read((r) => r.payments(address.toLowerCase(), { limit, before }));
    res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  route("/v1/payments", ["reference", "limit", "cursor"], async (req, res) => {
    const reference = parseReference(req.query.reference);
    const limit = parseLimit(req.query.limit);
    const before = parseCursor(req.query.cursor);
    const page = await ctx.store.read((r) => r.paymentsByReference(reference, { limit, before }));
    res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

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
    if (status === 405) res.set("allow", req.path === "/v1/intents" ? "POST" : "GET, HEAD");
    res.status(status).json(errorBody(code, message));
  });

  return app;
}

const MAX_BODY_BYTES = 16 * 1024;

/** Reads and parses a JSON request body of at most `limit` bytes; 400/413 invalid_request otherwise. */
async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, "invalid_request", `the body is larger than ${limit / 1024} kB`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
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
