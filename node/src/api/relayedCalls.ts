import type { Response } from "express";
import type { RelayedCallRecordJson } from "../../../client/sdk/relayedCalls.ts";
import { ApiError } from "./errors.ts";

/** Route helpers of the relayed calls (escrow fundings, offline reserves and withdrawals). */

/** A relayed call's answer: 200 once mined, 202 while submitted, 422 transaction_reverted if it failed on-chain. */
export function sendRecord(res: Response, record: RelayedCallRecordJson): void {
  if (record.status === "failed") throw new ApiError(422, record.error?.code ?? "transaction_reverted", `${record.error?.message ?? "the call failed"} (record ${record.id})`);
  res.status(record.status === "mined" ? 200 : 202).json(record);
}
