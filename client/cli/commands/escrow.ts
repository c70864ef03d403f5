import { Interface, isError } from "ethers";
import { STABLE_TOKEN_ABI } from "../../sdk/abi.ts";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import type { NetworkInfo } from "../../sdk/apiClient.ts";
import { currencyInfo, type Currency } from "../../sdk/currencies.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { ESCROW_ABI } from "../../sdk/escrow/abi.ts";
import { encodeFund, escrowId, orderIdOf, type EscrowTerms } from "../../sdk/escrow/actions.ts";
import { readEscrow, type EscrowState } from "../../sdk/escrow/state.ts";
import { fetchChainId } from "../../sdk/jsonRpc.ts";
import type { EscrowActionName } from "../../sdk/escrow/actions.ts";
import { relayPasskeyEscrowAction } from "../../sdk/escrow/escrowApi.ts";
import { signEscrowFunding } from "../../sdk/escrow/relay.ts";
import { submitEscrowFunding } from "../../sdk/relayedCalls.ts";
import { readKeystore, type P256Keystore } from "../../sdk/keystore.ts";
import { passkeyWallet, unlockPasskeySigner, withEoaWallet } from "../wallet.ts";
import { paymentProvider } from "../../sdk/payments.ts";
import { usageError } from "../argv.ts";
import { chainNow } from "../chainTime.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseAddressArg, parseCurrencyArg } from "../validate.ts";

const escrowIface = new Interface(ESCROW_ABI);
const tokenIface = new Interface(STABLE_TOKEN_ABI);

export type EscrowVerb = "fund" | "ship" | "release" | "refund" | "dispute" | "offer" | "accept";

export interface EscrowArgs {
  verb: EscrowVerb;
  /** The escrow id (every verb but fund). */
  id?: string | undefined;
  merchant?: string | undefined;
  amount?: string | undefined;
  currency?: string | undefined;
  order?: string | undefined;
  releaseTimeout?: string | undefined;
  disputeWindow?: string | undefined;
  buyerAmount?: string | undefined;
  merchantAmount?: string | undefined;
}

function parseEscrowIdArg(s: string | undefined): string {
  if (s === undefined || !/^0x[0-9a-fA-F]{64}$/.test(s)) throw new OrioleError("invalid_escrow_id", `"${(s ?? "").slice(0, 80)}" is not an escrow id (0x and 64 hex digits)`, { id: (s ?? "").slice(0, 80) });
  return s.toLowerCase();
}

function required(value: string | undefined, option: string, verb: string): string {
  if (value === undefined) throw usageError("usage.missingOption", { option, command: `escrow ${verb}` });
  return value;
}

function seconds(value: string | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new OrioleError("invalid_duration", `${option} must be a whole number of seconds`, { option });
  return Number(value);
}

function view(s: EscrowState, currency: string): Record<string, unknown> {
  return { id: s.id, status: s.status, open: s.open, buyer: s.buyer, merchant: s.merchant, currency, amount: formatAmount(s.amount), amountBaseUnits: s.amount.toString(), shippedAt: s.shippedAt?.toString() ?? null, releasableAt: s.releasableAt?.toString() ?? null, offer: s.offer === null ? null : { buyerAmount: formatAmount(s.offer.buyerAmount), merchantAmount: formatAmount(s.offer.merchantAmount), proposer: s.offer.proposer } };
}

async function network(ctx: CliContext): Promise<{ info: NetworkInfo; escrow: string; chainId: number }> {
  const info = await (await ctx.api()).getNetwork();
  if (info.contracts.escrow === undefined) throw new OrioleError("escrow_unavailable", "this node shows no escrow contract (a node older than issue 6?)");
  const chainId = await fetchChainId(ctx.rpcUrl, 5_000);
  if (chainId !== info.chainId) throw new OrioleError("chain_mismatch", `the node serves chain ${info.chainId.toString()} but the RPC is chain ${chainId.toString()}`, { nodeChainId: info.chainId, rpcChainId: chainId });
  return { info, escrow: info.contracts.escrow, chainId };
}

/** `escrow fund`'s options as EscrowTerms. */
function fundTerms(info: NetworkInfo, args: EscrowArgs): { currency: Currency; terms: EscrowTerms } {
  const currency: Currency = parseCurrencyArg(required(args.currency, "--currency", "fund"));
  const order = required(args.order, "--order", "fund");
  const terms: EscrowTerms = {
    token: info.contracts.tokens[currency],
    merchant: parseAddressArg(required(args.merchant, "--merchant", "fund")),
    amount: parseAmount(required(args.amount, "--amount", "fund")),
    orderId: orderIdOf(order),
    releaseTimeout: seconds(args.releaseTimeout, 7 * 86_400, "--release-timeout"),
    disputeWindow: seconds(args.disputeWindow, 3 * 86_400, "--dispute-window"),
  };
  return { currency, terms };
}

const currencyOf = (info: NetworkInfo, token: string): string => (Object.entries(info.contracts.tokens).find(([, a]) => a === token)?.[0] ?? token);

/** `oriole escrow show <id>`: the escrow's state, read from the contract. */
export async function escrowShow(ctx: CliContext, args: { id: string }): Promise<CommandResult> {
  const id = parseEscrowIdArg(args.id);
  const { info, escrow, chainId } = await network(ctx);
  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    const s = await readEscrow(provider, escrow, id);
    if (!s) throw new OrioleError("escrow_not_found", `no escrow ${id}`, { id });
    const v = view(s, currencyOf(info, s.token));
    return { json: v, text: ctx.t("escrow.shown", { id, status: s.status, amount: formatAmount(s.amount), currency: String(v.currency), buyer: s.buyer, merchant: s.merchant }) };
  } finally {
    provider.destroy();
  }
}

/**
 * `oriole escrow fund|ship|release|refund|dispute|offer|accept`: the wallet (an EOA)
 * calls OrioleEscrow itself (a passkey wallet signs and the node relays: escrowSignedByPasskey). `fund` approves the escrow for the amount first when needed.
 */
export async function escrowSend(ctx: CliContext, args: EscrowArgs): Promise<CommandResult> {
  const keystore = await readKeystore(ctx.keystorePath);
  if (keystore.keyType === "p256") return escrowSignedByPasskey(ctx, keystore, args);
  const { info, escrow, chainId } = await network(ctx);
  const calls: { to: string; data: string }[] = [];
  let id: string;
  if (args.verb === "fund") {
    const terms = fundTerms(info, args).terms;
    id = escrowId(keystore.address, terms.merchant, terms.token, terms.orderId).toLowerCase();
    calls.push({ to: terms.token, data: tokenIface.encodeFunctionData("approve", [escrow, terms.amount]) }, { to: escrow, data: encodeFund(terms) });
  } else {
    id = parseEscrowIdArg(args.id);
    const verb = args.verb;
    const amountOf = (v: string | undefined, option: string): bigint => parseAmount(required(v, option, verb));
    const data =
      verb === "ship"
        ? escrowIface.encodeFunctionData("markShipped", [id])
        : verb === "release"
          ? escrowIface.encodeFunctionData("release", [id])
          : verb === "dispute"
            ? escrowIface.encodeFunctionData("openDispute", [id])
            : verb === "refund"
              ? escrowIface.encodeFunctionData("refund", [id, amountOf(args.amount, "--amount")])
              : escrowIface.encodeFunctionData(verb === "offer" ? "offerSettlement" : "acceptSettlement", [id, amountOf(args.buyerAmount, "--buyer-amount"), amountOf(args.merchantAmount, "--merchant-amount")]);
    calls.push({ to: escrow, data });
  }
  return withEoaWallet(ctx, keystore, chainId, async (wallet, provider) => {
    let txHash = "";
    for (const call of calls) {
      let receipt;
      try {
        receipt = await (await wallet.sendTransaction(call)).wait(1, 120_000);
      } catch (e) {
        if (isError(e, "CALL_EXCEPTION")) throw new OrioleError("tx_rejected", `the escrow contract rejected ${args.verb}: ${e.shortMessage}`, { reason: e.shortMessage }, { cause: e });
        if (isError(e, "INSUFFICIENT_FUNDS")) throw new OrioleError("insufficient_gas", "too little native coin for the fee", { address: wallet.address }, { cause: e });
        throw e;
      }
      if (receipt?.status !== 1) throw new OrioleError("tx_failed", `the ${args.verb} transaction failed`, { txHash: receipt?.hash ?? "" });
      txHash = receipt.hash;
    }
    const s = await readEscrow(provider, escrow, id);
    const v = s === undefined ? { id } : view(s, currencyOf(info, s.token));
    return { json: { action: args.verb, txHash, escrow: v }, text: ctx.t("escrow.sent", { id, action: args.verb, status: s?.status ?? "-", txHash }) };
  });
}

const ACTION_OF: Readonly<Record<Exclude<EscrowVerb, "fund">, EscrowActionName>> = {
  ship: "markShipped",
  release: "release",
  refund: "refund",
  dispute: "openDispute",
  offer: "offerSettlement",
  accept: "acceptSettlement",
};

/**
 * A passkey wallet's fund: its device signs the ERC-3009 authorization
 * (ERC-1271) and the node relays `fundWithAuthorization` (POST /v1/escrows/fundings),
 * deploying the account in the same transaction if this is its first action.
 */
async function escrowFundByPasskey(ctx: CliContext, keystore: P256Keystore, args: EscrowArgs): Promise<CommandResult> {
  const { info, escrow, chainId } = await network(ctx);
  const { currency, terms } = fundTerms(info, args);
  const wallet = await passkeyWallet(ctx, keystore);
  const now = await chainNow(ctx, chainId);
  const sign = await unlockPasskeySigner(ctx, keystore);
  const signed = await signEscrowFunding({ chainId, escrow, tokenName: currencyInfo(currency).name, buyer: wallet.account, terms, now, sign, deployment: wallet.key });
  const record = await submitEscrowFunding(ctx.apiUrl, signed.body);
  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    const s = await readEscrow(provider, escrow, signed.escrowId);
    const v = s === undefined ? { id: signed.escrowId } : view(s, currencyOf(info, s.token));
    const txHash = record.txHash ?? "";
    return { json: { action: "fund", txHash, relayed: true, record: record.id, escrow: v }, text: ctx.t("escrow.sent", { id: signed.escrowId, action: "fund", status: s?.status ?? record.status, txHash }) };
  } finally {
    provider.destroy();
  }
}

/**
 * A passkey wallet cannot send transactions: it signs an EscrowAction (its
 * device asserts over the account's replay-safe hash, checked by ERC-1271)
 * and the node's escrow relayer sends it; `fund` see escrowFundByPasskey.
 */
async function escrowSignedByPasskey(ctx: CliContext, keystore: P256Keystore, args: EscrowArgs): Promise<CommandResult> {
  if (args.verb === "fund") return escrowFundByPasskey(ctx, keystore, args);
  const id = parseEscrowIdArg(args.id);
  const verb = args.verb;
  const amountOf = (v: string | undefined, option: string): bigint => parseAmount(required(v, option, verb));
  const amounts = verb === "refund" ? { buyerAmount: amountOf(args.amount, "--amount") } : verb === "offer" || verb === "accept" ? { buyerAmount: amountOf(args.buyerAmount, "--buyer-amount"), merchantAmount: amountOf(args.merchantAmount, "--merchant-amount") } : {};
  const { escrow, chainId } = await network(ctx);
  const wallet = await passkeyWallet(ctx, keystore);
  const now = await chainNow(ctx, chainId);
  const sign = await unlockPasskeySigner(ctx, keystore);
  const relayed = await relayPasskeyEscrowAction(ctx.apiUrl, {
    chainId,
    escrow,
    account: wallet.account,
    request: { action: ACTION_OF[verb], escrowId: id, ...amounts },
    now,
    sign,
  });
  const status = relayed.escrow?.status ?? "-";
  return { json: { action: verb, txHash: relayed.txHash, relayed: true, escrow: relayed.escrow }, text: ctx.t("escrow.sent", { id, action: verb, status, txHash: relayed.txHash }) };
}
