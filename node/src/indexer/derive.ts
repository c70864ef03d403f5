import { getAddress, ZeroAddress } from "ethers";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { OrioleError } from "../../../client/sdk/errors.ts";
import type { PaymentLog, TransferLog } from "../chain/transfers.ts";
import type { Payment, PaymentKind, SeenPayment, StateChanges } from "../store/store.ts";
import { balanceKey } from "../store/keys.ts";

/**
 * Deriving state from transfers: pure functions, no I/O. The indexer reads
 * the prior balances the transfers touch, and these functions compute the
 * new absolute values the store writes.
 */

export interface BalanceRef {
  account: string;
  currency: Currency;
}

const ZERO = ZeroAddress.toLowerCase();

/** The (account, currency) balances a list of transfers changes; the zero address has none. */
export function touchedBalances(transfers: readonly TransferLog[], currencyOf: ReadonlyMap<string, Currency>): BalanceRef[] {
  const seen = new Map<string, BalanceRef>();
  for (const t of transfers) {
    const currency = currencyOf.get(t.token);
    if (!currency) continue;
    for (const account of [t.from, t.to]) {
      if (account === ZERO) continue;
      const key = balanceKey(account, currency);
      if (!seen.has(key)) seen.set(key, { account, currency });
    }
  }
  return [...seen.values()];
}

/** What a Payment event says about one of the Transfers it describes. */
export interface TransferLink {
  kind: Exclude<PaymentKind, "transfer">;
  reference: string;
  /** The payment's fee (also on its fee transfer). */
  fee: bigint;
}

/**
 * Attaches each Payment event to the Transfer(s) it describes; returns
 * links keyed by index in `transfers`. Both lists are in log order.
 *
 * The rule, from Payments.sol `_pay` and `_settleOne`: a payment emits, in
 * one call frame of the token and with no event of the token in between,
 *   - without a fee: Transfer(payer → payee, amount), then Payment;
 *   - with a fee:    Transfer(payer → payee, amount − fee), Transfer(payer →
 *     fee collector, fee), then Payment.
 * (The fee comes from the payer's balance: the merchant receives the net.)
 * So a Payment claims, among the Transfers of the same transaction and the
 * same token that precede it and no earlier Payment claimed, the latest one
 * as its fee transfer (when fee > 0: from the payer, of value fee), and the
 * latest one before that as its payment transfer (payer → payee, amount −
 * fee). Batches (`settlePayments`) repeat the pattern per item; skipped
 * items emit no Transfer and no Payment. A Payment whose Transfers are not
 * there means the node misreads the contract: `state_invariant`, never a
 * guess written to the store.
 */
export function linkPayments(transfers: readonly TransferLog[], payments: readonly PaymentLog[]): Map<number, TransferLink> {
  const links = new Map<number, TransferLink>();
  let next = 0;
  let tx = "";
  // Unclaimed transfers of the current transaction, per token, in log order.
  let open = new Map<string, number[]>();
  for (const p of payments) {
    for (let t = transfers[next]; t && (t.blockNumber < p.blockNumber || (t.blockNumber === p.blockNumber && t.logIndex < p.logIndex)); t = transfers[++next]) {
      if (t.txHash !== tx) {
        tx = t.txHash;
        open = new Map();
      }
      const list = open.get(t.token);
      if (list) list.push(next);
      else open.set(t.token, [next]);
    }
    const unclaimed = p.txHash === tx ? (open.get(p.token) ?? []) : [];
    const claim = (what: string, matches: (t: TransferLog) => boolean): number => {
      const i = unclaimed.pop();
      const t = i === undefined ? undefined : transfers[i];
      if (i === undefined || !t || !matches(t)) {
        throw new OrioleError("state_invariant", `Payment at block ${p.blockNumber} log ${p.logIndex} is not preceded by its ${what} transfer`, {
          blockNumber: p.blockNumber,
          logIndex: p.logIndex,
          txHash: p.txHash,
          found: t ? { logIndex: t.logIndex, from: t.from, to: t.to, value: t.value.toString() } : null,
        });
      }
      return i;
    };
    if (p.fee > 0n) {
      const i = claim("fee", (t) => t.from === p.payer && t.value === p.fee);
      links.set(i, { kind: "fee", reference: p.reference, fee: p.fee });
    }
    const i = claim("payment", (t) => t.from === p.payer && t.to === p.payee && t.value === p.amount - p.fee);
    links.set(i, { kind: "payment", reference: p.reference, fee: p.fee });
  }
  return links;
}

/**
 * Applies transfers (in log order) to prior balances and supply; Payment
 * events add their reference and fee to the payment entries (see linkPayments). Mints come
 * from and burns go to the zero address. A balance or supply going negative
 * means events were missed or double-counted: that is a fatal
 * `state_invariant` error, never something to write.
 */
export function applyTransfers(opts: {
  transfers: readonly TransferLog[];
  /** The Payment events of the same range, in log order. */
  payments?: readonly PaymentLog[];
  currencyOf: ReadonlyMap<string, Currency>;
  priorBalances: ReadonlyMap<string, bigint>;
  priorSupply: Readonly<Record<Currency, bigint>>;
}): StateChanges {
  const balances = new Map<string, { account: string; currency: Currency; value: bigint }>();
  const supply = new Map<Currency, bigint>();
  const payments: { account: string; payment: Payment }[] = [];
  const byReference: Payment[] = [];
  const seen: SeenPayment[] = [];
  const links = opts.payments && opts.payments.length > 0 ? linkPayments(opts.transfers, opts.payments) : undefined;

  const adjust = (account: string, currency: Currency, delta: bigint, t: TransferLog): void => {
    const key = balanceKey(account, currency);
    const current = balances.get(key)?.value ?? opts.priorBalances.get(key) ?? 0n;
    const value = current + delta;
    if (value < 0n) {
      throw new OrioleError("state_invariant", `balance of ${account} in ${currency} would go negative at block ${t.blockNumber} log ${t.logIndex}`, {
        account,
        currency,
        blockNumber: t.blockNumber,
        logIndex: t.logIndex,
      });
    }
    balances.set(key, { account, currency, value });
  };

  for (const [index, t] of opts.transfers.entries()) {
    const currency = opts.currencyOf.get(t.token);
    if (!currency) continue;
    if (t.from === ZERO || t.to === ZERO) {
      const current = supply.get(currency) ?? opts.priorSupply[currency];
      const next = current + (t.from === ZERO ? t.value : 0n) - (t.to === ZERO ? t.value : 0n);
      if (next < 0n) throw new OrioleError("state_invariant", `supply of ${currency} would go negative at block ${t.blockNumber}`, { currency });
      supply.set(currency, next);
    }
    if (t.from !== ZERO) adjust(t.from, currency, -t.value, t);
    if (t.to !== ZERO) adjust(t.to, currency, t.value, t);

    const payment: Payment = {
      txHash: t.txHash,
      logIndex: t.logIndex,
      blockNumber: t.blockNumber,
      timestamp: t.timestamp,
      from: checksum(t.from),
      to: checksum(t.to),
      currency,
      amount: t.value.toString(),
      reference: null,
      fee: "0",
      kind: "transfer",
    };
    const link = links?.get(index);
    if (link) {
      payment.reference = link.reference;
      payment.kind = link.kind;
      if (link.kind === "payment") {
        payment.fee = link.fee.toString();
        byReference.push(payment);
      }
    }
    if (t.from !== ZERO) payments.push({ account: t.from, payment });
    if (t.to !== ZERO && t.to !== t.from) payments.push({ account: t.to, payment });
    // Mints and burns are reported as admin events (Mint, Burn), not as payments.
    if (t.from !== ZERO && t.to !== ZERO) seen.push({ blockHash: t.blockHash, accounts: t.from === t.to ? [t.from] : [t.from, t.to], payment });
  }
  return { balances, supply, payments, byReference, seen };
}

const CHECKSUM_CACHE_MAX = 100_000;
const checksums = new Map<string, string>();

/** EIP-55 checksum of a lowercase address, cached: the same accounts recur across transfers. */
export function checksum(lower: string): string {
  let c = checksums.get(lower);
  if (c === undefined) {
    if (checksums.size >= CHECKSUM_CACHE_MAX) checksums.clear();
    c = getAddress(lower);
    checksums.set(lower, c);
  }
  return c;
}
