import type { Request } from "express";
import { getAddress } from "ethers";
import { z } from "zod";
import { MAX_BLOCK, MAX_LOG_INDEX, type LogPosition } from "../store/keys.ts";
import { ApiError } from "./errors.ts";

/**
 * Input validation for the API: every path, query and body value goes
 * through a zod schema and fails as a 400 with a stable code.
 */

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be 0x followed by 40 hex digits")
  .transform((s, ctx) => {
    try {
      return getAddress(s);
    } catch {
      ctx.addIssue({ code: "custom", message: "has a wrong EIP-55 checksum (mixed case must be the checksummed form)" });
      return z.NEVER;
    }
  });

/** A 0x address, in lower, upper or correct checksum case; returns its checksummed form. */
export function parseAddress(value: unknown): string {
  if (typeof value !== "string") throw new ApiError(400, "invalid_address", "the address must be one path segment");
  const r = addressSchema.safeParse(value);
  if (!r.success) {
    throw new ApiError(400, "invalid_address", `"${clip(value)}" is not a valid address: ${r.error.issues[0]?.message ?? "invalid"}`);
  }
  return r.data;
}

const referenceSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits (a bytes32)")
  .transform((s) => s.toLowerCase());

/** A payment reference (bytes32 as 0x and 64 hex digits, any case); returns it lowercase. Required. */
export function parseReference(value: unknown): string {
  if (value === undefined) throw new ApiError(400, "invalid_reference", "reference is required: 0x followed by 64 hex digits");
  if (typeof value !== "string") throw new ApiError(400, "invalid_reference", "reference must be given once");
  const r = referenceSchema.safeParse(value);
  if (!r.success) throw new ApiError(400, "invalid_reference", `reference "${clip(value)}" ${r.error.issues[0]?.message ?? "is invalid"}`);
  return r.data;
}

/** An intent id: its EIP-712 digest, 0x and 64 hex digits, any case; returned lowercase. */
export function parseIntentId(value: unknown): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new ApiError(400, "invalid_request", `"${clip(String(value))}" is not an intent id: 0x followed by 64 hex digits`);
  }
  return value.toLowerCase();
}

const limitSchema = z
  .string()
  .regex(/^\d{1,3}$/, `must be a whole number from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .pipe(z.number().int().min(1, `must be at least 1`).max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`));

export function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (typeof value !== "string") throw new ApiError(400, "invalid_limit", "limit must be given once");
  const r = limitSchema.safeParse(value);
  if (!r.success) throw new ApiError(400, "invalid_limit", `limit "${clip(value)}" ${r.error.issues[0]?.message ?? "is invalid"}`);
  return r.data;
}

const CURSOR_PREFIX = "p1";
const cursorText = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "malformed")
  .transform((s, ctx) => {
    const text = Buffer.from(s, "base64url").toString("utf8");
    const m = /^p1:(0|[1-9]\d{0,11}):(0|[1-9]\d{0,7})$/.exec(text);
    // Only the canonical encoding is accepted, so each position has one cursor.
    if (!m || Buffer.from(text, "utf8").toString("base64url") !== s) {
      ctx.addIssue({ code: "custom", message: "malformed" });
      return z.NEVER;
    }
    return { blockNumber: Number(m[1]), logIndex: Number(m[2]) };
  })
  .pipe(z.object({ blockNumber: z.number().int().min(0).max(MAX_BLOCK), logIndex: z.number().int().min(0).max(MAX_LOG_INDEX) }));

/** An opaque page cursor: base64url of the position of the last item served. */
export function encodeCursor(p: LogPosition): string {
  return Buffer.from(`${CURSOR_PREFIX}:${p.blockNumber}:${p.logIndex}`, "utf8").toString("base64url");
}

export function parseCursor(value: unknown): LogPosition | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ApiError(400, "invalid_cursor", "cursor must be given once");
  const r = cursorText.safeParse(value);
  if (!r.success) throw new ApiError(400, "invalid_cursor", "cursor is not one this node issued: pass nextCursor from a previous page as is");
  return r.data;
}

/** Rejects query parameters an endpoint does not define. */
export function checkQueryParams(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) {
      const hint = allowed.length > 0 ? `; allowed: ${allowed.join(", ")}` : "; this endpoint takes none";
      throw new ApiError(400, "unknown_parameter", `unknown query parameter "${clip(key)}"${hint}`);
    }
  }
}

/** Echoes user input in messages without letting it grow unbounded. */
function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Refuses a request body that is not JSON by its content type: 400 invalid_request (the body is read and parsed later). */
export function checkJsonContentType(req: Pick<Request, "is">): void {
  if (!req.is("application/json")) throw new ApiError(400, "invalid_request", "the body must be JSON (content-type: application/json)");
}

/**
 * Parses a JSON body with a strict zod schema.
 * @param shape the object's fields, e.g. "{url, secret?}" (said when the body is not such an object)
 * @param allowed the body's fields, named when an unknown one is refused
 * @throws ApiError 400 `unknown_field` for a field the schema does not define, `invalid_request` naming the field at fault
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, shape: string, allowed?: string): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new ApiError(400, "unknown_field", `unknown field ${issue.keys.map((k) => `"${clip(k, 40)}"`).join(", ")}${allowed === undefined ? "" : `; allowed: ${allowed}`}`);
  }
  const field = issue?.path.join(".") ?? "";
  throw new ApiError(400, "invalid_request", field === "" ? `the body must be a JSON object ${shape}` : `${field} ${issue?.message ?? "is invalid"}`);
}

/** A merchant id: "mer_" and 16 hex digits. */
export function parseMerchantId(value: unknown): string {
  if (typeof value !== "string" || !/^mer_[0-9a-f]{16}$/.test(value)) {
    throw new ApiError(400, "invalid_merchant_id", `"${clip(String(value))}" is not a merchant id: mer_ followed by 16 hex digits`);
  }
  return value;
}

/** The merchants list's cursor: base64url of "m1:<id of the last merchant served>". */
export function encodeMerchantCursor(id: string): string {
  return Buffer.from(`m1:${id}`, "utf8").toString("base64url");
}

export function parseMerchantCursor(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const bad = new ApiError(400, "invalid_cursor", "cursor is not one this node issued: pass nextCursor from a previous page as is");
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw bad;
  const text = Buffer.from(value, "base64url").toString("utf8");
  const m = /^m1:(mer_[0-9a-f]{16})$/.exec(text);
  if (!m?.[1] || encodeMerchantCursor(m[1]) !== value) throw bad;
  return m[1];
}

const newMerchantSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .refine((s) => !/\p{Cc}/u.test(s), "must not contain control characters"),
  payout: z.string(),
});

/** The body of POST /v1/merchants: {name, payout}, nothing else. */
export function parseNewMerchant(body: unknown): { name: string; payout: string } {
  const { name, payout } = parseBody(newMerchantSchema, body, "{name, payout}", "name, payout");
  return { name, payout: parseAddress(payout) };
}
