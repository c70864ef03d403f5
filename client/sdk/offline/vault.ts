import { getAddress, Interface, type Signer, type TransactionReceipt } from "ethers";
import { OrioleError } from "../errors.ts";
import { jsonRpcRequest } from "../jsonRpc.ts";
import { hashOfflineCode, type OfflineCode, offlineCodeStruct } from "./code.ts";

/** The OfflineVault functions and events the client uses (tests check them against the artifact). */
export const OFFLINE_VAULT_ABI = [
  "event Reserved(address indexed payer, address indexed token, uint256 amount, uint256 balance)",
  "event WithdrawalRequested(address indexed payer, address indexed token, uint256 amount, uint256 unlockAt)",
  "event Withdrawn(address indexed payer, address indexed token, uint256 amount)",
  "event OfflinePaymentSettled(address indexed payer, address indexed merchant, address indexed token, uint256 nonce, uint256 amount)",
  "event OfflinePaymentFailed(uint256 index, address indexed payer, address indexed merchant, uint256 nonce, uint8 reason)",
  "event OfflinePaymentBounced(bytes32 indexed codeHash, address indexed payer, address indexed merchant, address token, uint256 nonce, uint256 paid, uint256 shortfall)",
  "event PayerDefaulted(address indexed payer, address indexed token, uint256 debt)",
  "event ClaimPaid(bytes32 indexed codeHash, address indexed payer, address indexed merchant, uint256 amount, uint256 remaining)",
  "function MAX_VALIDITY() view returns (uint256)",
  "function SETTLEMENT_WINDOW() view returns (uint256)",
  "function WITHDRAWAL_DELAY() view returns (uint256)",
  "function reserve(address token, uint256 amount)",
  "function reserveWithAuthorization(address token, address from, uint256 amount, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function requestWithdrawal(address token, uint256 amount)",
  "function requestWithdrawalWithSig(address payer, address token, uint256 amount, uint256 deadline, bytes signature)",
  "function withdrawalNonce(address payer) view returns (uint256)",
  "function withdraw(address payer, address token) returns (uint256 amount)",
  "function settle((address payer, address merchant, address token, uint256 amount, uint256 nonce, uint256 validAfter, uint256 validBefore, bytes signature)[] codes) returns (uint256 settled)",
  "function reserveOf(address payer, address token) view returns (uint256 balance, uint256 debt, uint256 pendingWithdrawal, uint256 unlockAt)",
  "function isDefaulted(address payer, address token) view returns (bool)",
  "function isNonceUsed(address payer, address merchant, uint256 nonce) view returns (bool)",
  "function claimOf(bytes32 codeHash) view returns (uint256)",
  "function hashCode((address payer, address merchant, address token, uint256 amount, uint256 nonce, uint256 validAfter, uint256 validBefore, bytes signature) code) view returns (bytes32)",
] as const;

/** The contract's Failure enum, by index. */
export const SETTLE_FAILURES = [
  "none",
  "invalid_amount",
  "invalid_merchant",
  "not_yet_valid",
  "validity_too_long",
  "settlement_window_closed",
  "nonce_used",
  "invalid_signature",
  "allowance_exhausted",
] as const;
export type SettleFailure = (typeof SETTLE_FAILURES)[number];

const vaultInterface = new Interface(OFFLINE_VAULT_ABI);
const accountInterface = new Interface(["function deviceIds() view returns (bytes32[] ids)"]);

/** The vault's delays, in seconds. */
export interface VaultParams {
  maxValidity: bigint;
  settlementWindow: bigint;
  withdrawalDelay: bigint;
}

/** A payer's reserve of one token as synced, and how its signatures are checked offline. */
export interface PayerState {
  payer: string;
  token: string;
  balance: bigint;
  debt: bigint;
  pendingWithdrawal: bigint;
  unlockAt: bigint;
  /** `eoa`: ECDSA; `passkey`: a PasskeyAccount with these device key ids (keccak256(qx ‖ qy)). */
  signer: { kind: "eoa" } | { kind: "passkey"; deviceIds: string[] };
}

/** What the merchant knows of the chain after a sync. */
export interface VaultSnapshot {
  chainId: bigint;
  vault: string;
  params: VaultParams;
  /** Chain time of the sync (the block's timestamp), seconds. */
  syncedAt: bigint;
  blockNumber: number;
  payers: PayerState[];
}

async function call(rpcUrl: string, to: string, iface: Interface, fn: string, args: readonly unknown[], block: string): Promise<readonly unknown[]> {
  const data = iface.encodeFunctionData(fn, args);
  const ret = await jsonRpcRequest(rpcUrl, "eth_call", [{ to, data }, block]);
  if (typeof ret !== "string") throw new OrioleError("rpc_error", `eth_call ${fn}: no data`);
  return iface.decodeFunctionResult(fn, ret);
}

function asBigint(v: unknown): bigint {
  if (typeof v !== "bigint") throw new OrioleError("rpc_error", "the vault answered something that is not a number");
  return v;
}

/**
 * Reads every payer who ever reserved (the vault's `Reserved` logs since `fromBlock`) with their
 * reserve of each token, and for contract payers the PasskeyAccount's device ids, all at one block.
 */
export async function readVaultSnapshot(p: { rpcUrl: string; vault: string; fromBlock: number }): Promise<VaultSnapshot> {
  const head = await jsonRpcRequest(p.rpcUrl, "eth_getBlockByNumber", ["latest", false]);
  if (typeof head !== "object" || head === null || !("number" in head) || !("timestamp" in head)) throw new OrioleError("rpc_error", "no latest block");
  const block = String(head.number);
  const chainId = BigInt(String(await jsonRpcRequest(p.rpcUrl, "eth_chainId")));
  const vault = getAddress(p.vault);
  const reserved = vaultInterface.getEvent("Reserved");
  if (!reserved) throw new Error("Reserved event missing from the ABI");
  const logs = await jsonRpcRequest(p.rpcUrl, "eth_getLogs", [{ address: vault, topics: [reserved.topicHash], fromBlock: `0x${p.fromBlock.toString(16)}`, toBlock: block }]);
  if (!Array.isArray(logs)) throw new OrioleError("rpc_error", "eth_getLogs did not return a list");
  const pairs = new Map<string, { payer: string; token: string }>();
  for (const log of logs as { topics: string[] }[]) {
    const [, payerTopic, tokenTopic] = log.topics;
    if (payerTopic === undefined || tokenTopic === undefined) continue;
    const payer = getAddress(`0x${payerTopic.slice(26)}`);
    const token = getAddress(`0x${tokenTopic.slice(26)}`);
    pairs.set(`${payer}:${token}`, { payer, token });
  }
  const [maxValidity, settlementWindow, withdrawalDelay] = await Promise.all(
    (["MAX_VALIDITY", "SETTLEMENT_WINDOW", "WITHDRAWAL_DELAY"] as const).map(async (fn) => asBigint((await call(p.rpcUrl, vault, vaultInterface, fn, [], block))[0])),
  );
  const signers = new Map<string, PayerState["signer"]>();
  const payers: PayerState[] = [];
  for (const { payer, token } of pairs.values()) {
    let signer = signers.get(payer);
    if (!signer) {
      const code = await jsonRpcRequest(p.rpcUrl, "eth_getCode", [payer, block]);
      if (code === "0x") signer = { kind: "eoa" };
      else {
        // A contract that is not a PasskeyAccount cannot be checked offline: no devices, so its codes are refused.
        const ids = await call(p.rpcUrl, payer, accountInterface, "deviceIds", [], block).catch(() => [[]]);
        signer = { kind: "passkey", deviceIds: (ids[0] as string[]).map((id) => id.toLowerCase()) };
      }
      signers.set(payer, signer);
    }
    const r = await call(p.rpcUrl, vault, vaultInterface, "reserveOf", [payer, token], block);
    payers.push({ payer, token, balance: asBigint(r[0]), debt: asBigint(r[1]), pendingWithdrawal: asBigint(r[2]), unlockAt: asBigint(r[3]), signer });
  }
  return {
    chainId,
    vault,
    params: { maxValidity: maxValidity ?? 0n, settlementWindow: settlementWindow ?? 0n, withdrawalDelay: withdrawalDelay ?? 0n },
    syncedAt: BigInt(String(head.timestamp)),
    blockNumber: Number(BigInt(block)),
    payers,
  };
}

/** The on-chain outcome of one code of a settle transaction. */
export interface SettleOutcome {
  /** settled: paid in full (also a bounced code whose claim is now paid); bounced: part or all is an unpaid claim; failed: nothing happened. */
  status: "settled" | "bounced" | "failed";
  reason: SettleFailure;
  paid: bigint;
  /** What is still owed on-chain for this code (its claim). */
  owed: bigint;
}

/**
 * Sends `vault.settle(codes)` and reads each code's outcome from the receipt's events, in order.
 * @param owedBefore the claim still open for each code before this call (0 for a fresh code).
 */
export async function settleCodes(p: { signer: Signer; vault: string; codes: readonly OfflineCode[]; owedBefore: readonly bigint[] }): Promise<{ receipt: TransactionReceipt; outcomes: SettleOutcome[] }> {
  const data = vaultInterface.encodeFunctionData("settle", [p.codes.map(offlineCodeStruct)]);
  const tx = await p.signer.sendTransaction({ to: p.vault, data });
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new OrioleError("settle_failed", "the settle transaction reverted", { txHash: tx.hash });
  const outcomes: SettleOutcome[] = p.codes.map((_, i) => ({ status: "settled", reason: "none", paid: 0n, owed: p.owedBefore[i] ?? 0n }));
  const failed = new Map<number, SettleFailure>();
  const settledKey = new Map<string, bigint>();
  const byHash = new Map<string, { paid: bigint; owed: bigint }>();
  for (const log of receipt.logs) {
    if (getAddress(log.address) !== getAddress(p.vault)) continue;
    const parsed = vaultInterface.parseLog(log);
    if (!parsed) continue;
    const a = parsed.args;
    if (parsed.name === "OfflinePaymentFailed") failed.set(Number(a[0]), SETTLE_FAILURES[Number(a[4])] ?? "none");
    else if (parsed.name === "OfflinePaymentSettled") settledKey.set(`${String(a[0])}:${String(a[1])}:${String(a[3])}`, asBigint(a[4]));
    else if (parsed.name === "OfflinePaymentBounced") byHash.set(String(a[0]).toLowerCase(), { paid: asBigint(a[5]), owed: asBigint(a[6]) });
    else if (parsed.name === "ClaimPaid") byHash.set(String(a[0]).toLowerCase(), { paid: asBigint(a[3]), owed: asBigint(a[4]) });
  }
  p.codes.forEach((c, i) => {
    const o = outcomes[i];
    if (!o) return;
    const fail = failed.get(i);
    const h = byHash.get(hashOfflineCode(c.chainId, c.vault, c).toLowerCase());
    const key = `${getAddress(c.payer)}:${getAddress(c.merchant)}:${c.nonce.toString()}`;
    if (h) {
      o.paid = h.paid;
      o.owed = h.owed;
      o.status = h.owed === 0n ? "settled" : "bounced";
      o.reason = h.owed === 0n ? "none" : "allowance_exhausted";
    } else if (fail === undefined && settledKey.has(key)) {
      o.paid = settledKey.get(key) ?? 0n;
      o.owed = 0n;
      settledKey.delete(key);
    } else {
      o.status = fail === "allowance_exhausted" && o.owed > 0n ? "bounced" : "failed";
      o.reason = fail ?? "none";
    }
  });
  return { receipt, outcomes };
}
