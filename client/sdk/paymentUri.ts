import { getAddress, isAddress } from "ethers";
import { OrioleError } from "./errors.ts";

/**
 * Payment request URIs: EIP-681 ERC-20 transfers plus Oriole's `reference`, e.g.
 * `ethereum:<token>@<chainId>/transfer?address=<to>&uint256=<amount>&reference=0x<64 hex>`.
 * Parsing is strict: a request a wallet would pay must mean exactly one thing.
 */

/** A payment request: pay `amount` base units of `token` to `to` on `chainId`. */
export interface PaymentRequest {
  chainId: number;
  token: string;
  to: string;
  amount: bigint;
  /** 0x-hex bytes32 (lowercase), e.g. an invoice id. */
  reference?: string;
}

/** Longer input is refused before parsing (a QR code holds ~3 KB; real requests are ~250 chars). */
export const MAX_PAYMENT_URI_LENGTH = 2048;
const UINT256_MAX = (1n << 256n) - 1n;
const REFERENCE_RE = /^0x[0-9a-fA-F]{64}$/;
const CHAIN_ID_RE = /^[1-9]\d{0,15}$/;
/** EIP-681 `number`: [sign] digits [. digits] [e digits]. */
const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d+))?(?:[eE](\d*))?$/;

function invalid(message: string, details: Record<string, unknown> = {}): OrioleError {
  return new OrioleError("invalid_payment_uri", message, details);
}

function checkedAddress(value: string, what: string): string {
  if (/^0x[0-9a-fA-F]{40}$/.test(value)) {
    const valid: boolean = isAddress(value); // (a type guard: `value` would narrow to never below)
    if (!valid) throw invalid(`the ${what} ${value} has a wrong checksum (mistyped?)`, { [what]: value });
    return getAddress(value);
  }
  if (value === "") throw invalid(`the ${what} is missing`);
  if (/^[^/?&=#:]+\.[a-z]{2,}$/i.test(value)) throw invalid(`the ${what} "${value}" is an ENS name: only 0x addresses are supported`, { [what]: value });
  throw invalid(`the ${what} "${value}" is not an address (0x and 40 hex digits)`, { [what]: value });
}

function checkedChainId(chainId: number): number {
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw invalid(`the chain id ${String(chainId)} is not a positive integer`);
  return chainId;
}

function checkedAmount(amount: bigint): bigint {
  if (amount <= 0n) throw invalid("the amount must be greater than zero");
  if (amount > UINT256_MAX) throw invalid("the amount is too large for uint256");
  return amount;
}

function checkedReference(reference: string): string {
  if (!REFERENCE_RE.test(reference)) throw invalid(`the reference "${reference}" is not 0x and 64 hex digits`, { reference });
  return reference.toLowerCase();
}

/**
 * Formats a payment request as an EIP-681 URI (checksummed addresses, decimal amount).
 * @throws OrioleError `invalid_payment_uri` for a bad address, chain id, amount or reference.
 */
export function formatPaymentUri(req: PaymentRequest): string {
  const token = checkedAddress(req.token, "token");
  const to = checkedAddress(req.to, "recipient address");
  const amount = checkedAmount(req.amount).toString();
  const ref = req.reference === undefined ? "" : `&reference=${checkedReference(req.reference)}`;
  return `ethereum:${token}@${checkedChainId(req.chainId).toString()}/transfer?address=${to}&uint256=${amount}${ref}`;
}

/** EIP-681 number → exact integer; refuses negatives, fractions and absurd exponents. */
function parseUint(text: string): bigint {
  const m = NUMBER_RE.exec(text);
  const [, sign = "", whole = "", frac = "", exp] = m ?? [];
  if (!m || (whole === "" && frac === "") || exp === "") throw invalid(`the amount "${text}" is not a number`, { amount: text });
  if (sign === "-") throw invalid(`the amount "${text}" is negative`, { amount: text });
  const e = exp === undefined ? 0 : Number(exp);
  // 10^78 > 2^256: a larger exponent can only overflow (and would make a huge bigint).
  if (e > 78 + frac.length) throw invalid(`the amount "${text}" is too large for uint256`, { amount: text });
  const digits = whole + frac;
  const shift = e - frac.length;
  let value: bigint;
  if (shift >= 0) {
    value = BigInt(digits) * 10n ** BigInt(shift);
  } else {
    const kept = digits.slice(0, digits.length + shift);
    if (!/^0*$/.test(digits.slice(digits.length + shift))) throw invalid(`the amount "${text}" is not a whole number of base units`, { amount: text });
    value = BigInt(kept === "" ? "0" : kept);
  }
  if (value > UINT256_MAX) throw invalid(`the amount "${text}" is too large for uint256`, { amount: text });
  return value;
}

/** Splits `k=v&k=v`, refusing empty parts, duplicates and unknown keys. */
function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === "") return params;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw invalid(`the parameter "${part}" is not key=value`);
    const key = part.slice(0, eq);
    if (!["address", "uint256", "reference"].includes(key)) throw invalid(`unknown parameter "${key}" (expected address, uint256 and optionally reference)`, { parameter: key });
    if (params.has(key)) throw invalid(`the parameter "${key}" appears twice`, { parameter: key });
    params.set(key, part.slice(eq + 1));
  }
  return params;
}

/**
 * Parses an EIP-681 ERC-20 transfer request. Accepts the `pay-` prefix, integer
 * scientific notation (`2.5e6`), and lowercase or checksummed addresses.
 * @param opts.defaultChainId used when the URI names no chain (EIP-681: the wallet's current chain)
 * @throws OrioleError `invalid_payment_uri` whose message says what is wrong.
 */
export function parsePaymentUri(uri: string, opts: { defaultChainId?: number } = {}): PaymentRequest {
  const text = uri.trim();
  if (text.length > MAX_PAYMENT_URI_LENGTH) throw invalid(`the payment request is too long (${text.length} characters, at most ${MAX_PAYMENT_URI_LENGTH})`);
  const colon = text.indexOf(":");
  const scheme = colon < 0 ? "" : text.slice(0, colon).toLowerCase();
  if (scheme !== "ethereum") throw invalid(colon < 0 ? "not a payment request URI (expected ethereum:...)" : `unknown scheme "${scheme}:" (expected ethereum:)`);
  if (text.includes("#")) throw invalid("the payment request must not have a #fragment");
  let rest = text.slice(colon + 1);
  // EIP-681 `prefix-`: "pay-" is the only one defined for payments.
  if (rest.startsWith("pay-")) rest = rest.slice(4);
  else if (/^[a-z0-9]+-0x/i.test(rest)) throw invalid(`unknown prefix "${rest.slice(0, rest.indexOf("-") + 1)}" (only pay- is supported)`);

  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? "" : rest.slice(q + 1);
  const m = /^([^@/]*)(?:@([^/]*))?(?:\/(.*))?$/.exec(path);
  if (!m) throw invalid("the payment request is malformed");
  const [, target = "", chainText, fn] = m;
  const token = checkedAddress(target, "token");

  let chainId: number;
  if (chainText === undefined) {
    if (opts.defaultChainId === undefined) throw invalid("the payment request names no chain id (@<chainId>)");
    chainId = checkedChainId(opts.defaultChainId);
  } else if (CHAIN_ID_RE.test(chainText) && Number.isSafeInteger(Number(chainText))) {
    chainId = Number(chainText);
  } else {
    throw invalid(`the chain id "${chainText}" is not a positive decimal integer`, { chainId: chainText });
  }

  if (fn === undefined) throw invalid("the payment request is not a token transfer (no /transfer): plain ether transfers are not supported");
  if (fn !== "transfer") throw invalid(`the function "${fn}" is not supported (only transfer)`, { function: fn });

  const params = parseQuery(query);
  const toText = params.get("address");
  if (toText === undefined) throw invalid("the recipient (address=) is missing");
  const to = checkedAddress(toText, "recipient address");
  const amountText = params.get("uint256");
  if (amountText === undefined) throw invalid("the amount (uint256=) is missing");
  const amount = parseUint(amountText);
  if (amount === 0n) throw invalid("the amount must be greater than zero");
  const refText = params.get("reference");
  return refText === undefined ? { chainId, token, to, amount } : { chainId, token, to, amount, reference: checkedReference(refText) };
}
