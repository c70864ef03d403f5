import { Interface, isError, JsonRpcProvider, Network, type Signer, type TransactionReceipt } from "ethers";
import { STABLE_TOKEN_ABI } from "./abi.ts";
import { OrioleError } from "./errors.ts";
import { isExecutionRevert } from "./executionRevert.ts";

const token = new Interface(STABLE_TOKEN_ABI);
/** Local chains mine at once; ethers would otherwise poll every 4 s. */
const POLLING_INTERVAL_MS = 50;
const RECEIPT_TIMEOUT_MS = 120_000;

/**
 * A JSON-RPC provider tuned for paying: a fixed chain id (no network probing),
 * fast receipt polling, and no ethers request-cache timers (which would keep
 * a short-lived process such as the CLI alive after it is done).
 */
export function paymentProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, pollingInterval: POLLING_INTERVAL_MS, cacheTimeout: -1 });
}

/** On-chain token balance of `owner`. */
export async function tokenBalance(provider: JsonRpcProvider, tokenAddress: string, owner: string): Promise<bigint> {
  return rpcStep(async () => {
    const ret = await provider.call({ to: tokenAddress, data: token.encodeFunctionData("balanceOf", [owner]) });
    const value: unknown = token.decodeFunctionResult("balanceOf", ret)[0];
    if (typeof value !== "bigint") throw new Error("balanceOf did not return a number");
    return value;
  });
}

export interface SendPaymentParameters {
  /** The payer's key, connected to the chain's provider. */
  signer: Signer;
  tokenAddress: string;
  to: string;
  /** Base units. */
  amount: bigint;
  /** A bytes32 payment reference (e.g. an invoice's): sent with the token's `pay`, which emits `Payment`. */
  reference?: string;
  receiptTimeoutMs?: number;
}

/**
 * Signs and sends an ERC-20 `transfer` (or, with a reference, the token's
 * `pay`) from an EOA wallet and waits until it is mined. Resolves with the successful receipt; throws OrioleError with a
 * stable code (`insufficient_gas`, `tx_rejected`, `tx_failed`, `rpc_error`).
 */
export async function sendPayment(p: SendPaymentParameters): Promise<TransactionReceipt> {
    const from = await p.signer.getAddress();
  const data = p.reference === undefined ? token.encodeFunctionData("transfer", [p.to, p.amount]) : token.encodeFunctionData("pay", [p.to, p.amount, p.reference]);
  const tx = await rpcStep(() => p.signer.sendTransaction({ to: p.tokenAddress, data }), from);
  let receipt: TransactionReceipt | null;
  try {
    receipt = await tx.wait(1, p.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS);
  } catch (e) {
    throw new OrioleError("tx_failed", `transaction ${tx.hash} failed`, { txHash: tx.hash }, { cause: e });
  }
  if (receipt?.status !== 1) throw new OrioleError("tx_failed", `transaction ${tx.hash} failed`, { txHash: tx.hash });
  return receipt;
}

/** Runs one JSON-RPC step, turning ethers' errors into OrioleErrors with stable codes. */
async function rpcStep<T>(step: () => Promise<T>, from?: string): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof OrioleError) throw e;
    if (isError(e, "INSUFFICIENT_FUNDS")) throw new OrioleError("insufficient_gas", "too little native coin for the fee", { address: from ?? "" }, { cause: e });
    if (isExecutionRevert(e)) throw new OrioleError("tx_rejected", `the token contract rejected the transfer: ${e.shortMessage}`, { reason: e.shortMessage }, { cause: e });
    const reason = e instanceof Error ? (e.message.split("\n")[0] ?? e.message) : String(e);
    throw new OrioleError("rpc_error", `the chain's JSON-RPC failed: ${reason}`, { reason }, { cause: e });
  }
}
