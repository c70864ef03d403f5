import { p256 } from "@noble/curves/nist.js";
import { type BytesLike, concat, getBytes, hexlify, sha256, toUtf8Bytes } from "ethers";
import { OrioleError } from "../errors.ts";
import { base64UrlEncode, encodePasskeySignature, FLAG_USER_PRESENT, FLAG_USER_VERIFIED, type PasskeyPublicKey, P256_N } from "./webauthn.ts";

/** How a software device presents itself, as a browser would fill it in. */
export interface AssertOptions {
  /** Relying party id hashed into authenticatorData; default "localhost". */
  rpId?: string;
  /** The page origin in clientDataJSON; default "http://localhost". */
  origin?: string;
  /** Sets the UV flag (biometrics / PIN passed); default true. */
  userVerified?: boolean;
  /** authenticatorData's signature counter; default 0 (what synced passkeys report). */
  signCount?: number;
}

/** An assertion exactly as `navigator.credentials.get` returns it. */
export interface SoftwareAssertion {
  authenticatorData: Uint8Array;
  /** The JSON text; its UTF-8 bytes are what the browser hands over. */
  clientDataJSON: string;
  /** ASN.1 DER; s is NOT normalised, like a real authenticator's. */
  signature: Uint8Array;
}

/**
 * A P-256 key that answers WebAuthn assertions like a platform authenticator:
 * the CLI's device (the key lives in the encrypted keystore) and the tests'.
 */
export class SoftwareDevice {
  readonly #secretKey: Uint8Array;
  /** The device's public key, as registered on the account. */
  readonly publicKey: PasskeyPublicKey;

  private constructor(secretKey: Uint8Array) {
    this.#secretKey = secretKey;
    const point = p256.getPublicKey(secretKey, false);
    this.publicKey = { qx: hexlify(point.subarray(1, 33)), qy: hexlify(point.subarray(33, 65)) };
  }

  /** A fresh random key (crypto.getRandomValues). */
  static generate(): SoftwareDevice {
    return new SoftwareDevice(p256.utils.randomSecretKey());
  }

  /**
   * A device from a 32-byte 0x-hex private key.
   * @throws OrioleError `invalid_private_key` unless 32 bytes in [1, n-1].
   */
  static fromPrivateKey(privateKey: BytesLike): SoftwareDevice {
    let key: Uint8Array;
    try {
      key = getBytes(privateKey);
    } catch {
      throw new OrioleError("invalid_private_key", "a P-256 private key is 32 bytes of hex");
    }
    const k = key.length === 32 ? BigInt(hexlify(key)) : 0n;
    if (k === 0n || k >= P256_N) throw new OrioleError("invalid_private_key", "not a valid P-256 private key (32 bytes, 1 <= k < n)");
    return new SoftwareDevice(Uint8Array.from(key));
  }

  /** The private key as 0x-hex, for the encrypted keystore. Never log it. */
  privateKeyHex(): string {
    return hexlify(this.#secretKey);
  }

  /** Answers `navigator.credentials.get({challenge})` for a 32-byte challenge. */
  assert(challenge: BytesLike, opts: AssertOptions = {}): SoftwareAssertion {
    const c = getBytes(challenge);
    if (c.length !== 32) throw new OrioleError("invalid_challenge", `the challenge must be 32 bytes, got ${c.length}`);
    const flags = FLAG_USER_PRESENT | ((opts.userVerified ?? true) ? FLAG_USER_VERIFIED : 0);
    const count = opts.signCount ?? 0;
    const counter = new Uint8Array([(count >>> 24) & 0xff, (count >>> 16) & 0xff, (count >>> 8) & 0xff, count & 0xff]);
    const authenticatorData = getBytes(concat([sha256(toUtf8Bytes(opts.rpId ?? "localhost")), new Uint8Array([flags]), counter]));
    // Key order and serialisation of WebAuthn L3 §5.8.1.1 (what Chromium writes).
    const clientDataJSON = `{"type":"webauthn.get","challenge":"${base64UrlEncode(c)}","origin":${JSON.stringify(opts.origin ?? "http://localhost")},"crossOrigin":false}`;
    const message = getBytes(concat([authenticatorData, sha256(toUtf8Bytes(clientDataJSON))]));
    const signature = p256.sign(message, this.#secretKey, { prehash: true, lowS: false, format: "der" });
    return { authenticatorData, clientDataJSON, signature };
  }

  /** The contract-ready passkey signature over `challenge` (encodePasskeySignature of {@link assert}). */
  sign(challenge: BytesLike, opts?: AssertOptions): string {
    return encodePasskeySignature({ ...this.publicKey, challenge, ...this.assert(challenge, opts) });
  }
}
