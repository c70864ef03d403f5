import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AbstractBatchOptions, AbstractSublevel } from "abstract-level";
import { getAddress } from "ethers";
import type { StoreSublevel } from "../store/store.ts";

/**
 * Merchants, in the node's LevelDB (sublevel `mer`, outside derived state:
 * a re-index keeps them):
 *
 *   mer!m <id>           -> JSON Merchant
 *   mer!k <apiKeyHash>   -> id
 *
 * An API key is shown once, when created; only its sha256 is stored. Keys
 * are looked up by hash, then the stored hash is compared in constant time.
 */

export interface Merchant {
  /** "mer_" + 16 hex digits. */
  id: string;
  name: string;
  /** Checksummed address the merchant is paid to. */
  payout: string;
  /** Hex sha256 of the API key. */
  apiKeyHash: string;
  /** ISO 8601. */
  createdAt: string;
}

/** A merchant as the API shows it: without the key's hash. */
export type PublicMerchant = Omit<Merchant, "apiKeyHash">;

export function publicMerchant(m: Merchant): PublicMerchant {
  return { id: m.id, name: m.name, payout: m.payout, createdAt: m.createdAt };
}

export const API_KEY_RE = /^ok_live_[0-9a-f]{32}$/;
export const MERCHANT_ID_RE = /^mer_[0-9a-f]{16}$/;

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Equal strings, in time that does not depend on where they differ (both are hashed first: equal lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

type Child = AbstractSublevel<StoreSublevel, string | Buffer | Uint8Array, string, string>;

/** classic-level's `sync` (fsync before resolving): a merchant exists on disk before its key is shown. */
const SYNC: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: true };

export class MerchantStore {
  readonly #root: StoreSublevel;
  readonly #merchants: Child;
  readonly #keys: Child;

  constructor(root: StoreSublevel) {
    this.#root = root;
    this.#merchants = root.sublevel("m");
    this.#keys = root.sublevel("k");
  }

  /** Creates a merchant; the API key is returned here and never again. */
  async create(input: { name: string; payout: string }): Promise<{ merchant: Merchant; apiKey: string }> {
    const apiKey = `ok_live_${randomBytes(16).toString("hex")}`;
    const merchant: Merchant = {
      id: `mer_${randomBytes(8).toString("hex")}`,
      name: input.name,
      payout: getAddress(input.payout),
      apiKeyHash: hashApiKey(apiKey),
      createdAt: new Date().toISOString(),
    };
    await this.#root.batch(
      [
        { type: "put", key: merchant.id, value: JSON.stringify(merchant), sublevel: this.#merchants },
        { type: "put", key: merchant.apiKeyHash, value: merchant.id, sublevel: this.#keys },
      ],
      SYNC,
    );
    return { merchant, apiKey };
  }

  async get(id: string): Promise<Merchant | undefined> {
    if (!MERCHANT_ID_RE.test(id)) return undefined;
    const v = await this.#merchants.get(id);
    return v === undefined ? undefined : (JSON.parse(v) as Merchant);
  }

  /** The merchant whose API key this is; undefined for a malformed or unknown key. */
  async byApiKey(key: string): Promise<Merchant | undefined> {
    if (!API_KEY_RE.test(key)) return undefined;
    const hash = hashApiKey(key);
    const id = await this.#keys.get(hash);
    if (id === undefined) return undefined;
    const m = await this.get(id);
    return m !== undefined && constantTimeEqual(m.apiKeyHash, hash) ? m : undefined;
  }

  /** Merchants in id order, `limit` at a time after `after` (an id). */
  async list(opts: { limit?: number; after?: string } = {}): Promise<{ items: Merchant[]; next: string | null }> {
    const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
    const range = opts.after !== undefined ? { gt: opts.after } : {};
    const values = await this.#merchants.values({ ...range, limit: limit === Number.MAX_SAFE_INTEGER ? -1 : limit + 1 }).all();
    const items = values.slice(0, limit).map((v) => JSON.parse(v) as Merchant);
    return { items, next: values.length > limit ? (items.at(-1)?.id ?? null) : null };
  }
}
