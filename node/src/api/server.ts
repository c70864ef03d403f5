import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import type { IndexerStatus } from "../indexer/indexer.ts";
import type { Logger } from "../log.ts";
import type { NodeStore } from "../store/store.ts";
import { ApiError, errorBody } from "./errors.ts";
import { openApiDocument } from "./openapi.ts";
import { checkQueryParams, encodeCursor, parseAddress, parseCursor, parseLimit, parseReference } from "./params.ts";
import { webAppsRouter, type WebApps } from "./webApps.ts";

/** What the API reads: the store, the indexer's status, and the chain it follows. */
export interface ApiContext {
  chainId: number;
  /** Checksummed token address per currency. */
  tokens: Record<Currency, string>;
  /** Block before the deployment: what `indexedBlock` is before the first commit. */
  baseBlock: number;
  store: NodeStore;
  status: () => IndexerStatus;
  log: Logger;
  version: string;
  /** The bundled browser apps (the wallet at /wallet); absent = API only. */
  web?: WebApps;
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
      contracts: { tokens: ctx.tokens },
    });
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
    if (status === 405) res.set("allow", "GET, HEAD");
    res.status(status).json(errorBody(code, message));
  });

  return app;
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
