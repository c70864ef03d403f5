import { getAddress, isAddress, ZeroAddress } from "ethers";
import { CURRENCIES, isCurrency, type Currency } from "../sdk/currencies.ts";
import { OrioleError } from "../sdk/errors.ts";

/**
 * An address typed by a person: 40 hex digits with 0x; mixed case must carry a
 * valid EIP-55 checksum (all-lower or all-upper case has none to check). The
 * zero address is refused: tokens cannot be sent there. Something that looks
 * like a private key is refused without being echoed.
 */
export function parseAddressArg(input: string): string {
  const s = input.trim();
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(s)) {
    throw new OrioleError("invalid_address", "this looks like a private key, not an address", { address: "<64 hex digits, not shown>" });
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(s) || !isAddress(s)) {
    throw new OrioleError("invalid_address", `"${input}" is not a valid address`, { address: input });
  }
  const a = getAddress(s);
  if (a === ZeroAddress) throw new OrioleError("invalid_address", "the zero address cannot receive payments", { address: input });
  return a;
}

/** A currency code, case-insensitive. */
export function parseCurrencyArg(input: string): Currency {
  const c = input.trim().toUpperCase();
  if (!isCurrency(c)) {
    throw new OrioleError("unknown_currency", `unknown currency "${input}"`, { currency: input, currencies: CURRENCIES.join(", ") });
  }
  return c;
}

/** A payment reference: 0x and 64 hex digits (bytes32), e.g. an invoice's. */
export function parseReferenceArg(input: string): string {
  const s = input.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(s)) throw new OrioleError("invalid_reference", `"${input}" is not a reference (0x and 64 hex digits)`, { reference: input });
  return s.toLowerCase();
}
