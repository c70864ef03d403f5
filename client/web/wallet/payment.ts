import { ZeroHash, getAddress, getBytes } from "ethers";
import type { Currency } from "../../sdk/currencies.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { hashPaymentIntent, paymentIntentToJson, type PaymentIntent } from "../../sdk/account/intent.ts";
import { encodePasskeySignature } from "../../sdk/account/webauthn.ts";
import { parsePaymentUri } from "../../sdk/paymentUri.ts";
import { nextNonce, submitIntent, waitForIntent } from "../../sdk/relayerClient.ts";
import { getAssertion } from "./passkey.ts";
import type { StoredWallet } from "./storage.ts";

/** What the wallet needs to know about the network it pays on (from GET /v1/network). */
export interface WalletNetwork {
  chainId: number;
  tokens: Readonly<Record<Currency, string>>;
  factory: string;
  implementation: string;
  /** The relayer's fee per currency in base units; null when the node runs no relayer. */
  relayerFees: Readonly<Partial<Record<Currency, bigint>>> | null;
  /** The relayer's address (its fees show in the history); null without a relayer. */
  relayerAddress: string | null;
}

/** A payment request checked against the network, ready to confirm. */
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
const INTENT_TTL_SECONDS = 600n;
const CONFIRM_TIMEOUT_MS = 120_000;

/**
 * Parses an EIP-681 payment request with the SDK and checks it fits this
 * network: same chain, a token this network issues, a relayer fee known.
 * Throws OrioleError (`invalid_payment_uri`, `wrong_chain`, `request_unsupported_token`, `no_relayer`).
 */
export function preparePayment(uri: string, net: WalletNetwork): PreparedPayment {
  const req = parsePaymentUri(uri.trim(), { defaultChainId: net.chainId });
  if (req.chainId !== net.chainId) {
    throw new OrioleError("wrong_chain", `the request is for chain ${req.chainId}, this wallet is on chain ${net.chainId}`, { requested: req.chainId, chainId: net.chainId });
  }
  const token = getAddress(req.token);
  const currency = (Object.keys(net.tokens) as Currency[]).find((c) => net.tokens[c] === token);
  if (currency === undefined) throw new OrioleError("request_unsupported_token", `${token} is not a token of this network`, { token });
  if (net.relayerFees === null) throw new OrioleError("no_relayer", "this node runs no relayer");
  const relayerFee = net.relayerFees[currency];
  if (relayerFee === undefined) throw new OrioleError("no_relayer", `the relayer takes no ${currency}`, { currency });
  const reference = req.reference ?? ZeroHash;
  return { currency, token, to: getAddress(req.to), amount: req.amount, reference, hasReference: req.reference !== undefined, relayerFee };
}

export interface PaymentHooks {
  /** The intent is built; the authenticator is about to ask for the fingerprint / face. */
  onSigning(): void;
  /** The assertion is made; the intent goes to the relayer. */
  onSending(): void;
}

export interface PaymentResult {
  id: string;
  txHash: string;
}

/**
 * Pays a prepared request from the passkey account: next free nonce from the
 * node, an EIP-712 intent whose hash is the WebAuthn challenge, an assertion
 * with user verification, POST /v1/intents, then waits for the relayer's
 * transaction to be confirmed. The deployment parameters always travel with
 * the intent: the relayer deploys the account with its first payment and
 * ignores them afterwards.
 */
export async function pay(p: PreparedPayment, wallet: StoredWallet, net: WalletNetwork, hooks: PaymentHooks): Promise<PaymentResult> {
  const base = location.origin;
  const nonce = await nextNonce(base, wallet.address);
  const intent: PaymentIntent = {
    token: p.token,
    to: p.to,
    amount: p.amount,
    reference: p.reference,
    nonce,
    deadline: BigInt(Math.floor(Date.now() / 1000)) + INTENT_TTL_SECONDS,
    maxRelayerFee: p.relayerFee,
  };
  const challenge = hashPaymentIntent(net.chainId, wallet.address, intent);
  hooks.onSigning();
  const assertion = await getAssertion(wallet.credentialId, getBytes(challenge) as Uint8Array<ArrayBuffer>);
  const signature = encodePasskeySignature({ qx: wallet.qx, qy: wallet.qy, challenge, ...assertion });
  hooks.onSending();
  const submitted = await submitIntent(base, {
    account: wallet.address,
    intent: paymentIntentToJson(intent),
    signature,
    deployment: { qx: wallet.qx, qy: wallet.qy, salt: wallet.salt },
  });
  const done = await waitForIntent(base, submitted.id, { timeoutMs: CONFIRM_TIMEOUT_MS });
  if (done.status !== "confirmed" || done.txHash === null) {
    const err = done.error ?? { code: "payment_failed", message: `the payment ended as ${done.status}` };
    throw new OrioleError(err.code, err.message, { id: submitted.id, txHash: done.txHash ?? "" });
  }
  return { id: submitted.id, txHash: done.txHash };
}
