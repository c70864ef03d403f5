import { payWithPasskey, preparePayment } from "../../sdk/account/passkeyPayment.ts";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import type { NetworkInfo } from "../../sdk/apiClient.ts";
import { CURRENCIES, type Currency } from "../../sdk/currencies.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { fetchChainId } from "../../sdk/jsonRpc.ts";
import { readKeystore, type P256Keystore, type Secp256k1Keystore } from "../../sdk/keystore.ts";
import { parsePaymentUri, type PaymentRequest } from "../../sdk/paymentUri.ts";
import { paymentProvider, sendPayment, tokenBalance } from "../../sdk/payments.ts";
import { usageError } from "../argv.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseAddressArg, parseCurrencyArg, parseReferenceArg } from "../validate.ts";
import { passkeyWallet, unlockPasskeySigner, withEoaWallet } from "../wallet.ts";

export interface PayArgs {
  /** An address (with amount and currency), or an EIP-681 payment request URI (alone). */
  target: string;
  amount?: string;
  currency?: string;
  reference?: string;
}

/** What to pay, before the network is known: typed arguments, or a URI (parsed once the chain is known). */
type Order = { kind: "args"; to: string; amount: bigint; currency: Currency; reference?: string } | { kind: "uri"; uri: string };

function parseOrder(args: PayArgs): Order {
  if (args.target.trim().toLowerCase().startsWith("ethereum:")) {
    if (args.amount !== undefined || args.currency !== undefined || args.reference !== undefined) {
      throw new OrioleError("invalid_payment_uri", "a payment request URI says the amount, currency and reference itself: give it alone");
    }
    return { kind: "uri", uri: args.target };
  }
  const to = parseAddressArg(args.target);
  if (args.amount === undefined || args.currency === undefined) {
    throw usageError("usage.payArguments", {});
  }
  const amount = parseAmount(args.amount);
  const currency = parseCurrencyArg(args.currency);
  return args.reference === undefined ? { kind: "args", to, amount, currency } : { kind: "args", to, amount, currency, reference: parseReferenceArg(args.reference) };
}

/** The order as a payment request on the node's chain; the token must be one of the network's currencies. */
function paymentRequest(order: Order, info: NetworkInfo): PaymentRequest & { currency: Currency } {
  const req: PaymentRequest =
    order.kind === "uri"
      ? parsePaymentUri(order.uri, { defaultChainId: info.chainId })
      : { chainId: info.chainId, token: info.contracts.tokens[order.currency], to: order.to, amount: order.amount, ...(order.reference === undefined ? {} : { reference: order.reference }) };
  if (req.chainId !== info.chainId) {
    throw new OrioleError("wrong_chain", `the request is for chain ${req.chainId.toString()}, the node serves chain ${info.chainId.toString()}`, { requested: req.chainId, chainId: info.chainId });
  }
  const currency = CURRENCIES.find((c) => info.contracts.tokens[c] === req.token);
  if (currency === undefined) throw new OrioleError("unsupported_token", `${req.token} is not a token of this network`, { token: req.token });
  return { ...req, currency };
}

/**
 * `oriole pay <to> <amount> <currency> [--reference R]` or `oriole pay <uri>`.
 * An EOA wallet sends the transaction itself; a passkey wallet signs an intent
 * with its device key and hands it to the node's relayer. Every check that can
 * fail (input, wallet, node, chain id, balance, PIN) runs before anything is sent.
 */
export async function pay(ctx: CliContext, args: PayArgs): Promise<CommandResult> {
  const order = parseOrder(args);
  const keystore = await readKeystore(ctx.keystorePath);
  ctx.progress("pay.checking");
  const info = await (await ctx.api()).getNetwork();
  const chainId = await fetchChainId(ctx.rpcUrl, 5_000);
  if (chainId !== info.chainId) {
    throw new OrioleError("chain_mismatch", `the node serves chain ${info.chainId} but the RPC is chain ${chainId}`, { nodeChainId: info.chainId, rpcChainId: chainId });
  }
  const req = paymentRequest(order, info);
  return keystore.keyType === "p256" ? payFromPasskeyAccount(ctx, keystore, req) : payFromEoa(ctx, keystore, req, chainId);
}

async function checkBalance(ctx: CliContext, chainId: number, token: string, owner: string, needed: bigint, currency: Currency): Promise<void> {
  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    const balance = await tokenBalance(provider, token, owner);
    if (balance < needed) {
      throw new OrioleError("insufficient_funds", `balance ${formatAmount(balance)} ${currency} < ${formatAmount(needed)} ${currency}`, {
        balance: formatAmount(balance),
        amount: formatAmount(needed),
        currency,
      });
    }
  } finally {
    provider.destroy();
  }
}

function result(ctx: CliContext, r: { txHash: string; blockNumber?: number; chainId: number; from: string; to: string; currency: Currency; amount: bigint; reference?: string; extra?: Record<string, unknown> }): CommandResult {
  const shown = formatAmount(r.amount);
  return {
    json: {
      txHash: r.txHash,
      ...(r.blockNumber === undefined ? {} : { blockNumber: r.blockNumber }),
      chainId: r.chainId,
      from: r.from,
      to: r.to,
      currency: r.currency,
      amount: shown,
      amountBaseUnits: r.amount.toString(),
      reference: r.reference ?? null,
      ...r.extra,
    },
    text: ctx.t("pay.done", { amount: shown, currency: r.currency, to: r.to, txHash: r.txHash, block: r.blockNumber ?? "-" }),
  };
}

async function payFromEoa(ctx: CliContext, keystore: Secp256k1Keystore, req: PaymentRequest & { currency: Currency }, chainId: number): Promise<CommandResult> {
  const from = keystore.address;
  await checkBalance(ctx, chainId, req.token, from, req.amount, req.currency);
  return withEoaWallet(ctx, keystore, chainId, async (wallet) => {
    ctx.progress("pay.sending", { amount: formatAmount(req.amount), currency: req.currency, to: req.to });
    const receipt = await sendPayment({ signer: wallet, tokenAddress: req.token, to: req.to, amount: req.amount, ...(req.reference === undefined ? {} : { reference: req.reference }) });
    return result(ctx, { txHash: receipt.hash, blockNumber: receipt.blockNumber, chainId, from, to: req.to, currency: req.currency, amount: req.amount, reference: req.reference });
  });
}

async function payFromPasskeyAccount(ctx: CliContext, keystore: P256Keystore, req: PaymentRequest & { currency: Currency }): Promise<CommandResult> {
  const wallet = await passkeyWallet(ctx, keystore);
  const prepared = preparePayment(req, wallet.net);
  await checkBalance(ctx, wallet.net.chainId, prepared.token, wallet.account, prepared.amount + prepared.relayerFee, prepared.currency);
  const sign = await unlockPasskeySigner(ctx, keystore);
  ctx.progress("pay.sending", { amount: formatAmount(prepared.amount), currency: prepared.currency, to: prepared.to });
  const paid = await payWithPasskey(ctx.apiUrl, wallet.net, wallet.key, prepared, { sign });
  return result(ctx, {
    txHash: paid.txHash,
    chainId: wallet.net.chainId,
    from: wallet.account,
    to: prepared.to,
    currency: prepared.currency,
    amount: prepared.amount,
    reference: prepared.hasReference ? prepared.reference : undefined,
    extra: { intentId: paid.id, relayerFee: formatAmount(paid.relayerFee), relayerFeeBaseUnits: paid.relayerFee.toString() },
  });
}
