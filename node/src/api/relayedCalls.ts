import type { Response } from "express";
import type { RelayedCallRecordJson } from "../../../client/sdk/relayedCalls.ts";
import { ApiError } from "./errors.ts";

/** Route helpers of the relayed calls (escrow fundings, offline reserves and withdrawals). */

/** A relayed call's answer: 200 once mined, 202 while submitted, 422 transaction_reverted if it failed on-chain. */
export function sendRecord(res: Response, record: RelayedCallRecordJson): void {
  if (record.status === "failed") throw new ApiError(422, record.error?.code ?? "transaction_reverted", `${record.error?.message ?? "the call failed"} (record ${record.id})`);
  res.status(record.status === "mined" ? 200 : 202).json(record);
}

/** A relayed call's id path segment: 0x and 64 hex digits; returned lowercase. */
export function parseCallId(value: unknown): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw new ApiError(400, "invalid_call_id", `"${String(value).slice(0, 80)}" is not a relayed call id: 0x followed by 64 hex digits`);
  return value.toLowerCase();
}

