import { hexlify, Interface, isError, JsonRpcProvider, Network, Wallet, type TransactionReceipt } from "ethers";
import { STABLE_TOKEN_ABI } from "../../sdk/abi.ts";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { readKeystore, unlockKeystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { rpcChainId } from "../rpc.ts";
import { readPin } from "../secrets.ts";
import { parseAddressArg, parseCurrencyArg } from "../validate.ts";

const token = new Interface(STABLE_TOKEN_ABI);
/** Local chains mine at once; ethers would otherwise poll every 4 s. */
const POLLING_INTERVAL_MS = 50;
const RECEIPT_TIMEOUT_MS = 120_000;

/**
 * `oriole pay <to> <amount> <currency>`. Every check that can fail (input,
 * wallet, node, chain id, token balance, PIN) runs before anything is sent.
 */
export async function pay(ctx: CliContext, args: { to: string; amount: string; currency: string }): Promise<CommandResult> {
  const to = parseAddressArg(args.to);
  const amount = parseAmount(args.amount);
  const currency = parseCurrencyArg(args.currency);

  const keystore = await readKeystore(ctx.keystorePath);
  const from = keystore.address;
  ctx.progress("pay.checking");
  const network = await (await ctx.api()).getNetwork();
  const chainId = await rpcChainId(ctx.rpcUrl);
  if (chainId !== network.chainId) {
    throw new OrioleError("chain_mismatch", `the node serves chain ${network.chainId} but the RPC is chain ${chainId}`, { nodeChainId: network.chainId, rpcChainId: chainId });
  }
  const tokenAddress = network.contracts.tokens[currency];

  // cacheTimeout -1: ethers otherwise keeps a 250 ms timer per request alive, delaying the exit.
  const provider = new JsonRpcProvider(ctx.rpcUrl, Network.from(chainId), { staticNetwork: true, pollingInterval: POLLING_INTERVAL_MS, cacheTimeout: -1 });
  try {
    const balance = await rpcStep(ctx.rpcUrl, async () => {
      const ret = await provider.call({ to: tokenAddress, data: token.encodeFunctionData("balanceOf", [from]) });
      const value: unknown = token.decodeFunctionResult("balanceOf", ret)[0];
      if (typeof value !== "bigint") throw new Error("balanceOf did not return a number");
      return value;
    });
    if (balance < amount) {
      throw new OrioleError("insufficient_funds", `balance ${formatAmount(balance)} ${currency} < ${formatAmount(amount)} ${currency}`, {
        balance: formatAmount(balance),
        amount: formatAmount(amount),
        currency,
      });
    }

    const pin = await readPin(ctx);
    const privateKey = await unlockKeystore({ keystore, pin });
    const wallet = new Wallet(hexlify(privateKey), provider);
    privateKey.fill(0);

    ctx.progress("pay.sending", { amount: formatAmount(amount), currency, to });
    const tx = await rpcStep(ctx.rpcUrl, () => wallet.sendTransaction({ to: tokenAddress, data: token.encodeFunctionData("transfer", [to, amount]) }), from);
    let receipt: TransactionReceipt | null;
    try {
      receipt = await tx.wait(1, RECEIPT_TIMEOUT_MS);
    } catch (e) {
      throw new OrioleError("tx_failed", `transaction ${tx.hash} failed`, { txHash: tx.hash }, { cause: e });
    }
    if (receipt?.status !== 1) throw new OrioleError("tx_failed", `transaction ${tx.hash} failed`, { txHash: tx.hash });

    const shown = formatAmount(amount);
    return {
      json: { txHash: receipt.hash, blockNumber: receipt.blockNumber, chainId, from, to, currency, amount: shown, amountBaseUnits: amount.toString() },
      text: ctx.t("pay.done", { amount: shown, currency, to, txHash: receipt.hash, block: receipt.blockNumber }),
    };
  } finally {
    provider.destroy();
  }
}

/** Runs one JSON-RPC step, turning ethers' errors into OrioleErrors with stable codes. */
async function rpcStep<T>(rpcUrl: string, step: () => Promise<T>, from?: string): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof OrioleError) throw e;
    if (isError(e, "INSUFFICIENT_FUNDS")) throw new OrioleError("insufficient_gas", "too little native coin for the fee", { address: from ?? "" }, { cause: e });
    if (isError(e, "CALL_EXCEPTION")) throw new OrioleError("tx_rejected", `the token contract rejected the transfer: ${e.shortMessage}`, { reason: e.shortMessage }, { cause: e });
    const reason = e instanceof Error ? e.message.split("\n")[0] ?? e.message : String(e);
    throw new OrioleError("rpc_error", `the chain's JSON-RPC at ${rpcUrl} failed: ${reason}`, { url: rpcUrl, reason }, { cause: e });
  }
}
