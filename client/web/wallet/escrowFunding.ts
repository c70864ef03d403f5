import { getAddress, isAddress } from "ethers";
import { formatAmount, parseAmount } from "../../sdk/amount.ts";
import { CURRENCIES, currencyInfo, type Currency } from "../../sdk/currencies.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { orderIdOf, type EscrowTerms } from "../../sdk/escrow/actions.ts";
import { fundEscrowViaNode } from "../../sdk/escrow/relay.ts";
import { parsePaymentUri } from "../../sdk/paymentUri.ts";
import type { RelayedCallRecord } from "../../sdk/relayedCalls.ts";
import type { WalletNetwork } from "./network.ts";
import { walletSigner } from "./passkey.ts";
import type { StoredWallet } from "./storage.ts";

/**
 * The buyer pays into escrow from the wallet: the form (merchant, amount,
 * currency, order reference, protection periods) becomes OrioleEscrow terms,
 * the passkey signs the ERC-3009 authorization (ERC-1271, user verification
 * required) and the node relays `fundWithAuthorization`, all with the SDK's
 * shared flow (what `oriole escrow fund` does for a passkey wallet). The
 * account's deployment travels along: a wallet whose first action is an
 * escrow funding is deployed by the same transaction.
 */

const DAY = 86_400;
/** OrioleEscrow's MAX_RELEASE_TIMEOUT: 365 days. */
export const MAX_RELEASE_DAYS = 365;
/** The CLI's defaults: released 7 days after shipping, a dispute possible within 3. */
export const DEFAULT_RELEASE_DAYS = 7;
export const DEFAULT_DISPUTE_DAYS = 3;
const MAX_ORDER_LENGTH = 200;

/** What the buyer typed (or a payment request filled in). */
export interface EscrowForm {
  merchant: string;
  amount: string;
  currency: string;
  /** The merchant's order number, or a 0x bytes32 reference used as is. */
  order: string;
  releaseDays: string;
  disputeDays: string;
}

/** A funding checked against the network, ready to confirm and sign. */
export interface PreparedFunding {
  currency: Currency;
  terms: EscrowTerms;
  /** The order as typed (shown); `terms.orderId` is its keccak256 unless it was a bytes32. */
  order: string;
}

function formError(code: string, message: string): OrioleError {
  return new OrioleError(code, message);
}

function days(text: string, min: number, what: string): number {
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t) || Number(t) < min || Number(t) > MAX_RELEASE_DAYS) throw formError("invalid_escrow_period", `the ${what} must be a whole number of days from ${min} to ${MAX_RELEASE_DAYS}`);
  return Number(t);
}

/**
 * Checks the form and builds the escrow terms. An order given as 0x and 64
 * hex digits is the order id as is; any other text is hashed (keccak256),
 * as the CLI does, so the merchant finds the escrow by its order number.
 * @throws OrioleError `invalid_merchant`, `invalid_amount`, `invalid_order`, `invalid_escrow_period`, `unsupported_currency`
 */
export function prepareFunding(form: EscrowForm, net: WalletNetwork, buyer: string): PreparedFunding {
  const merchantText = form.merchant.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(merchantText) || !isAddress(merchantText)) throw formError("invalid_merchant", `"${merchantText.slice(0, 60)}" is not an address (0x and 40 hex digits, valid checksum if mixed case)`);
  const merchant = getAddress(merchantText);
  if (merchant === getAddress(buyer)) throw formError("invalid_merchant", "the merchant cannot be this wallet itself");
  const currency = CURRENCIES.find((c) => c === form.currency);
  if (currency === undefined) throw formError("unsupported_currency", `unknown currency ${form.currency}`);
  const amount = parseAmount(form.amount.trim());
  const order = form.order.trim();
  if (order === "" || order.length > MAX_ORDER_LENGTH) throw formError("invalid_order", `the order reference must be 1 to ${MAX_ORDER_LENGTH} characters`);
  const releaseDays = days(form.releaseDays, 1, "release period");
  const disputeDays = days(form.disputeDays, 0, "dispute window");
  if (disputeDays > releaseDays) throw formError("invalid_escrow_period", "the dispute window cannot be longer than the release period");
  return { currency, order, terms: { token: net.tokens[currency], merchant, amount, orderId: orderIdOf(order), releaseTimeout: releaseDays * DAY, disputeWindow: disputeDays * DAY } };
}

/**
 * The fields an EIP-681 payment request gives (merchant, amount, currency,
 * its reference as the order): a merchant's request can be paid into escrow.
 * @throws OrioleError `invalid_payment_uri`, `wrong_chain`, `unsupported_token`
 */
export function formFromRequest(uri: string, net: WalletNetwork): Pick<EscrowForm, "merchant" | "amount" | "currency"> & { order?: string } {
  const req = parsePaymentUri(uri.trim(), { defaultChainId: net.chainId });
  if (req.chainId !== net.chainId) throw new OrioleError("wrong_chain", `the request is for chain ${String(req.chainId)}`, { requested: String(req.chainId), chainId: net.chainId });
  const currency = CURRENCIES.find((c) => net.tokens[c] === getAddress(req.token));
  if (currency === undefined) throw new OrioleError("unsupported_token", `${req.token} is not a token of this network`, { token: req.token });
  return { merchant: req.to, amount: formatAmount(req.amount), currency, ...(req.reference === undefined ? {} : { order: req.reference }) };
}

export interface FundingHooks {
  /** The passkey has signed; the node is relaying. */
  onSending(): void;
}

/**
 * Signs the funding with the wallet's passkey and has the node relay it; resolves with the node's record
 * once mined (`submitted` if the node's wait ran out). The deployment is always sent: the node deploys an
 * account without code in the same transaction and ignores it otherwise.
 * @throws OrioleError `passkey_cancelled` (nothing was sent), or the node's code
 */
export async function fundEscrow(p: PreparedFunding, wallet: StoredWallet, net: WalletNetwork, hooks: FundingHooks): Promise<RelayedCallRecord> {
  if (net.escrow === null) throw new OrioleError("escrow_unavailable", "this node has no escrow contract");
  const sign = walletSigner(wallet);
  return fundEscrowViaNode(location.origin, {
    chainId: net.chainId,
    escrow: net.escrow,
    tokenName: currencyInfo(p.currency).name,
    buyer: wallet.address,
    terms: p.terms,
    deployment: { qx: wallet.qx, qy: wallet.qy, salt: BigInt(wallet.salt) },
    sign: async (challenge) => {
      const signature = await sign(challenge);
      hooks.onSending();
      return signature;
    },
  });
}
