import { concat, getAddress, getBytes, hexlify, type Signer, toBeHex, TypedDataEncoder } from "ethers";
import { replaySafeHash } from "../account/intent.ts";
import type { SoftwareDevice, AssertOptions } from "../account/softwareDevice.ts";
import { base64UrlDecode, base64UrlEncode } from "../account/webauthn.ts";
import { OrioleError } from "../errors.ts";

/**
 * Offline payment codes (OfflineVault): an EIP-712 `OfflinePayment` under the
 * vault's domain, signed by the payer (ECDSA for EOAs; for passkey accounts a
 * device's WebAuthn assertion over `OrioleMessage(codeHash)`, checked on-chain
 * through ERC-1271), and its compact QR form.
 */

export const OFFLINE_VAULT_DOMAIN_NAME = "Oriole OfflineVault";
export const OFFLINE_VAULT_DOMAIN_VERSION = "1";

export const OFFLINE_PAYMENT_TYPES = {
  OfflinePayment: [
    { name: "payer", type: "address" },
    { name: "merchant", type: "address" },
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
  ],
};

/** The signed fields of a code (amounts in base units). */
export interface OfflinePayment {
  payer: string;
  merchant: string;
  token: string;
  amount: bigint;
  nonce: bigint;
  validAfter: bigint;
  validBefore: bigint;
}

/** A signed code, bound to one chain and vault. */
export interface OfflineCode extends OfflinePayment {
  chainId: bigint;
  vault: string;
  /** 0x-hex: 65-byte ECDSA, or a passkey signature (ERC-1271). */
  signature: string;
}

export function offlineVaultDomain(chainId: bigint | number, vault: string) {
  return { name: OFFLINE_VAULT_DOMAIN_NAME, version: OFFLINE_VAULT_DOMAIN_VERSION, chainId: BigInt(chainId), verifyingContract: getAddress(vault) };
}

function fields(p: OfflinePayment): OfflinePayment {
  return { payer: p.payer, merchant: p.merchant, token: p.token, amount: p.amount, nonce: p.nonce, validAfter: p.validAfter, validBefore: p.validBefore };
}

/** The code's EIP-712 digest: = `vault.hashCode(code)`, the key of its on-chain claim if it bounces. */
export function hashOfflineCode(chainId: bigint | number, vault: string, payment: OfflinePayment): string {
  return TypedDataEncoder.hash(offlineVaultDomain(chainId, vault), OFFLINE_PAYMENT_TYPES, fields(payment));
}

/** A payer's EOA signs the code (its phone, offline). */
export async function signOfflineCodeWithEoa(signer: Signer, chainId: bigint, vault: string, payment: OfflinePayment): Promise<OfflineCode> {
  const signature = await signer.signTypedData(offlineVaultDomain(chainId, vault), OFFLINE_PAYMENT_TYPES, fields(payment));
  return { ...fields(payment), chainId, vault: getAddress(vault), signature };
}

/** A passkey account's device signs the code: a WebAuthn assertion over `OrioleMessage(codeHash)` of the account (ERC-1271). */
export function signOfflineCodeWithPasskey(device: SoftwareDevice, chainId: bigint, vault: string, payment: OfflinePayment, opts?: AssertOptions): OfflineCode {
  const challenge = replaySafeHash(chainId, payment.payer, hashOfflineCode(chainId, vault, payment));
  return { ...fields(payment), chainId, vault: getAddress(vault), signature: device.sign(challenge, opts) };
}

/** The `settle` argument: the code as the contract's OfflineCode struct. */
export function offlineCodeStruct(c: OfflineCode) {
  return { ...fields(c), signature: c.signature };
}

// ---------------------------------------------------------------- QR form

/** URI scheme of a code in a QR code: `oriole-offline:` + base64url of the packed bytes. */
export const OFFLINE_CODE_SCHEME = "oriole-offline:";
const FORMAT_VERSION = 1;
/** version 1, chainId 8, vault 20, payer 20, merchant 20, token 20, amount 16, nonce 8, validAfter 8, validBefore 8, signature length 2. */
const HEADER_LENGTH = 1 + 8 + 20 * 4 + 16 + 8 * 3 + 2;
const MAX_SIGNATURE_LENGTH = 2048;
const U64 = (1n << 64n) - 1n;
const U128 = (1n << 128n) - 1n;

function invalid(message: string, details: Record<string, unknown> = {}): OrioleError {
  return new OrioleError("invalid_offline_code", `invalid offline code: ${message}`, details);
}

function uint(v: bigint, bytes: number, max: bigint, what: string): string {
  if (v < 0n || v > max) throw invalid(`${what} does not fit in ${bytes.toString()} bytes`);
  return toBeHex(v, bytes);
}

/** Packs a code for a QR code: `oriole-offline:<base64url>`. */
export function encodeOfflineCode(c: OfflineCode): string {
  const sig = getBytes(c.signature);
  if (sig.length === 0 || sig.length > MAX_SIGNATURE_LENGTH) throw invalid("signature length");
  const packed = concat([
    new Uint8Array([FORMAT_VERSION]),
    uint(c.chainId, 8, U64, "chainId"),
    getAddress(c.vault),
    getAddress(c.payer),
    getAddress(c.merchant),
    getAddress(c.token),
    uint(c.amount, 16, U128, "amount"),
    uint(c.nonce, 8, U64, "nonce"),
    uint(c.validAfter, 8, U64, "validAfter"),
    uint(c.validBefore, 8, U64, "validBefore"),
    toBeHex(sig.length, 2),
    sig,
  ]);
  return OFFLINE_CODE_SCHEME + base64UrlEncode(packed);
}

/**
 * Strictly decodes `oriole-offline:<base64url>` (the scheme is case-insensitive, nothing else is lenient).
 * @throws OrioleError `invalid_offline_code` saying what is wrong.
 */
export function decodeOfflineCode(text: string): OfflineCode {
  const trimmed = text.trim();
  if (trimmed.slice(0, OFFLINE_CODE_SCHEME.length).toLowerCase() !== OFFLINE_CODE_SCHEME) throw invalid(`expected ${OFFLINE_CODE_SCHEME}<base64url>`);
  let b: Uint8Array;
  try {
    b = base64UrlDecode(trimmed.slice(OFFLINE_CODE_SCHEME.length));
  } catch (e) {
    throw invalid("not base64url", { cause: (e as Error).message });
  }
  if (b.length < HEADER_LENGTH) throw invalid(`${b.length.toString()} bytes, at least ${HEADER_LENGTH.toString()} needed`);
  if (b[0] !== FORMAT_VERSION) throw invalid(`unknown format version ${String(b[0])}`);
  let at = 1;
  const take = (n: number): Uint8Array => {
    const part = b.subarray(at, at + n);
    at += n;
    return part;
  };
  const num = (n: number): bigint => BigInt(hexlify(take(n)));
  const addr = (): string => getAddress(hexlify(take(20)));
  const chainId = num(8);
  const vault = addr();
  const payer = addr();
  const merchant = addr();
  const token = addr();
  const amount = num(16);
  const nonce = num(8);
  const validAfter = num(8);
  const validBefore = num(8);
  const sigLength = Number(num(2));
  if (sigLength === 0 || sigLength > MAX_SIGNATURE_LENGTH) throw invalid(`signature length ${sigLength.toString()}`);
  if (b.length !== at + sigLength) throw invalid(`signature length ${sigLength.toString()} does not match the ${(b.length - at).toString()} bytes left`);
  const signature = hexlify(take(sigLength));
  if (chainId === 0n) throw invalid("chain id 0");
  if (amount === 0n) throw invalid("amount 0");
  if (validBefore <= validAfter) throw invalid("validBefore is not after validAfter");
  return { chainId, vault, payer, merchant, token, amount, nonce, validAfter, validBefore, signature };
}

/** A short stable id of a code for people and logs (not secret): its digest. */
export function offlineCodeId(c: OfflineCode): string {
  return hashOfflineCode(c.chainId, c.vault, c);
}
