import { isLang, type Lang } from "../sdk/i18n.ts";
import { usageError } from "./argv.ts";

/**
 * Values of options (--limit, --api, --rpc, --lang). Kept free of heavy
 * imports: `oriole --help` and usage errors load only this, the catalog and
 * the argv parser, so they answer at once.
 */

/** The most payments one history page asks for. */
export const MAX_HISTORY_LIMIT = 100;

export function parseLimitArg(input: string): number {
  const n = /^\d{1,6}$/.test(input) ? Number(input) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_LIMIT) throw usageError("usage.invalidLimit", { max: MAX_HISTORY_LIMIT });
  return n;
}

/** An http(s) URL for --api / --rpc, without a trailing slash. */
export function parseUrlOption(option: string, input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw usageError("usage.invalidUrl", { option, value: input });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError("usage.invalidUrl", { option, value: input });
  return input.replace(/\/+$/, "");
}

export function parseLangOption(input: string): Lang {
  const l = input.trim().toLowerCase();
  if (!isLang(l)) throw usageError("usage.invalidLang", { value: input });
  return l;
}
