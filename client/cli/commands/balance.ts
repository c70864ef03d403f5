import { formatAmount } from "../../sdk/amount.ts";
import { CURRENCIES } from "../../sdk/currencies.ts";
import { readKeystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseAddressArg } from "../validate.ts";
import { walletAddressOf } from "../wallet.ts";

/** `oriole balance [address]`: balances per currency as indexed by the node. */
export async function balance(ctx: CliContext, args: { address?: string }): Promise<CommandResult> {
  const address = args.address !== undefined ? parseAddressArg(args.address) : await walletAddressOf(ctx, await readKeystore(ctx.keystorePath));
  const res = await (await ctx.api()).getBalances({ address });
  const json = {
    address: res.address,
    indexedBlock: res.indexedBlock,
    balances: Object.fromEntries(CURRENCIES.map((c) => [c, { amount: formatAmount(res.balances[c]), baseUnits: res.balances[c].toString() }])),
  };
  const width = Math.max(...CURRENCIES.map((c) => formatAmount(res.balances[c]).length));
  const lines = CURRENCIES.map((c) => `  ${c}  ${formatAmount(res.balances[c]).padStart(width)}`);
  return { json, text: [ctx.t("balance.header", { address: res.address, block: res.indexedBlock }), ...lines].join("\n") };
}
