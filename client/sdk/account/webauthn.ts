import { p256 } from "@noble/curves/nist.js";
import { type BytesLike, concat, decodeBase64, encodeBase64, getBytes, hexlify, sha256, toBeHex, toUtf8Bytes, toUtf8String } from "ethers";
import { OrioleError } from "../errors.ts";

/**
 * WebAuthn assertions encoded for PasskeyAccount (spec §1). Browser-safe:
 * Uint8Array and ethers' hex helpers only (no Buffer, no node:crypto).
 *
 * Wire format: qx ‖ qy ‖ r ‖ s (low-s) ‖ uint16 BE len(authenticatorData)
 *   ‖ authenticatorData ‖ clientDataJSONSuffix,
 * where clientDataJSON = CLIENT_DATA_PREFIX ‖ base64url(challenge) ‖ suffix.
 */

/** Every browser's clientDataJSON starts with this (WebAuthn L3 fixes the key order). */
export const CLIENT_DATA_PREFIX = '{"type":"webauthn.get","challenge":"';

/** P-256 group order n, and n/2 (the low-s bound the contract enforces). */
export const P256_N = p256.Point.CURVE().n;
export const P256_HALF_N = P256_N >> 1n;

/** authenticatorData flag bits (byte 32). */
export const FLAG_USER_PRESENT = 0x01;
export const FLAG_USER_VERIFIED = 0x04;

/** qx, qy, r, s (32 each) + 2-byte length + 37-byte minimal authenticatorData + `"`. */
export const MIN_PASSKEY_SIGNATURE_LENGTH = 168;
const MIN_AUTHENTICATOR_DATA_LENGTH = 37;

/** A P-256 public key as two 0x-hex bytes32 words (the contract's device id). */
export interface PasskeyPublicKey {
  qx: string;
  qy: string;
}

/** Base64url without padding, as WebAuthn writes the challenge. */
export function base64UrlEncode(data: BytesLike): string {
  return encodeBase64(data).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Strict base64url decoding: no padding, no other alphabet, canonical trailing bits. */
export function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new OrioleError("invalid_base64url", "not unpadded base64url text", { text });
  }
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = decodeBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
  // Two encodings of one byte string (non-zero unused bits) would break "one challenge, one text".
  if (base64UrlEncode(bytes) !== text) throw new OrioleError("invalid_base64url", "non-canonical base64url text", { text });
  return bytes;
}

/** getBytes, but a value that is not bytes (bad hex) fails with the caller's error code. */
function bytesOf(value: BytesLike, code: string, what: string): Uint8Array {
  try {
    return getBytes(value);
  } catch {
    throw new OrioleError(code, `${what} is not bytes (0x-hex or Uint8Array)`);
  }
}

function invalidDer(reason: string): OrioleError {
  return new OrioleError("invalid_der_signature", `the DER signature is malformed: ${reason}`);
}

/** Reads one strict DER INTEGER (short-form length, minimal, positive) at `at`. */
function readDerInteger(der: Uint8Array, at: number): { value: bigint; next: number } {
  if (der[at] !== 0x02) throw invalidDer("expected an INTEGER");
  const len = der[at + 1];
  if (len === undefined || len === 0 || len > 33) throw invalidDer("bad INTEGER length");
  const body = der.subarray(at + 2, at + 2 + len);
  if (body.length !== len) throw invalidDer("truncated INTEGER");
  const first = body[0] ?? 0;
  if (first & 0x80) throw invalidDer("negative INTEGER");
  if (first === 0 && len > 1 && ((body[1] ?? 0) & 0x80) === 0) throw invalidDer("non-minimal INTEGER");
  return { value: BigInt(hexlify(body)), next: at + 2 + len };
}

/**
 * Turns an ASN.1 DER ECDSA signature (what authenticators return) into r and s,
 * with s normalised to the low half (s <= n/2), as the contract requires.
 * @throws OrioleError `invalid_der_signature` when the DER is malformed or r/s out of range.
 */
export function derToRS(der: BytesLike): { r: bigint; s: bigint } {
  const b = bytesOf(der, "invalid_der_signature", "the DER signature");
  if (b.length < 8 || b.length > 72 || b[0] !== 0x30) throw invalidDer("expected a SEQUENCE");
  if (b[1] !== b.length - 2) throw invalidDer("SEQUENCE length does not match");
  const r = readDerInteger(b, 2);
  const s = readDerInteger(b, r.next);
  if (s.next !== b.length) throw invalidDer("trailing bytes");
  for (const v of [r.value, s.value]) if (v === 0n || v >= P256_N) throw invalidDer("r or s out of range");
  return { r: r.value, s: s.value > P256_HALF_N ? P256_N - s.value : s.value };
}

/** DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, BIT STRING, uncompressed point). */
const SPKI_P256_PREFIX = "3059301306072a8648ce3d020106082a8648ce3d030107034200";

/**
 * Extracts qx, qy from a P-256 SubjectPublicKeyInfo (what `AuthenticatorAttestationResponse.getPublicKey()` returns).
 * @throws OrioleError `invalid_public_key` when it is not a P-256 SPKI or the point is not on the curve.
 */
export function publicKeyFromSpki(spki: BytesLike): PasskeyPublicKey {
  const b = bytesOf(spki, "invalid_public_key", "the SubjectPublicKeyInfo");
  if (b.length !== 91 || hexlify(b.subarray(0, 26)).slice(2) !== SPKI_P256_PREFIX || b[26] !== 0x04) {
    throw new OrioleError("invalid_public_key", "not a P-256 SubjectPublicKeyInfo with an uncompressed point");
  }
  const point = b.subarray(26);
  if (!isOnCurve(point)) throw new OrioleError("invalid_public_key", "the public key is not a point on P-256");
  return { qx: hexlify(point.subarray(1, 33)), qy: hexlify(point.subarray(33, 65)) };
}

function isOnCurve(uncompressed: Uint8Array): boolean {
  try {
    p256.Point.fromBytes(uncompressed).assertValidity();
    return true;
  } catch {
    return false;
  }
}

function challengeBytes(challenge: BytesLike): Uint8Array {
  const c = bytesOf(challenge, "invalid_challenge", "the challenge");
  if (c.length !== 32) throw new OrioleError("invalid_challenge", `the challenge must be 32 bytes, got ${c.length}`);
  return c;
}

function keyWord(v: BytesLike, what: string): Uint8Array {
  const b = bytesOf(v, "invalid_public_key", what);
  if (b.length !== 32) throw new OrioleError("invalid_public_key", `${what} must be 32 bytes`);
  return b;
}

/** An assertion as the browser returns it, plus the device key and the challenge it must be over. */
export interface PasskeyAssertion {
  qx: BytesLike;
  qy: BytesLike;
  /** The 32-byte digest being approved (e.g. the intent hash). */
  challenge: BytesLike;
  authenticatorData: BytesLike;
  /** The JSON text, or its UTF-8 bytes (as `response.clientDataJSON`). */
  clientDataJSON: string | Uint8Array;
  /** DER, as `response.signature`; s may be high (normalised here). */
  signature: BytesLike;
}

/**
 * Encodes an assertion into the contract's passkey signature (spec §1).
 * @throws OrioleError `webauthn_challenge_mismatch` if clientDataJSON does not start with
 *   CLIENT_DATA_PREFIX ‖ base64url(challenge) ‖ '"'; `invalid_der_signature`; `invalid_authenticator_data`.
 */
export function encodePasskeySignature(a: PasskeyAssertion): string {
  const cdj = typeof a.clientDataJSON === "string" ? toUtf8Bytes(a.clientDataJSON) : a.clientDataJSON;
  const head = toUtf8Bytes(CLIENT_DATA_PREFIX + base64UrlEncode(challengeBytes(a.challenge)) + '"');
  if (cdj.length < head.length || hexlify(cdj.subarray(0, head.length)) !== hexlify(head)) {
    throw new OrioleError("webauthn_challenge_mismatch", "clientDataJSON is not a webauthn.get over this challenge");
  }
  const authData = bytesOf(a.authenticatorData, "invalid_authenticator_data", "authenticatorData");
  if (authData.length < MIN_AUTHENTICATOR_DATA_LENGTH || authData.length > 0xffff) {
    throw new OrioleError("invalid_authenticator_data", `authenticatorData must be 37 to 65535 bytes, got ${authData.length}`);
  }
  const { r, s } = derToRS(a.signature);
  const len = new Uint8Array([authData.length >> 8, authData.length & 0xff]);
  // The suffix keeps its opening '"' (the challenge's closing quote): the contract checks it.
  const suffix = cdj.subarray(head.length - 1);
  return concat([keyWord(a.qx, "qx"), keyWord(a.qy, "qy"), toBeHex(r, 32), toBeHex(s, 32), len, authData, suffix]);
}

/** A passkey signature taken apart. */
export interface DecodedPasskeySignature extends PasskeyPublicKey {
  r: bigint;
  s: bigint;
  authenticatorData: string;
  clientDataJSONSuffix: string;
  flags: { userPresent: boolean; userVerified: boolean };
}

function invalidSig(reason: string): OrioleError {
  return new OrioleError("invalid_passkey_signature", `the passkey signature is malformed: ${reason}`);
}

/**
 * Splits a passkey signature into its fields.
 * @throws OrioleError `invalid_passkey_signature` (too short, bad length, suffix not starting with '"', not UTF-8).
 */
export function decodePasskeySignature(signature: BytesLike): DecodedPasskeySignature {
  const b = bytesOf(signature, "invalid_passkey_signature", "the passkey signature");
  if (b.length < MIN_PASSKEY_SIGNATURE_LENGTH) throw invalidSig(`${b.length} bytes, at least ${MIN_PASSKEY_SIGNATURE_LENGTH} needed`);
  const authLen = ((b[128] ?? 0) << 8) | (b[129] ?? 0);
  if (authLen < MIN_AUTHENTICATOR_DATA_LENGTH) throw invalidSig("authenticatorData shorter than 37 bytes");
  const authEnd = 130 + authLen;
  if (authEnd >= b.length) throw invalidSig("authenticatorData runs past the end");
  const authData = b.subarray(130, authEnd);
  const suffixBytes = b.subarray(authEnd);
  if (suffixBytes[0] !== 0x22) throw invalidSig('clientDataJSON suffix must start with \'"\'');
  let suffix: string;
  try {
    suffix = toUtf8String(suffixBytes);
  } catch {
    throw invalidSig("clientDataJSON suffix is not UTF-8");
  }
  const flags = authData[32] ?? 0;
  return {
    qx: hexlify(b.subarray(0, 32)),
    qy: hexlify(b.subarray(32, 64)),
    r: BigInt(hexlify(b.subarray(64, 96))),
    s: BigInt(hexlify(b.subarray(96, 128))),
    authenticatorData: hexlify(authData),
    clientDataJSONSuffix: suffix,
    flags: { userPresent: (flags & FLAG_USER_PRESENT) !== 0, userVerified: (flags & FLAG_USER_VERIFIED) !== 0 },
  };
}

/** The exact clientDataJSON a signature's suffix stands for, given the challenge. */
export function clientDataJSONFor(challenge: BytesLike, clientDataJSONSuffix: string): string {
  return CLIENT_DATA_PREFIX + base64UrlEncode(challengeBytes(challenge)) + clientDataJSONSuffix;
}

/**
 * Checks a passkey signature off-chain with the contract's rules: well formed, UP and UV set,
 * low s, and a valid P-256 signature by (qx, qy) over sha256(authenticatorData ‖ sha256(clientDataJSON)).
 * Does NOT check that (qx, qy) is a device of some account.
 */
export function verifyPasskeySignature(challenge: BytesLike, signature: BytesLike): boolean {
  let d: DecodedPasskeySignature;
  try {
    d = decodePasskeySignature(signature);
  } catch {
    return false;
  }
  if (!d.flags.userPresent || !d.flags.userVerified) return false;
  if (d.r === 0n || d.r >= P256_N || d.s === 0n || d.s > P256_HALF_N) return false;
  const publicKey = concat(["0x04", d.qx, d.qy]);
  if (!isOnCurve(getBytes(publicKey))) return false;
  const message = concat([d.authenticatorData, sha256(toUtf8Bytes(clientDataJSONFor(challenge, d.clientDataJSONSuffix)))]);
  const compact = concat([toBeHex(d.r, 32), toBeHex(d.s, 32)]);
  return p256.verify(getBytes(compact), getBytes(message), getBytes(publicKey), { prehash: true, lowS: true });
}
