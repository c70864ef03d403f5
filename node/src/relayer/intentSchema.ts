import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { paymentIntentJsonSchema, type PaymentIntent } from "../../../client/sdk/account/intent.ts";
import { relayerError } from "./errors.ts";
import type { OrioleError } from "../../../client/sdk/errors.ts";

/** Largest passkey signature accepted: a real one is ~300 bytes; the bound keeps requests and calldata small. */
export const MAX_SIGNATURE_BYTES = 2048;

const UINT256_MAX = (1n << 256n) - 1n;

const address = z
  .string()
  .refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s) && isAddress(s), "not an address (0x and 40 hex digits, valid checksum if mixed case)")
  .transform((s) => getAddress(s));

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "not a 32-byte 0x-hex value")
  .transform((s) => s.toLowerCase());

const uint256 = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "not a non-negative integer in decimal digits")
  .transform((s) => BigInt(s))
  .refine((v) => v <= UINT256_MAX, "too large for uint256");

const signature = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2})*$/, "not 0x-hex bytes")
  .max(2 + 2 * MAX_SIGNATURE_BYTES, `longer than ${MAX_SIGNATURE_BYTES} bytes`)
  .transform((s) => s.toLowerCase());

/** The counterfactual account's creation parameters, for an account's first payment. */
export interface AccountDeployment {
  qx: string;
  qy: string;
  salt: bigint;
}

const deploymentSchema = z.strictObject({ qx: bytes32, qy: bytes32, salt: uint256 });

/** POST /v1/intents body. Unknown fields are refused at every level. */
export const submitIntentSchema = z.strictObject({
  account: address,
  intent: paymentIntentJsonSchema,
  signature,
  deployment: deploymentSchema.optional(),
});

export interface IntentSubmission {
  account: string;
  intent: PaymentIntent;
  signature: string;
  deployment?: AccountDeployment | undefined;
}

/**
 * Parses a submitted intent.
 * @throws OrioleError `invalid_request` naming the first bad field.
 */
export function parseSubmission(body: unknown): IntentSubmission {
  const r = submitIntentSchema.safeParse(body);
  if (!r.success) throw invalidRequest(r.error);
  if (r.data.intent.amount === 0n) throw relayerError("invalid_request", "intent.amount must be positive");
  return r.data;
}

function invalidRequest(error: z.ZodError): OrioleError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  const what = issue?.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : (issue?.message ?? "invalid");
  return relayerError("invalid_request", `invalid intent submission: ${where}${what}`, { path: issue?.path.join(".") ?? "" });
}
