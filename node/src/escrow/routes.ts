import type express from "express";
import type { Request } from "express";
import { endpoint, jsonBody, onlyQuery } from "../api/endpoint.ts";
import { sendRecord } from "../api/relayedCalls.ts";
import { ApiError } from "../api/errors.ts";
import { encodeCursor, parseAddress, parseCursor, parseId, parseLimit } from "../api/params.ts";
import type { EscrowService } from "./escrowService.ts";

export interface EscrowRouteDeps {
  escrows: EscrowService;
  /** Reads a bounded JSON body (the API's reader). */
  readJson: (req: Request) => Promise<unknown>;
}

/** POST /v1/escrows/actions, POST /v1/escrows/fundings, GET /v1/escrows/fundings/{id}, GET /v1/escrows/{id}, GET /v1/accounts/{address}/escrows. */
export function mountEscrowRoutes(app: express.Express, deps: EscrowRouteDeps): void {
  // Before /v1/escrows/:id, so that "actions" and "fundings" are these endpoints and not ids.
  endpoint(app, "/v1/escrows/actions", {
    post: [
      onlyQuery([]),
      jsonBody,
      async (req, res) => {
        res.json(await deps.escrows.submit(await deps.readJson(req)));
      },
    ],
  });
  endpoint(app, "/v1/escrows/fundings", {
    post: [
      onlyQuery([]),
      jsonBody,
      async (req, res) => {
        const { record } = await deps.escrows.fund(await deps.readJson(req));
        sendRecord(res, record);
      },
    ],
  });
  endpoint(app, "/v1/escrows/fundings/:id", {
    get: [
      onlyQuery([]),
      async (req, res) => {
        const id = parseId("call", req.params.id);
        const record = await deps.escrows.funding(id);
        if (!record) throw new ApiError(404, "funding_not_found", `no relayed escrow funding ${id}`);
        res.json(record);
      },
    ],
  });
  endpoint(app, "/v1/escrows/:id", {
    get: [
      onlyQuery([]),
      async (req, res) => {
        const id = parseId("escrow", req.params.id);
        const escrow = await deps.escrows.get(id);
        if (!escrow) throw new ApiError(404, "escrow_not_found", `no escrow ${id}`);
        res.json(escrow);
      },
    ],
  });
  endpoint(app, "/v1/accounts/:address/escrows", {
    get: [
      onlyQuery(["limit", "cursor"]),
      async (req, res) => {
        const address = parseAddress(req.params.address);
        const limit = parseLimit(req.query.limit);
        const before = parseCursor(req.query.cursor);
        const page = await deps.escrows.listForAccount(address, { limit, before });
        res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
      },
    ],
  });
}
