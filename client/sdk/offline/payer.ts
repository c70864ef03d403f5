import { open, readFile, rename, mkdir } from "node:fs/promises";
import path from "node:path";
import { Contract, type ContractRunner, type ContractTransactionResponse, getAddress, hexlify, randomBytes, type Signer, TypedDataEncoder } from "ethers";
import { passkeySignature, type PasskeySign, signForAccount } from "../account/erc1271.ts";
import type { AssertOptions, SoftwareDevice } from "../account/softwareDevice.ts";
import { RECEIVE_WITH_AUTHORIZATION_TYPES, STABLE_TOKEN_ABI, stableTokenDomain } from "../abi.ts";
import { OrioleError } from "../errors.ts";
import type { Currency } from "../currencies.ts";
import { type AccountDeploymentParams, deploymentJson, getOfflineReserves, type RelayedCallRecord, submitOfflineReserve, submitOfflineWithdrawalRequest } from "../relayedCalls.ts";
import { type OfflineCode, type OfflinePayment, offlineVaultDomain, signOfflineCodeWithEoa, signOfflineCodeWithPasskey } from "./code.ts";
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
 * The ERC-3009 ReceiveWithAuthorization of `amount` of `token` from `account` to the vault (a fresh random
 * nonce unless given), under the token's EIP-712 domain: its `digest` is what the account signs (ECDSA, or
 * ERC-1271 through `passkeySignature`). Also the node's relay id of the reserve.
 */
export function reserveAuthorization(p: { chainId: bigint | number; account: string; vault: string; token: string; tokenName: string; amount: bigint; validAfter?: bigint; validBefore: bigint; nonce?: string }) {
  const message = { from: getAddress(p.account), to: getAddress(p.vault), value: p.amount, validAfter: p.validAfter ?? 0n, validBefore: p.validBefore, nonce: p.nonce ?? hexlify(randomBytes(32)) };
  const domain = stableTokenDomain(p.chainId, p.token, p.tokenName);
  return { domain, types: RECEIVE_WITH_AUTHORIZATION_TYPES, message, digest: TypedDataEncoder.hash(domain, RECEIVE_WITH_AUTHORIZATION_TYPES, message) };
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
  const { message, digest } = reserveAuthorization(p);
  const signature = passkeySignature(p.device, p.chainId, p.account, digest, p.assert);
  return { token: getAddress(p.token), from: message.from, amount: p.amount, validAfter: message.validAfter, validBefore: p.validBefore, nonce: message.nonce, signature };
}

/** Submits a passkey account's reserve authorization (the submitter pays the gas). */
export function submitReserveAuthorization(p: { submitter: Signer; vault: string; auth: ReserveAuthorization }): Promise<string> {
  const vault = new Contract(p.vault, OFFLINE_VAULT_ABI, p.submitter);
  const a = p.auth;
  return mined(vault.getFunction("reserveWithAuthorization")(a.token, a.from, a.amount, a.validAfter, a.validBefore, a.nonce, a.signature) as Promise<{ hash: string; wait(): Promise<unknown> }>);
}

/**
 * A passkey account reserves `amount` of `token` through the node (POST /v1/offline/reservations): its device
 * signs a ReceiveWithAuthorization to the vault (ERC-1271), valid for `validFor` seconds (default 1 h) from `now`.
 * Resolves with the node's record once mined.
 * @throws OrioleError with the node's code (`invalid_signature`, `simulation_failed`, ...)
 */
export async function reserveViaNode(
  apiUrl: string,
  p: { chainId: bigint | number; vault: string; account: string; token: string; tokenName: string; amount: bigint; sign: PasskeySign; now?: bigint; validFor?: bigint; deployment?: AccountDeploymentParams },
): Promise<RelayedCallRecord> {
  if (p.amount <= 0n) throw new OrioleError("invalid_amount", "the amount must be positive");
  const now = p.now ?? BigInt(Math.floor(Date.now() / 1000));
  const auth = reserveAuthorization({ ...p, validBefore: now + (p.validFor ?? 3600n) });
  const signature = await signForAccount(p.sign, p.chainId, p.account, auth.digest);
  const m = auth.message;
  return submitOfflineReserve(apiUrl, { from: m.from, token: getAddress(p.token), amount: m.value.toString(), validAfter: m.validAfter.toString(), validBefore: m.validBefore.toString(), nonce: m.nonce, signature, ...(p.deployment === undefined ? {} : { deployment: deploymentJson(p.deployment) }) });
}

/** A payer's reserve of one token in the vault, as the chain has it now. */
export interface ReserveState {
  balance: bigint;
  /** Owed for bounced codes; while > 0 the payer is in default and cannot withdraw. */
  debt: bigint;
  pendingWithdrawal: bigint;
  /** Chain time (s) from which the pending withdrawal can be completed; 0 = none pending. */
  unlockAt: bigint;
}

/** Reads `vault.reserveOf(payer, token)`. */
export async function readReserve(runner: ContractRunner, vault: string, payer: string, token: string): Promise<ReserveState> {
  const r = (await new Contract(vault, OFFLINE_VAULT_ABI, runner).getFunction("reserveOf")(payer, token)) as readonly bigint[];
  const [balance = 0n, debt = 0n, pendingWithdrawal = 0n, unlockAt = 0n] = r;
  return { balance, debt, pendingWithdrawal, unlockAt };
}

async function chainNow(signer: Signer): Promise<bigint> {
  const block = await signer.provider?.getBlock("latest");
  if (!block) throw new OrioleError("rpc_error", "no latest block");
  return BigInt(block.timestamp);
}

/**
 * An EOA asks to withdraw `amount` of its `token` reserve: it can be completed after the vault's
 * WITHDRAWAL_DELAY (merchants who synced before still see the allowance until then). A new request
 * replaces the pending one and restarts the delay; `amount` 0 cancels.
 * @throws OrioleError `withdrawal_exceeds_reserve` when `amount` is more than is reserved.
 */
export async function requestWithdrawalFromEoa(p: { signer: Signer; vault: string; token: string; amount: bigint }): Promise<{ txHash: string; reserve: ReserveState }> {
  const payer = await p.signer.getAddress();
  const before = await readReserve(p.signer, p.vault, payer, p.token);
  if (p.amount > before.balance) {
    throw new OrioleError("withdrawal_exceeds_reserve", `only ${before.balance.toString()} is reserved`, { reserved: before.balance.toString(), amount: p.amount.toString() });
  }
  const vault = new Contract(p.vault, OFFLINE_VAULT_ABI, p.signer);
  const txHash = await mined(vault.getFunction("requestWithdrawal")(p.token, p.amount) as Promise<{ hash: string; wait(): Promise<unknown> }>);
  return { txHash, reserve: await readReserve(p.signer, p.vault, payer, p.token) };
}

/** The vault's EIP-712 `WithdrawalRequest`: a payer that signs rather than calls asks for a withdrawal (`requestWithdrawalWithSig`). */
export const WITHDRAWAL_REQUEST_TYPES = {
  WithdrawalRequest: [
    { name: "payer", type: "address" },
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** A signed-or-to-sign WithdrawalRequest; `nonce` is the vault's `withdrawalNonce(payer)` (sequential). */
export interface WithdrawalRequest {
  payer: string;
  token: string;
  amount: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** The request's EIP-712 digest under the vault's domain: what the payer signs, and the node's relay id of it. */
export function hashWithdrawalRequest(chainId: bigint | number, vault: string, r: WithdrawalRequest): string {
  return TypedDataEncoder.hash(offlineVaultDomain(chainId, vault), WITHDRAWAL_REQUEST_TYPES, { payer: getAddress(r.payer), token: getAddress(r.token), amount: r.amount, nonce: r.nonce, deadline: r.deadline });
}

/** Reads `vault.withdrawalNonce(payer)`: the nonce the payer's next signed request must carry. */
export async function readWithdrawalNonce(runner: ContractRunner, vault: string, payer: string): Promise<bigint> {
  const n: unknown = await new Contract(vault, OFFLINE_VAULT_ABI, runner).getFunction("withdrawalNonce")(payer);
  if (typeof n !== "bigint") throw new OrioleError("rpc_error", "the vault answered something that is not a number");
  return n;
}

/**
 * A passkey account asks through the node (POST /v1/offline/withdrawals) to withdraw `amount` of its `currency`
 * reserve after the vault's delay: its device signs a WithdrawalRequest with the vault's current withdrawalNonce,
 * valid for 10 minutes of chain time. All it reads comes from the node (GET /v1/offline/reserves/{payer}), so a
 * browser wallet needs no RPC. `amount` 0 cancels a pending request.
 * @throws OrioleError `withdrawal_exceeds_reserve`, or the node's code
 */
export async function requestWithdrawalViaNode(
  apiUrl: string,
  p: { chainId: bigint | number; payer: string; currency: Currency; amount: bigint; sign: PasskeySign },
): Promise<{ record: RelayedCallRecord; reserve: ReserveState & { token: string } }> {
  const before = await getOfflineReserves(apiUrl, p.payer);
  const reserved = before.reserves[p.currency];
  if (p.amount > reserved.balance) {
    throw new OrioleError("withdrawal_exceeds_reserve", `only ${reserved.balance.toString()} is reserved`, { reserved: reserved.balance.toString(), amount: p.amount.toString() });
  }
  const token = reserved.token;
  const request: WithdrawalRequest = { payer: getAddress(p.payer), token, amount: p.amount, nonce: before.withdrawalNonce, deadline: before.chainTime + 600n };
  const signature = await signForAccount(p.sign, p.chainId, p.payer, hashWithdrawalRequest(p.chainId, before.vault, request));
  const record = await submitOfflineWithdrawalRequest(apiUrl, { payer: request.payer, token, amount: request.amount.toString(), nonce: request.nonce.toString(), deadline: request.deadline.toString(), signature });
  return { record, reserve: (await getOfflineReserves(apiUrl, p.payer)).reserves[p.currency] };
}

/**
 * Completes `payer`'s unlocked withdrawal of `token` (anyone may send it; the tokens go to `payer` only).
 * Checked first, so that a refusal has a stable code rather than a revert:
 * @throws OrioleError `no_withdrawal`, `withdrawal_locked` (with `unlockAt`), `offline_payer_in_default` (with `debt`).
 */
export async function completeWithdrawal(p: { signer: Signer; vault: string; payer: string; token: string }): Promise<{ txHash: string; amount: bigint }> {
  const r = await readReserve(p.signer, p.vault, p.payer, p.token);
  if (r.unlockAt === 0n) throw new OrioleError("no_withdrawal", "no withdrawal was requested", { payer: p.payer, token: p.token });
  const now = await chainNow(p.signer);
  if (now < r.unlockAt) {
    throw new OrioleError("withdrawal_locked", `the withdrawal unlocks at ${r.unlockAt.toString()} (chain time now ${now.toString()})`, { unlockAt: new Date(Number(r.unlockAt) * 1000).toISOString(), now: now.toString() });
  }
  if (r.debt > 0n) throw new OrioleError("offline_payer_in_default", `the reserve owes ${r.debt.toString()} for bounced codes`, { debt: r.debt.toString() });
  const vault = new Contract(p.vault, OFFLINE_VAULT_ABI, p.signer);
  const tx = (await vault.getFunction("withdraw")(p.payer, p.token)) as ContractTransactionResponse;
  const receipt = await tx.wait();
  // What was paid is the event's amount: a settle mined in between may have drawn on the reserve.
  const withdrawn = receipt?.logs.map((l) => vault.interface.parseLog(l)).find((e) => e?.name === "Withdrawn");
  const amount: unknown = withdrawn?.args[2];
  if (typeof amount !== "bigint") throw new OrioleError("tx_failed", `transaction ${tx.hash} emitted no Withdrawn event`, { txHash: tx.hash });
  return { txHash: tx.hash, amount };
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
