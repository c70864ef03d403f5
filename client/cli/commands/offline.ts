import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { getAddress } from "ethers";
import { z } from "zod";
import { predictAccountAddress } from "../../sdk/account/accountAddress.ts";
import { SoftwareDevice } from "../../sdk/account/softwareDevice.ts";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import { CURRENCIES, type Currency, currencyInfo } from "../../sdk/currencies.ts";
import { deploymentPath, readDeployment } from "../../sdk/deployment.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { fetchChainId } from "../../sdk/jsonRpc.ts";
import { readKeystore, type Keystore, type P256Keystore, type Secp256k1Keystore } from "../../sdk/keystore.ts";
import { encodeOfflineCode, hashOfflineCode } from "../../sdk/offline/code.ts";
import { type CollectedCode, OfflineCollector } from "../../sdk/offline/collector.ts";
import {
  completeWithdrawal,
  createOfflineCodeWithEoa,
  createOfflineCodeWithPasskey,
  requestWithdrawalFromEoa,
  requestWithdrawalViaNode,
  reserveFromEoa,
  reserveViaNode,
  takeOfflineNonce,
} from "../../sdk/offline/payer.ts";
import { completeWithdrawalViaNode } from "../../sdk/relayedCalls.ts";
import { chainNow } from "../chainTime.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseAddressArg, parseCurrencyArg } from "../validate.ts";
import { CLI_ASSERT, passkeyAccountKey, unlockEoaWallet, unlockPasskeyDevice, unlockPasskeySigner, withEoaWallet } from "../wallet.ts";

/**
 * `oriole offline …`: the payer reserves an allowance and makes codes with no
 * network; the merchant syncs, accepts codes with no network, and settles
 * them in one batch when online. What the offline commands need (chain id,
 * vault, tokens, account factory) is saved by the online ones in
 * `offline.json` next to the keystore.
 */

/** Default validity of a code: 15 minutes. */
const DEFAULT_VALID_FOR = 900n;

const address = z.string().transform((s) => getAddress(s));
const settingsSchema = z.strictObject({
  chainId: z.number().int().positive(),
  vault: address,
  fromBlock: z.number().int().nonnegative(),
  tokens: z.record(z.enum(CURRENCIES), address),
  accounts: z.strictObject({ factory: address, implementation: address }),
});
type OfflineSettings = z.infer<typeof settingsSchema>;

function files(ctx: CliContext) {
  const dir = path.dirname(ctx.keystorePath);
  return { settings: path.join(dir, "offline.json"), nonce: path.join(dir, "offline-nonce"), collector: path.join(dir, "offline-collector") };
}

/** Reads the deployment of the RPC's chain (`--deployment`, default deployments/<chainId>.json) and saves what offline commands need. */
async function saveSettings(ctx: CliContext, deploymentFile: string | undefined): Promise<OfflineSettings> {
  const chainId = await fetchChainId(ctx.rpcUrl, 5_000);
  const file = path.resolve(deploymentFile ?? deploymentPath(chainId));
  const d = await readDeployment(file);
  if (!d) throw new OrioleError("deployment_not_found", `no deployment at ${file} (use --deployment FILE)`, { file });
  if (d.chainId !== chainId) throw new OrioleError("chain_mismatch", `the deployment is for chain ${d.chainId.toString()}, the RPC is chain ${chainId.toString()}`, { nodeChainId: d.chainId, rpcChainId: chainId });
  const settings: OfflineSettings = {
    chainId,
    vault: d.contracts.offlineVault,
    fromBlock: d.deployedAt.blockNumber,
    tokens: d.contracts.tokens,
    accounts: { factory: d.contracts.accounts.factory, implementation: d.contracts.accounts.implementation },
  };
  const target = files(ctx).settings;
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(`${target}.tmp`, `${JSON.stringify(settings, null, 2)}\n`);
  await rename(`${target}.tmp`, target);
  return settings;
}

async function loadSettings(ctx: CliContext): Promise<OfflineSettings> {
  const file = files(ctx).settings;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new OrioleError("offline_not_synced", `no ${file}: run \`oriole offline reserve\` (payer) or \`oriole offline sync\` (merchant) once online`, { file });
  }
  const parsed = settingsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new OrioleError("offline_not_synced", `${file} is not valid: run \`oriole offline sync\` again`, { file });
  return parsed.data;
}

function accountOf(keystore: Keystore, s: OfflineSettings): string {
  if (keystore.keyType === "secp256k1") return keystore.address;
  return predictAccountAddress({ factory: s.accounts.factory, implementation: s.accounts.implementation, ...passkeyAccountKey(keystore) });
}

function eoaOnly(keystore: Keystore): Secp256k1Keystore {
  if (keystore.keyType !== "secp256k1") throw new OrioleError("unsupported_key_type", "this command needs an EOA wallet (secp256k1)", { keyType: keystore.keyType });
  return keystore;
}

/** `oriole offline reserve <amount> <currency>`: moves tokens into the offline vault (passkey wallets: a signed authorization the node submits). */
export async function offlineReserve(ctx: CliContext, args: { amount: string; currency: string; deployment: string | undefined }): Promise<CommandResult> {
  const amount = parseAmount(args.amount);
  const currency = parseCurrencyArg(args.currency);
  const keystore = await readKeystore(ctx.keystorePath);
  const s = await saveSettings(ctx, args.deployment);
  const token = s.tokens[currency];
  if (keystore.keyType === "p256") {
    // A passkey account cannot send transactions: it signs an ERC-3009 authorization and the node submits reserveWithAuthorization
    // (deploying the account in the same transaction if this is its first action).
    const sign = await unlockPasskeySigner(ctx, keystore);
    const account = accountOf(keystore, s);
    const record = await reserveViaNode(ctx.apiUrl, { chainId: s.chainId, vault: s.vault, account, token, tokenName: currencyInfo(currency).name, amount, sign, now: await chainNow(ctx, s.chainId), deployment: passkeyAccountKey(keystore) });
    const txHash = record.txHash ?? "";
    return { json: { account, vault: s.vault, currency, amount: formatAmount(amount), txHash, relayed: true, record: record.id, status: record.status }, text: ctx.t("offline.reserved", { amount: formatAmount(amount), currency, vault: s.vault, txHash }) };
  }
  return withEoaWallet(ctx, keystore, s.chainId, async (signer) => {
    const txHash = await reserveFromEoa({ signer, vault: s.vault, token, amount });
    return { json: { account: keystore.address, vault: s.vault, currency, amount: formatAmount(amount), txHash }, text: ctx.t("offline.reserved", { amount: formatAmount(amount), currency, vault: s.vault, txHash }) };
  });
}

/** A passkey wallet's withdrawal: the device signs the request (ERC-1271) and the node relays it; the node also completes it. */
async function passkeyWithdraw(ctx: CliContext, keystore: P256Keystore, s: OfflineSettings, p: { amount: bigint | undefined; currency: Currency; complete: boolean }): Promise<CommandResult> {
  const account = accountOf(keystore, s);
  const token = s.tokens[p.currency];
  if (p.complete) {
    const record = await completeWithdrawalViaNode(ctx.apiUrl, { payer: account, token });
    const txHash = record.txHash ?? "";
    return { json: { account, vault: s.vault, currency: p.currency, amount: formatAmount(record.amount), txHash, relayed: true, record: record.id, status: record.status }, text: ctx.t("offline.withdrawn", { amount: formatAmount(record.amount), currency: p.currency, txHash }) };
  }
  if (p.amount === undefined) throw new OrioleError("invalid_amount", "an amount to withdraw is needed");
  const sign = await unlockPasskeySigner(ctx, keystore);
  const { record, reserve } = await requestWithdrawalViaNode(ctx.apiUrl, { chainId: s.chainId, payer: account, currency: p.currency, amount: p.amount, sign });
  const unlockAt = new Date(Number(reserve.unlockAt) * 1000).toISOString();
  const txHash = record.txHash ?? "";
  return {
    json: { account, vault: s.vault, currency: p.currency, amount: formatAmount(p.amount), reserved: formatAmount(reserve.balance), unlockAt, txHash, relayed: true, record: record.id, status: record.status },
    text: ctx.t("offline.withdrawalRequested", { amount: formatAmount(p.amount), currency: p.currency, unlockAt, txHash }),
  };
}

/**
 * `oriole offline withdraw <amount> <currency>` asks for part of the reserve back (replacing any pending request);
 * `oriole offline withdraw --complete <currency>` takes it once the vault's delay has passed. An EOA wallet sends
 * its own transactions; a passkey wallet signs and the node relays.
 */
export async function offlineWithdraw(ctx: CliContext, args: { amount: string | undefined; currency: string; complete: boolean; deployment: string | undefined }): Promise<CommandResult> {
  const amount = args.amount === undefined ? undefined : parseAmount(args.amount);
  const currency = parseCurrencyArg(args.currency);
  const stored = await readKeystore(ctx.keystorePath);
  const s = await saveSettings(ctx, args.deployment);
  if (stored.keyType === "p256") return passkeyWithdraw(ctx, stored, s, { amount, currency, complete: args.complete });
  const keystore = eoaOnly(stored);
  const token = s.tokens[currency];
  return withEoaWallet(ctx, keystore, s.chainId, async (signer) => {
    if (args.complete) {
      const { txHash, amount: paid } = await completeWithdrawal({ signer, vault: s.vault, payer: keystore.address, token });
      return { json: { account: keystore.address, vault: s.vault, currency, amount: formatAmount(paid), txHash }, text: ctx.t("offline.withdrawn", { amount: formatAmount(paid), currency, txHash }) };
    }
    if (amount === undefined) throw new OrioleError("invalid_amount", "an amount to withdraw is needed");
    const { txHash, reserve } = await requestWithdrawalFromEoa({ signer, vault: s.vault, token, amount });
    const unlockAt = new Date(Number(reserve.unlockAt) * 1000).toISOString();
    return {
      json: { account: keystore.address, vault: s.vault, currency, amount: formatAmount(amount), reserved: formatAmount(reserve.balance), unlockAt, txHash },
      text: ctx.t("offline.withdrawalRequested", { amount: formatAmount(amount), currency, unlockAt, txHash }),
    };
  });
}

/** `oriole offline code <merchant> <amount> <currency>`: signs a payment code with no network. */
export async function offlineCode(ctx: CliContext, args: { merchant: string; amount: string; currency: string; validFor: string | undefined }): Promise<CommandResult> {
  const merchant = parseAddressArg(args.merchant);
  const amount = parseAmount(args.amount);
  const currency = parseCurrencyArg(args.currency);
  const validFor = args.validFor === undefined ? DEFAULT_VALID_FOR : /^\d{1,6}$/.test(args.validFor) ? BigInt(args.validFor) : -1n;
  if (validFor <= 0n || validFor > 86_340n) throw new OrioleError("invalid_validity", "--valid-for is a number of seconds from 1 to 86340 (a code lives at most a day)");
  const keystore = await readKeystore(ctx.keystorePath);
  const s = await loadSettings(ctx);
  // Unlocked before a nonce is taken: a wrong PIN spends none.
  const signer = keystore.keyType === "p256" ? await unlockPasskeyDevice(ctx, keystore) : await unlockEoaWallet(ctx, keystore);
  const nonce = await takeOfflineNonce(files(ctx).nonce);
  const request = { chainId: BigInt(s.chainId), vault: s.vault, payer: accountOf(keystore, s), merchant, token: s.tokens[currency], amount, nonce, now: BigInt(Math.floor(Date.now() / 1000)), validFor };
  const code = signer instanceof SoftwareDevice ? createOfflineCodeWithPasskey(signer, request, CLI_ASSERT) : await createOfflineCodeWithEoa(signer, request);
  const text = encodeOfflineCode(code);
  const id = hashOfflineCode(code.chainId, code.vault, code);
  // The terminal QR code is for people only; --json carries the text.
  const qr = ctx.json ? "" : await (await import("qrcode")).toString(text, { type: "terminal", small: true, errorCorrectionLevel: "L" });
  return {
    json: { code: text, id, payer: code.payer, merchant, currency, amount: formatAmount(amount), nonce: nonce.toString(), validBefore: code.validBefore.toString() },
    text: `${ctx.t("offline.code", { amount: formatAmount(amount), currency, merchant, code: text })}\n${qr}`,
  };
}

async function merchantCollector(ctx: CliContext, online: boolean): Promise<{ collector: OfflineCollector; merchant: string; settings: OfflineSettings }> {
  const keystore = eoaOnly(await readKeystore(ctx.keystorePath));
  const settings = await loadSettings(ctx);
  const collector = await OfflineCollector.open({
    dir: files(ctx).collector,
    merchant: keystore.address,
    tokens: Object.values(settings.tokens),
    vault: settings.vault,
    fromBlock: settings.fromBlock,
    ...(online ? { rpcUrl: ctx.rpcUrl } : {}),
  });
  return { collector, merchant: keystore.address, settings };
}

/** `oriole offline sync`: reads the payers' reserves, defaults and device keys for offline checks. */
export async function offlineSync(ctx: CliContext, args: { deployment: string | undefined }): Promise<CommandResult> {
  eoaOnly(await readKeystore(ctx.keystorePath));
  await saveSettings(ctx, args.deployment);
  const { collector } = await merchantCollector(ctx, true);
  try {
    const snap = await collector.sync();
    const defaulted = snap.payers.filter((p) => p.debt > 0n).length;
    return { json: { blockNumber: snap.blockNumber, syncedAt: snap.syncedAt.toString(), payers: snap.payers.length, defaulted }, text: ctx.t("offline.synced", { payers: snap.payers.length, defaulted, block: snap.blockNumber }) };
  } finally {
    await collector.close();
  }
}

function currencyOf(s: OfflineSettings, token: string): string {
  return CURRENCIES.find((c: Currency) => s.tokens[c] === getAddress(token)) ?? token;
}

function line(s: OfflineSettings, r: CollectedCode): string {
  const settleBy = new Date(Number(r.settleBy) * 1000).toISOString();
  const extra =
    r.status === "bounced" ? ` (${r.reason}: paid ${formatAmount(BigInt(r.paid))}, owed ${formatAmount(BigInt(r.owed))})` : r.status === "failed" ? ` (${r.reason})` : r.status === "accepted" ? ` (settle by ${settleBy})` : "";
  return `${r.status.padEnd(8)} ${formatAmount(BigInt(r.amount))} ${currencyOf(s, r.token)} from ${r.payer} #${r.nonce}${extra}`;
}

/** `oriole offline accept <code>`: verifies a payer's code with no network and stores it. */
export async function offlineAccept(ctx: CliContext, args: { code: string }): Promise<CommandResult> {
  const { collector, settings } = await merchantCollector(ctx, false);
  try {
    const r = await collector.accept(args.code);
    return { json: r, text: ctx.t("offline.accepted", { amount: formatAmount(BigInt(r.amount)), currency: currencyOf(settings, r.token), payer: r.payer }) };
  } finally {
    await collector.close();
  }
}

/** `oriole offline list`: every collected code and its status. */
export async function offlineList(ctx: CliContext): Promise<CommandResult> {
  const { collector, settings } = await merchantCollector(ctx, false);
  try {
    const items = collector.list();
    return { json: { items }, text: items.length === 0 ? ctx.t("offline.none") : items.map((r) => line(settings, r)).join("\n") };
  } finally {
    await collector.close();
  }
}

/** `oriole offline settle`: settles everything collected, in batches of 100, and shows each outcome. */
export async function offlineSettle(ctx: CliContext): Promise<CommandResult> {
  const { collector, settings } = await merchantCollector(ctx, true);
  const keystore = eoaOnly(await readKeystore(ctx.keystorePath));
  try {
    await collector.sync();
    return await withEoaWallet(ctx, keystore, settings.chainId, async (signer) => {
      const { txHashes, outcomes } = await collector.settle(signer);
      const settled = outcomes.filter((o) => o.status === "settled").length;
      const text = [ctx.t("offline.settled", { settled, total: outcomes.length, txs: txHashes.length }), ...outcomes.map((r) => line(settings, r))].join("\n");
      return { json: { txHashes, outcomes }, text };
    });
  } finally {
    await collector.close();
  }
}
