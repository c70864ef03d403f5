import { ZeroHash, getAddress } from "ethers";
import type { NetworkInfo } from "../apiClient.ts";
import { CURRENCIES, type Currency } from "../currencies.ts";
import { OrioleError } from "../errors.ts";
import type { PaymentRequest } from "../paymentUri.ts";
import { nextNonce, submitIntent, waitForIntent } from "../relayerClient.ts";
import { predictAccountAddress } from "./accountAddress.ts";
import { hashPaymentIntent, paymentIntentToJson, type PaymentIntent } from "./intent.ts";

/**
 * Paying from a passkey account through the node's relayer: the one flow the
 * web wallet (browser passkey) and the CLI (software device key) share; only
 * `sign` differs.
 */

/** What paying from a passkey account needs to know of the node's network (from GET /v1/network). */
export interface PasskeyNetwork {
  chainId: number;
  tokens: Readonly<Record<Currency, string>>;
  factory: string;
  implementation: string;
  /** The relayer's fee per currency in base units; null when the node runs no relayer. */
  relayerFees: Readonly<Record<Currency, bigint>> | null;
  /** The relayer's address (its fees show in histories); null without a relayer. */
  relayerAddress: string | null;
}

/** The account's first device and CREATE2 salt: its address, and what the relayer deploys it with. */
export interface AccountKey {
  qx: string;
  qy: string;
  salt: bigint;
}

/** A payment checked against the network, ready to confirm and sign. */
export interface PreparedPayment {
  currency: Currency;
  token: string;
  to: string;
  amount: bigint;
  /** bytes32; the zero hash when the request has none. */
  reference: string;
  hasReference: boolean;
  relayerFee: bigint;
}

/** How long a signed intent stays valid: long enough for a slow relayer, short enough that a stale one dies. */
export const INTENT_TTL_SECONDS = 600n;

/**
 * GET /v1/network reduced to what passkey payments need.
 * @throws OrioleError `no_accounts` when the node's deployment has no passkey account factory
 */
export function passkeyNetwork(info: NetworkInfo): PasskeyNetwork {
  const accounts = info.contracts.accounts;
  if (!accounts) throw new OrioleError("no_accounts", "this node's deployment has no passkey account factory");
  return {
    chainId: info.chainId,
    tokens: info.contracts.tokens,
    factory: accounts.factory,
    implementation: accounts.implementation,
    relayerFees: info.relayer ? info.relayer.fees : null,
    relayerAddress: info.relayer ? info.relayer.address : null,
  };
}

/** The passkey account's address on this network (counterfactual until its first payment deploys it). */
export function passkeyAccountAddress(net: PasskeyNetwork, key: AccountKey): string {
  return predictAccountAddress({ factory: net.factory, implementation: net.implementation, qx: key.qx, qy: key.qy, salt: key.salt });
}

/**
 * Checks a payment request (a parsed EIP-681 URI, or the CLI's arguments) fits
 * this network: same chain, a token this network issues, a relayer that takes
 * that currency.
 * @throws OrioleError `wrong_chain`, `unsupported_token`, `no_relayer`
 */
export function preparePayment(req: PaymentRequest, net: PasskeyNetwork): PreparedPayment {
  if (req.chainId !== net.chainId) {
    throw new OrioleError("wrong_chain", `the request is for chain ${String(req.chainId)}, this wallet is on chain ${net.chainId}`, { requested: String(req.chainId), chainId: net.chainId });
  }
  const token = getAddress(req.token);
  const currency = CURRENCIES.find((c) => net.tokens[c] === token);
  if (currency === undefined) throw new OrioleError("unsupported_token", `${token} is not a token of this network`, { token });
  if (net.relayerFees === null) throw new OrioleError("no_relayer", "this node runs no relayer");
  const reference = req.reference ?? ZeroHash;
  return { currency, token, to: getAddress(req.to), amount: req.amount, reference, hasReference: req.reference !== undefined, relayerFee: net.relayerFees[currency] };
}

export interface PasskeyPaymentOptions {
  /** Signs the 32-byte challenge (0x-hex) with a device of the account; returns the passkey signature (spec §1). */
  sign(challenge: string): Promise<string>;
  /** The intent is built; the device is about to ask for the fingerprint, face or PIN. */
  onSigning?(): void;
  /** The intent is signed and goes to the relayer. */
  onSending?(): void;
  /** Unix seconds now (default: this machine's clock). */
  now?(): number;
  /** How long to wait for the relayer's transaction to be confirmed (default 120 s). */
  timeoutMs?: number;
}

export interface PasskeyPaymentResult {
  id: string;
  txHash: string;
  account: string;
  nonce: bigint;
  relayerFee: bigint;
}

/**
 * Pays a prepared payment from the passkey account: the next free nonce from
 * the node, an EIP-712 intent whose digest is the WebAuthn challenge, the
 * device's assertion, POST /v1/intents, then waits until the relayer's
 * transaction is confirmed. The deployment parameters always travel with the
 * intent: the relayer deploys the account with its first payment and ignores
 * them afterwards.
 * @throws OrioleError with the relayer's code when it refuses or the payment fails
 */
export async function payWithPasskey(apiUrl: string, net: PasskeyNetwork, key: AccountKey, p: PreparedPayment, opts: PasskeyPaymentOptions): Promise<PasskeyPaymentResult> {
  const account = passkeyAccountAddress(net, key);
  const nonce = await nextNonce(apiUrl, account);
  const now = BigInt(Math.floor(opts.now?.() ?? Date.now() / 1000));
  const intent: PaymentIntent = {
    token: p.token,
    to: p.to,
    amount: p.amount,
    reference: p.reference,
    nonce,
    deadline: now + INTENT_TTL_SECONDS,
    maxRelayerFee: p.relayerFee,
  };
  const challenge = hashPaymentIntent(net.chainId, account, intent);
  opts.onSigning?.();
  const signature = await opts.sign(challenge);
  opts.onSending?.();
  const submitted = await submitIntent(apiUrl, {
    account,
    intent: paymentIntentToJson(intent),
    signature,
    deployment: { qx: key.qx, qy: key.qy, salt: key.salt.toString() },
  });
  const done = await waitForIntent(apiUrl, submitted.id, { timeoutMs: opts.timeoutMs ?? 120_000 });
  if (done.status !== "confirmed" || done.txHash === null) {
    const err = done.error ?? { code: "payment_failed", message: `the payment ended as ${done.status}` };
    throw new OrioleError(err.code, err.message, { id: submitted.id, txHash: done.txHash ?? "" });
  }
  return { id: submitted.id, txHash: done.txHash, account, nonce, relayerFee: done.relayerFee };
}
