import type express from "express";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireMerchant } from "../api/auth.ts";
import { endpoint, jsonBody, onlyQuery, type Handler } from "../api/endpoint.ts";
import { ApiError } from "../api/errors.ts";
import { invalidCursor, parseAddress, parseBody, parseLimit } from "../api/params.ts";
import type { Merchant, MerchantStore } from "../merchants/merchantStore.ts";
import { concernsAccount, concernsMerchant } from "./events.ts";
import { parseLastEventId, type SseHub } from "./sse.ts";
import type { WebhookService } from "./webhooks.ts";
import { WEBHOOK_TARGET_FORBIDDEN, WEBHOOK_TARGET_UNRESOLVABLE } from "./webhookTarget.ts";
import { isOrioleError } from "../../../client/sdk/errors.ts";

/** The notification services the API serves. */
export interface NotifyServices {
  hub: SseHub;
  webhooks: WebhookService;
}

export interface NotifyRouteDeps extends NotifyServices {
  merchants: MerchantStore;
  /** Reads a bounded JSON body (the API's reader). */
  readJson: (req: Request) => Promise<unknown>;
}


const webhookSchema = z.strictObject({
  url: z
    .string()
    .max(2048, "must be at most 2048 characters")
    // Why: new URL() silently drops tabs, newlines and surrounding spaces, so such a string passed and was stored (and shown) as sent.
    .refine((s) => !/[\s\p{Cc}]/u.test(s), "must not contain spaces or control characters")
    .refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
      } catch {
        return false;
      }
    }, "must be an absolute http(s) URL"),
});

/** A deliveries cursor: the seq of the last delivery served, as decimal. */
function parseSeqCursor(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalidCursor();
  return Number(value);
}

function lastEventId(req: Request): number | undefined {
  const after = parseLastEventId(req.headers["last-event-id"]);
  if (after === null) throw new ApiError(400, "invalid_last_event_id", "Last-Event-ID must be the id of an event this node sent (a decimal sequence number)");
  return after;
}

/**
 * GET /v1/accounts/{address}/events, GET /v1/merchants/me/events (SSE),
 * PUT|GET|DELETE /v1/merchants/me/webhook and GET /v1/merchants/me/webhook/deliveries.
 */
export function mountNotifyRoutes(app: express.Express, deps: NotifyRouteDeps): void {
  const only = (path: string, methods: Partial<Record<"get" | "put" | "delete", Handler[]>>): void => {
    endpoint(app, path, methods);
  };
  const query = onlyQuery;
  const merchant = (res: Response): Merchant => res.locals.merchant as Merchant;

  only("/v1/accounts/:address/events", {
    get: [
      query([]),
      async (req, res) => {
        const address = parseAddress(req.params.address);
        const after = lastEventId(req);
        await deps.hub.subscribe(req, res, { filter: (e) => concernsAccount(e, address), after });
      },
    ],
  });

  only("/v1/merchants/me/events", {
    get: [
      query([]),
      requireMerchant(deps.merchants),
      async (req, res) => {
        const after = lastEventId(req);
        const m = merchant(res);
        await deps.hub.subscribe(req, res, { filter: (e) => concernsMerchant(e, m), after });
      },
    ],
  });

  only("/v1/merchants/me/webhook", {
    get: [
      query([]),
      requireMerchant(deps.merchants),
      async (_req, res) => {
        const config = await deps.webhooks.webhook(merchant(res).id);
        if (!config) throw new ApiError(404, "webhook_not_set", "this merchant has no webhook: PUT /v1/merchants/me/webhook {url}");
        res.json({ url: config.url, updatedAt: config.updatedAt });
      },
    ],
    put: [
      query([]),
      requireMerchant(deps.merchants),
      jsonBody,
      async (req, res) => {
        const { url } = parseBody(webhookSchema, await deps.readJson(req), "{url}", "url");
        // The secret is shown here only: it is what the merchant verifies Oriole-Signature with.
        try {
          res.json(await deps.webhooks.setWebhook(merchant(res).id, url));
        } catch (e) {
          if (isOrioleError(e) && (e.code === WEBHOOK_TARGET_FORBIDDEN || e.code === WEBHOOK_TARGET_UNRESOLVABLE)) throw new ApiError(400, e.code, e.message);
          throw e;
        }
      },
    ],
    delete: [
      query([]),
      requireMerchant(deps.merchants),
      async (_req, res) => {
        // Only the key's own merchant: another merchant's webhook is out of reach (404 like none).
        if (!(await deps.webhooks.deleteWebhook(merchant(res).id))) throw new ApiError(404, "webhook_not_set", "this merchant has no webhook");
        res.status(204).end();
      },
    ],
  });

  only("/v1/merchants/me/webhook/deliveries", {
    get: [
      query(["limit", "cursor"]),
      requireMerchant(deps.merchants),
      async (req, res) => {
        const limit = parseLimit(req.query.limit);
        const before = parseSeqCursor(req.query.cursor);
        const page = await deps.webhooks.deliveries(merchant(res).id, { limit, before });
        res.json({ items: page.items, nextCursor: page.next === null ? null : String(page.next) });
      },
    ],
  });
}
