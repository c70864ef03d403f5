import type { Request } from "express";
import { getAddress } from "ethers";
import { z } from "zod";
import { INVOICE_ID_RE } from "../invoices/invoiceStore.ts";
import { MERCHANT_ID_RE } from "../merchants/merchantStore.ts";
import { REFUND_ID_RE } from "../refunds/refundStore.ts";
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

const HEX32_RE = /^0x[0-9a-fA-F]{64}$/;
const HEX32 = "0x followed by 64 hex digits";

/** The ids of the API's resources: their form, and the stable code a malformed one is refused with. */
const IDS = {
  /** A payment intent's EIP-712 digest (the relayer's code for any bad input). */
  intent: { re: HEX32_RE, name: "an intent id", form: HEX32, code: "invalid_request" },
  /** A relayed call's EIP-712 digest (escrow funding, offline reserve or withdrawal). */
  call: { re: HEX32_RE, name: "a relayed call id", form: HEX32, code: "invalid_call_id" },
  escrow: { re: HEX32_RE, name: "an escrow id", form: HEX32, code: "invalid_escrow_id" },
  merchant: { re: MERCHANT_ID_RE, name: "a merchant id", form: "mer_ followed by 16 hex digits", code: "invalid_merchant_id" },
  invoice: { re: INVOICE_ID_RE, name: "an invoice id", form: "inv_ followed by 16 hex digits", code: "invalid_invoice_id" },
  refund: { re: REFUND_ID_RE, name: "a refund id", form: "rfd_ followed by 16 hex digits", code: "invalid_refund_id" },
} as const;

export type IdKind = keyof typeof IDS;

/** A resource id (a path segment) of the given kind; hex ids in any case, returned lowercase. 400 with the kind's code otherwise. */
export function parseId(kind: IdKind, value: unknown): string {
  const id = IDS[kind];
  if (typeof value !== "string" || !id.re.test(value)) throw new ApiError(400, id.code, `"${clip(String(value))}" is not ${id.name}: ${id.form}`);
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

/**
 * A list's page cursor: base64url of "<version>:<key of the last item
 * served>". Only the canonical encoding of a key of the list's form is
 * accepted, so each position has one cursor and one list's cursor is never
 * another's.
 */
export class ListCursor {
  readonly #version: string;
  readonly #key: RegExp;

  /** `key` matches a whole key of this list (anchored). */
  constructor(version: string, key: RegExp) {
    this.#version = version;
    this.#key = key;
  }

  encode(key: string): string {
    return Buffer.from(`${this.#version}:${key}`, "utf8").toString("base64url");
  }

  /** The key a cursor stands for; undefined without one; 400 invalid_cursor for one this node did not issue for this list. */
  parse(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw new ApiError(400, "invalid_cursor", "cursor must be given once");
    const text = /^[A-Za-z0-9_-]{1,128}$/.test(value) ? Buffer.from(value, "base64url").toString("utf8") : "";
    const key = text.startsWith(`${this.#version}:`) ? text.slice(this.#version.length + 1) : "";
    if (!this.#key.test(key) || this.encode(key) !== value) throw invalidCursor();
    return key;
  }
}

/** 400 invalid_cursor: a cursor this node did not issue (for this list). */
export function invalidCursor(): ApiError {
  return new ApiError(400, "invalid_cursor", "cursor is not one this node issued: pass nextCursor from a previous page as is");
}

/** Lists by log position (payments, escrows): "<block>:<log index>". */
const positionCursor = new ListCursor("p1", /^(0|[1-9]\d{0,11}):(0|[1-9]\d{0,7})$/);

/** An opaque page cursor: base64url of the position of the last item served. */
export function encodeCursor(p: LogPosition): string {
  return positionCursor.encode(`${p.blockNumber}:${p.logIndex}`);
}

export function parseCursor(value: unknown): LogPosition | undefined {
  const key = positionCursor.parse(value);
  if (key === undefined) return undefined;
  const [blockNumber, logIndex] = key.split(":").map(Number) as [number, number];
  if (blockNumber > MAX_BLOCK || logIndex > MAX_LOG_INDEX) throw invalidCursor();
  return { blockNumber, logIndex };
}

/** The merchants list: the id of the last merchant served. */
export const merchantCursor = new ListCursor("m1", MERCHANT_ID_RE);

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

/**
 * The Idempotency-Key header of a POST that creates a `thing` ("invoice",
 * "refund"): required (400 idempotency_key_required, also when empty), 1 to
 * 255 printable ASCII characters (400 invalid_idempotency_key). The same key
 * with the same body answers what the first request made (200); with another
 * body, {@link idempotencyConflict}.
 */
export function parseIdempotencyKey(req: Pick<Request, "get">, thing: string): string {
  const key = req.get("idempotency-key");
  if (key === undefined || key === "") throw new ApiError(400, "idempotency_key_required", `creating a ${thing} needs an Idempotency-Key header (e.g. a UUID, one per ${thing}): a retry with the same key answers the same ${thing}`);
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces");
  return key;
}

/** 409 idempotency_conflict: the Idempotency-Key made `thing` `id` with another body. */
export function idempotencyConflict(thing: string, id: string): ApiError {
  return new ApiError(409, "idempotency_conflict", `this Idempotency-Key was used for ${thing} ${id} with another body; use a new key for each new ${thing}`);
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
