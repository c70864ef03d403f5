import { intentSubmissionSchema, type IntentSubmission } from "../../../client/sdk/account/relayerApi.ts";
import type { OrioleError } from "../../../client/sdk/errors.ts";
import { relayerError } from "./errors.ts";
import type { z } from "zod";

export type { IntentSubmission };
export type AccountDeployment = NonNullable<IntentSubmission["deployment"]>;

/** Largest passkey signature accepted: a real one is ~300 bytes; the bound keeps calldata small. */
export const MAX_SIGNATURE_BYTES = 2048;

/**
 * Parses a POST /v1/intents body with the SDK's wire schema (unknown fields
 * refused at every level).
 * @throws OrioleError `invalid_request` naming the first bad field.
 */
export function parseSubmission(body: unknown): IntentSubmission {
  const r = intentSubmissionSchema.safeParse(body);
  if (!r.success) throw invalidRequest(r.error);
  const s = r.data;
  if (s.signature.length > 2 + 2 * MAX_SIGNATURE_BYTES) throw relayerError("invalid_request", `signature: longer than ${MAX_SIGNATURE_BYTES} bytes`);
  if (s.intent.amount === 0n) throw relayerError("invalid_request", "intent.amount: must be positive");
  return { ...s, signature: s.signature.toLowerCase() };
}

function invalidRequest(error: z.ZodError): OrioleError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  const what = issue?.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : (issue?.message ?? "invalid");
  return relayerError("invalid_request", `invalid intent submission: ${where}${what}`, { path: issue?.path.join(".") ?? "" });
}
