import { payWithPasskey, preparePayment as prepareForNetwork, type PasskeyNetwork, type PreparedPayment } from "../../sdk/account/passkeyPayment.ts";
import { parsePaymentUri } from "../../sdk/paymentUri.ts";
import { walletSigner } from "./passkey.ts";
import type { StoredWallet } from "./storage.ts";

export type { PreparedPayment } from "../../sdk/account/passkeyPayment.ts";

const CONFIRM_TIMEOUT_MS = 120_000;

/**
 * Parses an EIP-681 payment request (pasted or scanned) and checks it fits this
 * network. Throws OrioleError (`invalid_payment_uri`, `wrong_chain`, `unsupported_token`, `no_relayer`).
 */
export function preparePayment(uri: string, net: PasskeyNetwork): PreparedPayment {
  return prepareForNetwork(parsePaymentUri(uri.trim(), { defaultChainId: net.chainId }), net);
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
 * Pays a prepared request from the passkey account with the SDK's shared flow;
 * the browser's authenticator signs (user verification required), so no key
 * material ever leaves it.
 */
export async function pay(p: PreparedPayment, wallet: StoredWallet, net: PasskeyNetwork, hooks: PaymentHooks): Promise<PaymentResult> {
  const key = { qx: wallet.qx, qy: wallet.qy, salt: BigInt(wallet.salt) };
  const paid = await payWithPasskey(location.origin, net, key, p, {
    sign: walletSigner(wallet),
    onSigning: () => {
      hooks.onSigning();
    },
    onSending: () => {
      hooks.onSending();
    },
    timeoutMs: CONFIRM_TIMEOUT_MS,
  });
  return { id: paid.id, txHash: paid.txHash };
}
