import { hexlify, Wallet } from "ethers";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { fetchChainId } from "../../sdk/jsonRpc.ts";
import { readKeystore, unlockKeystore } from "../../sdk/keystore.ts";
import { paymentProvider, sendPayment, tokenBalance } from "../../sdk/payments.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { readPin } from "../secrets.ts";
import { parseAddressArg, parseCurrencyArg } from "../validate.ts";

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
  const chainId = await fetchChainId(ctx.rpcUrl, 5_000);
  if (chainId !== network.chainId) {
    throw new OrioleError("chain_mismatch", `the node serves chain ${network.chainId} but the RPC is chain ${chainId}`, { nodeChainId: network.chainId, rpcChainId: chainId });
  }
  const tokenAddress = network.contracts.tokens[currency];

  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    const balance = await tokenBalance(provider, tokenAddress, from);
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
    const receipt = await sendPayment({ signer: wallet, tokenAddress, to, amount });

    const shown = formatAmount(amount);
    return {
      json: { txHash: receipt.hash, blockNumber: receipt.blockNumber, chainId, from, to, currency, amount: shown, amountBaseUnits: amount.toString() },
      text: ctx.t("pay.done", { amount: shown, currency, to, txHash: receipt.hash, block: receipt.blockNumber }),
    };
  } finally {
    provider.destroy();
  }
}
