import type express from "express";
import type { Request } from "express";
import { requireMerchant } from "../api/auth.ts";
import { endpoint, jsonBody, onlyQuery, type Handler } from "../api/endpoint.ts";
import { parseId, parseIdempotencyKey, parseLimit } from "../api/params.ts";
import type { Merchant, MerchantStore } from "../merchants/merchantStore.ts";
import { parseNewRefund, refundCursor, type RefundService, type RefundView } from "./refunds.ts";

export interface RefundRouteDeps {
  refunds: RefundService;
  merchants: MerchantStore;
  /** Reads a bounded JSON body (the API's reader). */
  readJson: (req: Request) => Promise<unknown>;
}

/** POST|GET /v1/refunds, GET /v1/refunds/{id} and POST /v1/refunds/{id}/cancel: merchant-authenticated. */
export function mountRefundRoutes(app: express.Express, deps: RefundRouteDeps): void {
  const auth = requireMerchant(deps.merchants);
  endpoint(app, "/v1/refunds", {
    post: [
      onlyQuery([]),
      auth,
      jsonBody,
      async (req, res) => {
        const key = parseIdempotencyKey(req, "refund");
        const input = parseNewRefund(await deps.readJson(req));
        const { refund, created } = await deps.refunds.create(res.locals.merchant as Merchant, input, key);
        res.status(created ? 201 : 200).json(refund);
      },
    ],
    get: [
      onlyQuery(["limit", "cursor"]),
      auth,
      async (req, res) => {
        const limit = parseLimit(req.query.limit);
        const before = refundCursor.parse(req.query.cursor);
        const page = await deps.refunds.list(res.locals.merchant as Merchant, { limit, before });
        res.json({ items: page.items, nextCursor: page.next === null ? null : refundCursor.encode(page.next) });
      },
    ],
  });
  /** The handler chain of a route on one refund, /v1/refunds/:id…: answers what `act` returns. */
  const oneRefund = (act: (merchant: Merchant, id: string) => Promise<RefundView>): Handler[] => [
    onlyQuery([]),
    auth,
    async (req, res) => {
      const id = parseId("refund", req.params.id);
      res.json(await act(res.locals.merchant as Merchant, id));
    },
  ];
  endpoint(app, "/v1/refunds/:id", { get: oneRefund((m, id) => deps.refunds.get(m, id)) });
  endpoint(app, "/v1/refunds/:id/cancel", { post: oneRefund((m, id) => deps.refunds.cancel(m, id)) });
}
