import type express from "express";
import type { Request } from "express";
import { endpoint, jsonBody, onlyQuery } from "../api/endpoint.ts";
import { ApiError } from "../api/errors.ts";
import { parseAddress, parseId } from "../api/params.ts";
import { sendRecord } from "../api/relayedCalls.ts";
import type { OfflineService } from "./offlineService.ts";

export interface OfflineRouteDeps {
  offline: OfflineService;
  /** Reads a bounded JSON body (the API's reader). */
  readJson: (req: Request) => Promise<unknown>;
}

/**
 * GET /v1/offline/reserves/{address},
 * POST /v1/offline/reservations, GET /v1/offline/reservations/{id},
 * POST /v1/offline/withdrawals, POST /v1/offline/withdrawals/complete,
 * GET /v1/offline/withdrawals/{id} (a request or a completion).
 */
export function mountOfflineRoutes(app: express.Express, deps: OfflineRouteDeps): void {
  const { offline } = deps;
  endpoint(app, "/v1/offline/reserves/:address", {
    get: [
      onlyQuery([]),
      async (req, res) => {
        res.json(await offline.reserves(parseAddress(req.params.address)));
      },
    ],
  });
  endpoint(app, "/v1/offline/reservations", {
    post: [onlyQuery([]), jsonBody, async (req, res) => { sendRecord(res, await offline.reserve(await deps.readJson(req))); }],
  });
  endpoint(app, "/v1/offline/reservations/:id", {
    get: [
      onlyQuery([]),
      async (req, res) => {
        const id = parseId("call", req.params.id);
        const record = await offline.record(id, ["offline_reserve"]);
        if (!record) throw new ApiError(404, "reservation_not_found", `no relayed offline reserve ${id}`);
        res.json(record);
      },
    ],
  });
  endpoint(app, "/v1/offline/withdrawals", {
    post: [onlyQuery([]), jsonBody, async (req, res) => { sendRecord(res, await offline.requestWithdrawal(await deps.readJson(req))); }],
  });
  // Before /v1/offline/withdrawals/:id, so that "complete" is this endpoint and not an id.
  endpoint(app, "/v1/offline/withdrawals/complete", {
    post: [onlyQuery([]), jsonBody, async (req, res) => { sendRecord(res, await offline.completeWithdrawal(await deps.readJson(req))); }],
  });
  endpoint(app, "/v1/offline/withdrawals/:id", {
    get: [
      onlyQuery([]),
      async (req, res) => {
        const id = parseId("call", req.params.id);
        const record = await offline.record(id, ["offline_withdrawal_request", "offline_withdrawal"]);
        if (!record) throw new ApiError(404, "withdrawal_not_found", `no relayed offline withdrawal ${id}`);
        res.json(record);
      },
    ],
  });
}
