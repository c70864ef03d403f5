import { open, readFile, rename, mkdir } from "node:fs/promises";
import path from "node:path";
import { Contract, getAddress, hexlify, randomBytes, type Signer, TypedDataEncoder } from "ethers";
import type { AssertOptions, SoftwareDevice } from "../account/softwareDevice.ts";
import { STABLE_TOKEN_ABI, STABLE_TOKEN_EIP712_VERSION } from "../abi.ts";
import { OrioleError } from "../errors.ts";
// One definition of the EIP-3009 type and of a passkey's ERC-1271 signature: escrow funds the same way.
import { passkeySignature, RECEIVE_WITH_AUTHORIZATION_TYPES } from "../escrow/actions.ts";
import { type OfflineCode, type OfflinePayment, signOfflineCodeWithEoa, signOfflineCodeWithPasskey } from "./code.ts";
import { OFFLINE_VAULT_ABI } from "./vault.ts";

/**
 * The payer's side: reserving an offline allowance, and making codes with a
 * local nonce counter (one storage word on-chain covers 256 codes).
 */

async function mined(sent: Promise<{ hash: string; wait(): Promise<unknown> }>): Promise<string> {
  const tx = await sent;
  await tx.wait();
  return tx.hash;
}

/** An EOA reserves `amount` of `token`: approve, then `vault.reserve`. Returns the reserve's transaction hash. */
export async function reserveFromEoa(p: { signer: Signer; vault: string; token: string; amount: bigint }): Promise<string> {
  const token = new Contract(p.token, STABLE_TOKEN_ABI, p.signer);
  const vault = new Contract(p.vault, OFFLINE_VAULT_ABI, p.signer);
  await mined(token.getFunction("approve")(p.vault, p.amount) as Promise<{ hash: string; wait(): Promise<unknown> }>);
  return mined(vault.getFunction("reserve")(p.token, p.amount) as Promise<{ hash: string; wait(): Promise<unknown> }>);
}

/** A passkey account's signed ReceiveWithAuthorization to the vault: the arguments of `reserveWithAuthorization`. */
export interface ReserveAuthorization {
  token: string;
  from: string;
  amount: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: string;
  signature: string;
}

/**
 * The device of passkey account `account` signs an ERC-3009 ReceiveWithAuthorization of `amount` to the vault
 * (ERC-1271: a WebAuthn assertion over `OrioleMessage(digest)`); anyone can then submit it.
 */
export function signReserveAuthorization(p: {
  device: SoftwareDevice;
  chainId: bigint;
  account: string;
  vault: string;
  token: string;
  tokenName: string;
  amount: bigint;
  validBefore: bigint;
  assert?: AssertOptions;
}): ReserveAuthorization {
  const auth = { from: getAddress(p.account), to: getAddress(p.vault), value: p.amount, validAfter: 0n, validBefore: p.validBefore, nonce: hexlify(randomBytes(32)) };
  const domain = { name: p.tokenName, version: STABLE_TOKEN_EIP712_VERSION, chainId: p.chainId, verifyingContract: getAddress(p.token) };
  const digest = TypedDataEncoder.hash(domain, RECEIVE_WITH_AUTHORIZATION_TYPES, auth);
  const signature = passkeySignature(p.device, p.chainId, p.account, digest, p.assert);
  return { token: getAddress(p.token), from: auth.from, amount: p.amount, validAfter: 0n, validBefore: p.validBefore, nonce: auth.nonce, signature };
}

/** Submits a passkey account's reserve authorization (the submitter pays the gas). */
export function submitReserveAuthorization(p: { submitter: Signer; vault: string; auth: ReserveAuthorization }): Promise<string> {
  const vault = new Contract(p.vault, OFFLINE_VAULT_ABI, p.submitter);
  const a = p.auth;
  return mined(vault.getFunction("reserveWithAuthorization")(a.token, a.from, a.amount, a.validAfter, a.validBefore, a.nonce, a.signature) as Promise<{ hash: string; wait(): Promise<unknown> }>);
}

/**
 * Takes the next nonce of the payer's local counter, durably: the counter file is rewritten
 * (temp file, fsync, rename) before the nonce is returned, so a nonce is never handed out twice.
 */
export async function takeOfflineNonce(file: string): Promise<bigint> {
  let next = 0n;
  try {
    const text = (await readFile(file, "utf8")).trim();
    if (!/^\d{1,19}$/.test(text)) throw new OrioleError("invalid_nonce_counter", `${file} does not hold a nonce counter`, { file });
    next = BigInt(text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid.toString()}.tmp`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(`${(next + 1n).toString()}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  return next;
}

/** What a payer's code says; `validFor` seconds from `now` (capped by the vault's MAX_VALIDITY on-chain). */
export interface CodeRequest {
  chainId: bigint;
  vault: string;
  payer: string;
  merchant: string;
  token: string;
  amount: bigint;
  nonce: bigint;
  now: bigint;
  validFor: bigint;
}

function payment(r: CodeRequest): OfflinePayment {
  if (r.amount <= 0n) throw new OrioleError("invalid_amount", "the amount must be positive");
  // validAfter one minute back tolerates a merchant clock slightly behind the payer's.
  return { payer: getAddress(r.payer), merchant: getAddress(r.merchant), token: getAddress(r.token), amount: r.amount, nonce: r.nonce, validAfter: r.now - 60n, validBefore: r.now + r.validFor };
}

/** An EOA payer's code. */
export function createOfflineCodeWithEoa(signer: Signer, r: CodeRequest): Promise<OfflineCode> {
  return signOfflineCodeWithEoa(signer, r.chainId, r.vault, payment(r));
}

/** A passkey account's code, signed by its device. */
export function createOfflineCodeWithPasskey(device: SoftwareDevice, r: CodeRequest, assert?: AssertOptions): OfflineCode {
  return signOfflineCodeWithPasskey(device, r.chainId, r.vault, payment(r), assert);
}
