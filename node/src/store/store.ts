import { createHash } from "node:crypto";
import { Level } from "level";
// Types only: abstract-level is the interface `level` implements (not re-exported by it).
import type { AbstractSublevel } from "abstract-level";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import { balanceKey, paymentKey, paymentRange, type LogPosition } from "./keys.ts";

/**
 * What a transfer is: a plain ERC-20 transfer (mints and burns included),
 * the transfer of a payment with a reference (payer to payee), or the fee
 * transfer of such a payment (payer to the fee collector).
 */
export type PaymentKind = "transfer" | "payment" | "fee";

/** A payment as served by the API: checksummed addresses, amount as a decimal string. */
export interface Payment {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  /** Unix seconds. */
  timestamp: number;
  from: string;
  to: string;
  currency: Currency;
  /** What `to` received, base units. */
  amount: string;
  /** The Payment event's reference (0x and 64 lowercase hex digits) for kinds "payment" and "fee"; null for a plain transfer. */
  reference: string | null;
  /** For kind "payment", the merchant fee of the payment (the payer paid amount + fee); "0" otherwise. */
  fee: string;
  kind: PaymentKind;
}

/** The last block whose effects are fully in the store. */
export interface Cursor {
  blockNumber: number;
  blockHash: string;
}

/** Which chain and contracts a data dir was built from. */
export interface ChainIdentity {
  chainId: number;
  genesisHash: string;
  /** Token address (lowercase) per currency. */
  tokens: Record<Currency, string>;
  deployedAt: Cursor;
}

/** New values of derived state after a block range (absolute values, not increments). */
export interface StateChanges {
  balances: ReadonlyMap<string, { account: string; currency: Currency; value: bigint }>;
  supply: ReadonlyMap<Currency, bigint>;
  /** One entry per (account, log): a transfer appears under its sender and its receiver. */
  payments: readonly { account: string; payment: Payment }[];
  /** One entry per payment with a reference (its kind "payment" transfer), for lookups by reference. */
  byReference?: readonly Payment[];
}

export interface PaymentPage {
  items: Payment[];
  /** Position of the last item when more items follow, else null. */
  next: LogPosition | null;
}

/** A full, ordered dump of derived state; equal dumps mean equal stores. */
export interface StateDump {
  balances: Record<string, string>;
  supply: Record<string, string>;
  payments: Record<string, Payment>;
  byReference: Record<string, Payment>;
  /** sha256 over all the entries above, in key order. */
  digest: string;
}

/**
 * Layout version of derived state. 2: payment entries carry reference, fee
 * and kind; 3: payments indexed by reference. A store of another version is
 * re-indexed from the chain.
 */
export const SCHEMA_VERSION = 3;

type Snapshot = ReturnType<Level["snapshot"]>;
type Sub = AbstractSublevel<Level, string | Buffer | Uint8Array, string, string>;
/** A sublevel of the node's LevelDB, for state that is not derived from the chain (the relayer's intents). */
export type StoreSublevel = Sub;

/** Reads against one consistent snapshot of the store. */
export interface StoreReader {
  cursor(): Promise<Cursor | undefined>;
  balances(account: string): Promise<Record<Currency, bigint>>;
  supply(): Promise<Record<Currency, bigint>>;
  payments(account: string, opts: { limit: number; before?: LogPosition | undefined }): Promise<PaymentPage>;
  /** Payments carrying `reference` (lowercase), newest first. */
  paymentsByReference(reference: string, opts: { limit: number; before?: LogPosition | undefined }): Promise<PaymentPage>;
}

/**
 * The node's LevelDB: derived state (balances, supply, payments per
 * account) and the cursor. Every indexer commit is one atomic batch across
 * sublevels, so a crash leaves the state of the previous commit intact.
 */
export class NodeStore {
  readonly #db: Level;
  readonly #meta: Sub;
  readonly #balances: Sub;
  readonly #supply: Sub;
  readonly #payments: Sub;
  readonly #byReference: Sub;
  readonly #relayer: Sub;
  readonly #merchants: Sub;

  private constructor(db: Level) {
    this.#db = db;
    this.#meta = db.sublevel("meta");
    this.#balances = db.sublevel("bal");
    this.#supply = db.sublevel("sup");
    this.#payments = db.sublevel("pay");
    this.#byReference = db.sublevel("ref");
    this.#relayer = db.sublevel("rly");
    this.#merchants = db.sublevel("mer");
  }

  static async open(dir: string): Promise<NodeStore> {
    const db = new Level(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.open();
    return new NodeStore(db);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async identity(): Promise<ChainIdentity | undefined> {
    const v = await this.#meta.get("identity");
    return v === undefined ? undefined : (JSON.parse(v) as ChainIdentity);
  }

  /** Stamps the identity and the current SCHEMA_VERSION, together. */
  async setIdentity(identity: ChainIdentity): Promise<void> {
    await this.#db.batch([
      { type: "put", key: "identity", value: JSON.stringify(identity), sublevel: this.#meta },
      { type: "put", key: "schema", value: String(SCHEMA_VERSION), sublevel: this.#meta },
    ]);
  }

  /** The layout version the stored state was derived with (1: before versions were stamped). */
  async schemaVersion(): Promise<number> {
    const v = await this.#meta.get("schema");
    return v === undefined ? 1 : Number(v);
  }

  async cursor(): Promise<Cursor | undefined> {
    return this.reader().cursor();
  }

  /** True when the store holds no entry at all. */
  async isEmpty(): Promise<boolean> {
    const keys = await this.#db.keys({ limit: 1 }).all();
    return keys.length === 0;
  }

  /**
   * Deletes everything but the merchants (sublevel `mer`: accounts of
   * people, not facts of a chain). The identity goes first, so an
   * interrupted wipe leaves a store without identity, which startup wipes again.
   */
  async wipe(): Promise<void> {
    await this.#meta.del("identity");
    // Sublevel keys are "!name!key": everything before "!mer!" and from "!mer\"" ('"' follows '!') on.
    await this.#db.clear({ lt: "!mer!" });
    await this.#db.clear({ gte: '!mer"' });
  }

  /**
   * Deletes the state derived from the chain and keeps the relayer's
   * records: they are not derived (accepted intents live only here), and
   * they still hold for the same chain after a re-index.
   */
  async wipeDerived(): Promise<void> {
    await this.#meta.del("identity");
    for (const sub of [this.#balances, this.#supply, this.#payments, this.#byReference, this.#meta]) await sub.clear();
  }

  /** The relayer's part of the store (intents and its transactions), outside derived state. */
  relayerSublevel(): StoreSublevel {
    return this.#relayer;
  }

  /** The merchants' part of the store (sublevel `mer`): kept by wipeDerived and wipe. */
  merchantSublevel(): StoreSublevel {
    return this.#merchants;
  }

  /** Current balances of some (account, currency) pairs, zero when absent. */
  async balancesOf(keys: readonly { account: string; currency: Currency }[]): Promise<bigint[]> {
    const values = await this.#balances.getMany(keys.map((k) => balanceKey(k.account, k.currency)));
    return values.map((v) => (v === undefined ? 0n : BigInt(v)));
  }

  async supplyOf(): Promise<Record<Currency, bigint>> {
    return this.reader().supply();
  }

  /**
   * Writes the derived state of a block range and the new cursor as ONE
   * atomic batch. (Where a reorg-safe version adds its undo log entries.)
   */
  async commit(changes: StateChanges, cursor: Cursor): Promise<void> {
    const batch = this.#db.batch();
    for (const b of changes.balances.values()) batch.put(balanceKey(b.account, b.currency), b.value.toString(), { sublevel: this.#balances });
    for (const [currency, value] of changes.supply) batch.put(currency, value.toString(), { sublevel: this.#supply });
    for (const { account, payment } of changes.payments) {
      batch.put(paymentKey(account, payment), JSON.stringify(payment), { sublevel: this.#payments });
    }
    for (const payment of changes.byReference ?? []) {
      if (payment.reference !== null) batch.put(paymentKey(payment.reference, payment), JSON.stringify(payment), { sublevel: this.#byReference });
    }
    batch.put("cursor", JSON.stringify(cursor), { sublevel: this.#meta });
    // sync: the commit is on disk (not only in the OS cache) before the
    // cursor moves on, so even a power cut never takes the node backwards.
    await batch.write({ sync: true });
  }

  /** A reader; with `snapshot`, every read sees the same point in time. */
  reader(snapshot?: Snapshot): StoreReader {
    const opts = snapshot ? { snapshot } : {};
    /** Newest first among the keys `<prefix>!<position>` of `sub`, strictly before `before`. */
    const pageOf = async (sub: Sub, prefix: string, { limit, before }: { limit: number; before?: LogPosition | undefined }): Promise<PaymentPage> => {
      const range = paymentRange(prefix);
      const entries = await sub.iterator({ ...opts, reverse: true, gt: range.gt, lt: before ? paymentKey(prefix, before) : range.lt, limit: limit + 1 }).all();
      const items = entries.slice(0, limit).map(([, v]) => JSON.parse(v) as Payment);
      const last = items.at(-1);
      return { items, next: entries.length > limit && last ? { blockNumber: last.blockNumber, logIndex: last.logIndex } : null };
    };
    return {
      cursor: async () => {
        const v = await this.#meta.get("cursor", opts);
        return v === undefined ? undefined : (JSON.parse(v) as Cursor);
      },
      balances: async (account) => {
        const values = await this.#balances.getMany(CURRENCIES.map((c) => balanceKey(account, c)), opts);
        return Object.fromEntries(CURRENCIES.map((c, i) => [c, BigInt(values[i] ?? "0")])) as Record<Currency, bigint>;
      },
      supply: async () => {
        const values = await this.#supply.getMany([...CURRENCIES], opts);
        return Object.fromEntries(CURRENCIES.map((c, i) => [c, BigInt(values[i] ?? "0")])) as Record<Currency, bigint>;
      },
      payments: async (account, page) => pageOf(this.#payments, account, page),
      paymentsByReference: async (reference, page) => pageOf(this.#byReference, reference, page),
    };
  }

  /** Runs `fn` against one explicit snapshot, closed afterwards. */
  async read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    const snapshot = this.#db.snapshot();
    try {
      return await fn(this.reader(snapshot));
    } finally {
      await snapshot.close();
    }
  }

  /** Every entry of derived state, in key order, with a digest (crash and re-index comparisons). */
  async dump(): Promise<StateDump> {
    const snapshot = this.#db.snapshot();
    try {
      const hash = createHash("sha256");
      const collect = async (name: string, sub: Sub): Promise<[string, string][]> => {
        const entries = await sub.iterator({ snapshot }).all();
        for (const [k, v] of entries) hash.update(`${name}\u0000${k}\u0000${v}\u0000`);
        return entries;
      };
      const balances = Object.fromEntries(await collect("bal", this.#balances));
      const supply = Object.fromEntries(await collect("sup", this.#supply));
      const payments = Object.fromEntries((await collect("pay", this.#payments)).map(([k, v]) => [k, JSON.parse(v) as Payment]));
      const byReference = Object.fromEntries((await collect("ref", this.#byReference)).map(([k, v]) => [k, JSON.parse(v) as Payment]));
      return { balances, supply, payments, byReference, digest: hash.digest("hex") };
    } finally {
      await snapshot.close();
    }
  }
}
