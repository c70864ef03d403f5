/**
 * The currencies Oriole issues a StableToken for. Every currency has 6
 * decimals; amounts are integers in base units.
 */
export const CURRENCIES = ["USD", "CNY", "EUR", "HKD"] as const;

export type Currency = (typeof CURRENCIES)[number];

export const DECIMALS = 6;

export interface CurrencyInfo {
  readonly code: Currency;
  readonly name: string;
  readonly symbol: string;
}

const INFO: Readonly<Record<Currency, CurrencyInfo>> = {
  USD: { code: "USD", name: "Oriole US Dollar", symbol: "oUSD" },
  CNY: { code: "CNY", name: "Oriole Renminbi", symbol: "oCNY" },
  EUR: { code: "EUR", name: "Oriole Euro", symbol: "oEUR" },
  HKD: { code: "HKD", name: "Oriole Hong Kong Dollar", symbol: "oHKD" },
};

export function isCurrency(value: string): value is Currency {
  return (CURRENCIES as readonly string[]).includes(value);
}

export function currencyInfo(code: Currency): CurrencyInfo {
  return INFO[code];
}
