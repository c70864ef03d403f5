/**
 * Webhook signatures: `Oriole-Signature: t=<unix seconds>,v1=<hex>` where
 * v1 = HMAC-SHA256(secret, `${t}.${body}`). Receivers recompute it over the
 * raw body and refuse timestamps outside a tolerance, so a captured request
 * cannot be replayed later. This module has no node dependencies beyond
 * node:crypto, so merchants can copy it.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Oriole-Signature";
export const EVENT_ID_HEADER = "Oriole-Event-Id";
/** Default tolerance for receivers: 5 minutes either way. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** A new webhook secret: `whsec_` and 64 hex digits (256 bits). The HMAC key is the whole string. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("hex")}`;
}

/** Hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp.toString()}.${body}`).digest("hex");
}

/** The Oriole-Signature header value for a body sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp.toString()},v1=${computeSignature(secret, timestamp, body)}`;
}

/** The timestamp and v1 signatures of a header; null when malformed. */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/.test(value)) return null;
      signatures.push(value);
    }
    // Other schemes (future versions) are ignored, as receivers should.
  }
  if (timestamp === undefined || signatures.length === 0) return null;
  return { timestamp, signatures };
}

/** True when `timestamp` (unix s) is within `toleranceSec` of `nowSec`, either way. */
export function timestampWithinTolerance(timestamp: number, toleranceSec = DEFAULT_TOLERANCE_SEC, nowSec = Math.floor(Date.now() / 1000)): boolean {
  return Math.abs(nowSec - timestamp) <= toleranceSec;
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; code: "malformed_signature" | "timestamp_out_of_tolerance" | "bad_signature"; message: string };

export interface VerifyInput {
  secret: string;
  /** The raw request body, exactly as received. */
  body: string;
  /** The Oriole-Signature header. */
  header: string | undefined | null;
  toleranceSec?: number;
  /** Unix seconds (tests). */
  nowSec?: number;
}

/**
 * Checks a webhook request: the header parses, its timestamp is within the
 * tolerance, and one of its v1 signatures matches (constant-time).
 */
export function verifySignature(input: VerifyInput): VerifyResult {
  const parsed = input.header ? parseSignatureHeader(input.header) : null;
  if (!parsed) return { ok: false, code: "malformed_signature", message: `missing or malformed ${SIGNATURE_HEADER} header` };
  if (!timestampWithinTolerance(parsed.timestamp, input.toleranceSec, input.nowSec)) {
    return { ok: false, code: "timestamp_out_of_tolerance", message: `timestamp ${parsed.timestamp.toString()} is outside the tolerance (replayed or clock skew)` };
  }
  const expected = Buffer.from(computeSignature(input.secret, parsed.timestamp, input.body), "hex");
  const match = parsed.signatures.some((s) => timingSafeEqual(Buffer.from(s, "hex"), expected));
  return match ? { ok: true, timestamp: parsed.timestamp } : { ok: false, code: "bad_signature", message: "no signature matches the body and secret" };
}
