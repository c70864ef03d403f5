import { getAddress, ZeroAddress } from "ethers";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { OrioleError } from "../../../client/sdk/errors.ts";
import type { TransferLog } from "../chain/transfers.ts";
import type { Payment, StateChanges } from "../store/store.ts";
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

/**
 * Applies transfers (in log order) to prior balances and supply. Mints come
 * from and burns go to the zero address. A balance or supply going negative
 * means events were missed or double-counted: that is a fatal
 * `state_invariant` error, never something to write.
 */
export function applyTransfers(opts: {
  transfers: readonly TransferLog[];
  currencyOf: ReadonlyMap<string, Currency>;
  priorBalances: ReadonlyMap<string, bigint>;
  priorSupply: Readonly<Record<Currency, bigint>>;
}): StateChanges {
  const balances = new Map<string, { account: string; currency: Currency; value: bigint }>();
  const supply = new Map<Currency, bigint>();
  const payments: { account: string; payment: Payment }[] = [];

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

  for (const t of opts.transfers) {
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
    };
    if (t.from !== ZERO) payments.push({ account: t.from, payment });
    if (t.to !== ZERO && t.to !== t.from) payments.push({ account: t.to, payment });
  }
  return { balances, supply, payments };
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
