import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { link, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { p256 } from "@noble/curves/nist.js";
import { computeAddress, getAddress, hexlify, isAddress } from "ethers";
import { z } from "zod";
import { OrioleError } from "./errors.ts";

/**
 * An encrypted keystore file for a device key.
 *
 * The key is encrypted with AES-256-GCM under a key derived from the PIN with
 * scrypt; salt and IV are random per file. What is needed to find the wallet
 * without the PIN (format, key type, address, KDF parameters) is in clear and
 * bound to the ciphertext as GCM additional data, so changing any of it makes
 * unlocking fail exactly like a wrong PIN does.
 *
 * The format is tagged by `keyType`, each with its own public identifier in clear:
 * - `secp256k1`: an externally owned account's key; `address` in clear;
 * - `p256`: a software device key of a passkey smart account (the CLI's
 *   stand-in for a phone's secure element, the PIN standing in for biometrics);
 *   `publicKey` {qx, qy} and the account's CREATE2 `accountSalt` in clear, from
 *   which the account's address follows on each chain's factory.
 *
 * File example:
 *   { "kind": "oriole-keystore", "version": 1, "keyType": "secp256k1",
 *     "address": "0x…", "createdAt": "2026-…Z",
 *     "kdf": { "name": "scrypt", "n": 131072, "r": 8, "p": 1, "dkLen": 32, "salt": "<32 bytes hex>" },
 *     "cipher": { "name": "aes-256-gcm", "iv": "<12 bytes hex>", "tag": "<16 bytes hex>", "ciphertext": "<hex>" } }
 */

export const KEYSTORE_KIND = "oriole-keystore";
export const KEYSTORE_VERSION = 1;
export const KEY_TYPES = ["secp256k1", "p256"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** scrypt cost used for every real keystore: 2^17 (128 MiB, ~0.7 s on a 2-core machine). */
export const SCRYPT_DEFAULT_N = 2 ** 17;
/**
 * The lowest cost this module ever uses or accepts: 2^10. It exists only so
 * that tests can create keystores fast (ORIOLE_SCRYPT_N / the `n` option);
 * never lower a real wallet's cost.
 */
export const SCRYPT_MIN_N = 2 ** 10;
/** The highest cost accepted, which also bounds the memory a hostile file can make us use. */
export const SCRYPT_MAX_N = 2 ** 20;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;

export const PIN_MIN_LENGTH = 6;

const SALT_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Orders of the groups: a private key is an integer in [1, n-1]. */
const GROUP_ORDER: Readonly<Record<KeyType, bigint>> = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  p256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};

const hexBytes = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes as lowercase hex`);
const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

const kdfSchema = z
  .object({
    name: z.literal("scrypt"),
    n: z.number().int().min(SCRYPT_MIN_N).max(SCRYPT_MAX_N).refine(isPowerOfTwo, "n must be a power of two"),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    dkLen: z.literal(32),
    salt: hexBytes(SALT_BYTES),
  })
  .refine((k) => 128 * k.n * k.r * k.p <= MAX_SCRYPT_MEMORY, "scrypt parameters need too much memory");

const cipherSchema = z.object({
  name: z.literal("aes-256-gcm"),
  iv: hexBytes(IV_BYTES),
  tag: hexBytes(TAG_BYTES),
  ciphertext: hexBytes(KEY_BYTES),
});

const common = {
  kind: z.literal(KEYSTORE_KIND),
  version: z.literal(KEYSTORE_VERSION),
  createdAt: z.iso.datetime(),
  kdf: kdfSchema,
  cipher: cipherSchema,
};

const secp256k1Keystore = z.object({
  ...common,
  keyType: z.literal("secp256k1"),
  address: z.string().refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s) && isAddress(s) && getAddress(s) === s, "address must be checksummed"),
});

const p256Keystore = z.object({
  ...common,
  keyType: z.literal("p256"),
  publicKey: z.object({ qx: z.string().regex(/^0x[0-9a-f]{64}$/), qy: z.string().regex(/^0x[0-9a-f]{64}$/) }).strict(),
  accountSalt: z.string().regex(/^(0|[1-9]\d{0,77})$/, "accountSalt must be a decimal uint256"),
});

export const keystoreSchema = z.discriminatedUnion("keyType", [secp256k1Keystore, p256Keystore]);
export type Keystore = z.infer<typeof keystoreSchema>;
export type P256Keystore = z.infer<typeof p256Keystore>;
export type Secp256k1Keystore = z.infer<typeof secp256k1Keystore>;

/** A P-256 device's public key, as the passkey account stores it (0x + 64 lowercase hex digits each). */
export interface DevicePublicKey {
  qx: string;
  qy: string;
}

/**
 * The scrypt cost from ORIOLE_SCRYPT_N, for tests: undefined when unset,
 * otherwise a power of two from SCRYPT_MIN_N to SCRYPT_MAX_N.
 */
export function scryptNFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const raw = env.ORIOLE_SCRYPT_N;
  if (raw === undefined || raw === "") return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  checkScryptN(n);
  return n;
}

function checkScryptN(n: number): void {
  if (!isPowerOfTwo(n) || n < SCRYPT_MIN_N || n > SCRYPT_MAX_N) {
    throw new OrioleError("invalid_scrypt_n", `the scrypt cost must be a power of two from ${SCRYPT_MIN_N} to ${SCRYPT_MAX_N}`, { n, min: SCRYPT_MIN_N, max: SCRYPT_MAX_N });
  }
}

/** PINs are compared after NFKC normalisation, so the same PIN typed on another keyboard works. */
function normalisePin(pin: string): string {
  return pin.normalize("NFKC");
}

/** Throws `weak_pin` unless the PIN has at least PIN_MIN_LENGTH characters. */
export function assertPinStrength(pin: string): void {
  // Counted in code points, so "六位数字密码" is six characters.
  if (Array.from(normalisePin(pin)).length < PIN_MIN_LENGTH) {
    throw new OrioleError("weak_pin", `the PIN must have at least ${PIN_MIN_LENGTH} characters`, { min: PIN_MIN_LENGTH });
  }
}

/**
 * Parses a private key given as 64 hex digits (optionally 0x-prefixed) into
 * its 32 bytes. The error never repeats the input.
 */
export function parsePrivateKey(input: string, keyType: KeyType = "secp256k1"): Uint8Array {
  const s = input.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new OrioleError("invalid_private_key", "expected 32 bytes as 64 hex digits");
  const k = BigInt(`0x${s}`);
  if (k === 0n || k >= GROUP_ORDER[keyType]) throw new OrioleError("invalid_private_key", `the value is outside the ${keyType} key range`);
  return Uint8Array.from(Buffer.from(s, "hex"));
}

/** A fresh random private key of `keyType`. */
export function generatePrivateKey(keyType: KeyType = "secp256k1"): Uint8Array {
  for (;;) {
    const bytes = randomBytes(KEY_BYTES);
    const k = BigInt(`0x${bytes.toString("hex")}`);
    if (k !== 0n && k < GROUP_ORDER[keyType]) return Uint8Array.from(bytes);
  }
}

/** The Ethereum address of a secp256k1 private key. */
export function addressOfPrivateKey(privateKey: Uint8Array): string {
  return computeAddress(hexlify(privateKey));
}

/** The public key of a P-256 private key, as {qx, qy}. */
export function devicePublicKeyOf(privateKey: Uint8Array): DevicePublicKey {
  const point = p256.getPublicKey(privateKey, false); // 04 ‖ x ‖ y
  return { qx: hexlify(point.subarray(1, 33)), qy: hexlify(point.subarray(33, 65)) };
}

/** What identifies a keystore's key in clear: the address, or the device public key and account salt. */
function publicIdentity(ks: { keyType: "secp256k1"; address: string } | { keyType: "p256"; publicKey: DevicePublicKey; accountSalt: string }): string {
  return ks.keyType === "secp256k1" ? ks.address : `${ks.publicKey.qx}:${ks.publicKey.qy}:${ks.accountSalt}`;
}

function identityOfPrivateKey(keyType: KeyType, privateKey: Uint8Array, accountSalt: string): string {
  return keyType === "secp256k1"
    ? addressOfPrivateKey(privateKey)
    : publicIdentity({ keyType, publicKey: devicePublicKeyOf(privateKey), accountSalt });
}

interface KdfParams {
  n: number;
  r: number;
  p: number;
  dkLen: number;
}

function deriveKey(pin: string, salt: Buffer, k: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Node requires maxmem > 128 * N * r (* p); give it twice that.
    scrypt(normalisePin(pin), salt, k.dkLen, { N: k.n, r: k.r, p: k.p, maxmem: 256 * k.n * k.r * k.p }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** The clear fields that the ciphertext is bound to, in a fixed order. */
function associatedData(ks: Keystore | KeystoreHeader): Buffer {
  const { name, n, r, p, dkLen, salt } = ks.kdf;
  return Buffer.from(JSON.stringify([ks.kind, ks.version, ks.keyType, publicIdentity(ks), name, n, r, p, dkLen, salt]), "utf8");
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type KeystoreHeader = DistributiveOmit<Keystore, "createdAt" | "cipher">;

export interface CreateKeystoreParams {
  privateKey: Uint8Array;
  pin: string;
  /** `secp256k1` (default): an EOA key; `p256`: a passkey account's software device key. */
  keyType?: KeyType;
  /** For `p256`: the account's CREATE2 salt (default 0). */
  accountSalt?: bigint;
  /** scrypt cost; defaults to SCRYPT_DEFAULT_N. Lower values are for tests only (minimum SCRYPT_MIN_N). */
  n?: number;
}

/** Encrypts a private key under a PIN. Nothing is written to disk. */
export function createKeystore(params: CreateKeystoreParams & { keyType?: "secp256k1" }): Promise<Secp256k1Keystore>;
export function createKeystore(params: CreateKeystoreParams & { keyType: "p256" }): Promise<P256Keystore>;
export function createKeystore(params: CreateKeystoreParams): Promise<Keystore>;
export async function createKeystore(params: CreateKeystoreParams): Promise<Keystore> {
  assertPinStrength(params.pin);
  const keyType = params.keyType ?? "secp256k1";
  if (params.privateKey.length !== KEY_BYTES) throw new OrioleError("invalid_private_key", "expected 32 bytes");
  parsePrivateKey(hexlify(params.privateKey), keyType); // range check
  const n = params.n ?? SCRYPT_DEFAULT_N;
  checkScryptN(n);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const kdf = { name: "scrypt", n, r: SCRYPT_R, p: SCRYPT_P, dkLen: KEY_BYTES, salt: salt.toString("hex") } as const;
  const base = { kind: KEYSTORE_KIND, version: KEYSTORE_VERSION, kdf } as const;
  const header: KeystoreHeader =
    keyType === "secp256k1"
      ? { ...base, keyType, address: addressOfPrivateKey(params.privateKey) }
      : { ...base, keyType, publicKey: devicePublicKeyOf(params.privateKey), accountSalt: (params.accountSalt ?? 0n).toString() };
  const key = await deriveKey(params.pin, salt, header.kdf);
  try {
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(header));
    const ciphertext = Buffer.concat([cipher.update(params.privateKey), cipher.final()]);
    return {
      ...header,
      createdAt: new Date().toISOString(),
      cipher: { name: "aes-256-gcm", iv: iv.toString("hex"), tag: cipher.getAuthTag().toString("hex"), ciphertext: ciphertext.toString("hex") },
    };
  } finally {
    key.fill(0);
  }
}

/**
 * Decrypts the private key. A wrong PIN, or any change to the file, fails the
 * GCM authentication and throws `wrong_pin`.
 */
export async function unlockKeystore(params: { keystore: Keystore; pin: string }): Promise<Uint8Array> {
  const ks = params.keystore;
  const key = await deriveKey(params.pin, Buffer.from(ks.kdf.salt, "hex"), ks.kdf);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(ks.cipher.iv, "hex"), { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(ks));
    decipher.setAuthTag(Buffer.from(ks.cipher.tag, "hex"));
    plain = Buffer.concat([decipher.update(Buffer.from(ks.cipher.ciphertext, "hex")), decipher.final()]);
  } catch (e) {
    throw new OrioleError("wrong_pin", "wrong PIN, or the keystore was altered", {}, { cause: e });
  } finally {
    key.fill(0);
  }
  const privateKey = Uint8Array.from(plain);
  plain.fill(0);
  const accountSalt = ks.keyType === "p256" ? ks.accountSalt : "";
  if (identityOfPrivateKey(ks.keyType, privateKey, accountSalt) !== publicIdentity(ks)) {
    privateKey.fill(0);
    throw new OrioleError("invalid_keystore", "the decrypted key does not match the public key in the file", { reason: "the key does not match its public identity" });
  }
  return privateKey;
}

/** Whether a keystore file (or anything else) exists at `file`. */
export async function keystoreExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/** Reads and validates a keystore: `no_wallet` when absent, `invalid_keystore` when malformed. */
export async function readKeystore(file: string): Promise<Keystore> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new OrioleError("no_wallet", `no wallet at ${file}`, { file }, { cause: e });
    throw new OrioleError("invalid_keystore", `cannot read ${file}: ${code ?? "error"}`, { file, reason: code ?? "unreadable" }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OrioleError("invalid_keystore", `${file} is not JSON`, { file, reason: "not JSON" }, { cause: e });
  }
  const parsed = keystoreSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const reason = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
    throw new OrioleError("invalid_keystore", `${file} is not a valid keystore: ${reason}`, { file, reason });
  }
  return parsed.data;
}

/**
 * Writes a keystore atomically with mode 0600 (in a 0700 folder when it has
 * to create one): a complete temp file is fsynced, then linked into place,
 * which fails if the target exists (`wallet_exists`), or renamed over it when
 * `force` is set. Readers never see half a file.
 */
export async function writeKeystore(params: { file: string; keystore: Keystore; force?: boolean }): Promise<void> {
  const { file, keystore, force = false } = params;
  keystoreSchema.parse(keystore);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(`${JSON.stringify(keystore, null, 2)}\n`, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (force) {
      await rename(tmp, file);
    } else {
      try {
        await link(tmp, file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EEXIST") throw new OrioleError("wallet_exists", `a wallet already exists at ${file}`, { file }, { cause: e });
        // Filesystems without hard links: check, then rename (a small race, but never a torn file).
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
        if (await keystoreExists(file)) throw new OrioleError("wallet_exists", `a wallet already exists at ${file}`, { file });
        await rename(tmp, file);
      }
    }
    await syncDir(dir);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Not every platform can fsync a directory; the file itself is synced.
  }
}
