import { getAddress, type Signer } from "ethers";
import type { AbstractBatchOptions } from "abstract-level";
import { Level } from "level";
import { z } from "zod";
import { OrioleError } from "../errors.ts";
import { decodeOfflineCode, type OfflineCode, offlineCodeId } from "./code.ts";
import { verifyOfflineCode } from "./verifier.ts";
import { readVaultSnapshot, settleCodes, SETTLE_FAILURES, type VaultSnapshot } from "./vault.ts";

/**
 * The merchant's offline collector: verifies payment codes with no network
 * (against the last sync), stores every accepted code in LevelDB with an
 * fsync before answering (a code accepted is never lost, even if the
 * terminal is killed the next instant), syncs reserves and defaults from the
 * chain when online, and settles everything collected in batches, recording
 * each code's on-chain outcome.
 */

/** Where a collected code stands. */
export type CodeStatus = "accepted" | "settled" | "bounced" | "failed";

const recordSchema = z.strictObject({
  id: z.string(),
  text: z.string(),
  payer: z.string(),
  token: z.string(),
  nonce: z.string(),
  amount: z.string(),
  acceptedAt: z.string(),
  /** Settle before this time (seconds) for the vault's guarantee to hold: min(validBefore + window, sync + withdrawal delay). */
  settleBy: z.string(),
  status: z.enum(["accepted", "settled", "bounced", "failed"]),
  reason: z.enum(SETTLE_FAILURES),
  paid: z.string(),
  owed: z.string(),
  txHash: z.string().nullable(),
  settledInBlock: z.number().nullable(),
});

/** One collected code (amounts in base units, as decimal strings: it is also the JSON form). */
export type CollectedCode = z.infer<typeof recordSchema>;

const bigintString = z.string().regex(/^\d+$/).transform((s) => BigInt(s));
const snapshotSchema = z.strictObject({
  chainId: bigintString,
  vault: z.string(),
  params: z.strictObject({ maxValidity: bigintString, settlementWindow: bigintString, withdrawalDelay: bigintString }),
  syncedAt: bigintString,
  blockNumber: z.number(),
  payers: z.array(
    z.strictObject({
      payer: z.string(),
      token: z.string(),
      balance: bigintString,
      debt: bigintString,
      pendingWithdrawal: bigintString,
      unlockAt: bigintString,
      signer: z.union([z.strictObject({ kind: z.literal("eoa") }), z.strictObject({ kind: z.literal("passkey"), deviceIds: z.array(z.string()) })]),
    }),
  ),
});

function snapshotToJson(s: VaultSnapshot): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** classic-level's `sync`: the write is on disk before the promise resolves. */
const SYNC: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: true };

export interface CollectorOptions {
  /** Folder of the collector's LevelDB. */
  dir: string;
  /** The merchant's address (codes must pay it). */
  merchant: string;
  /** Tokens the merchant accepts. */
  tokens: readonly string[];
  /** The vault and the block it was deployed at (where the sync starts reading reserves). */
  vault: string;
  fromBlock: number;
  /** The chain's JSON-RPC URL: only `sync` and `settle` use it; none is needed to collect. */
  rpcUrl?: string;
}

export class OfflineCollector {
  readonly #db: Level;
  readonly #codes;
  readonly #meta;
  readonly #opts: CollectorOptions;
  readonly #records = new Map<string, CollectedCode>();
  #snapshot: VaultSnapshot | undefined;
  /** Serialises accepts, syncs and settlements: an accept reads the totals the previous one wrote. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(db: Level, opts: CollectorOptions) {
    this.#db = db;
    this.#codes = db.sublevel("codes");
    this.#meta = db.sublevel("meta");
    this.#opts = { ...opts, merchant: getAddress(opts.merchant), vault: getAddress(opts.vault) };
  }

  /** Opens (or creates) the collector's store and loads what it holds. */
  static async open(opts: CollectorOptions): Promise<OfflineCollector> {
    const db = new Level(opts.dir);
    await db.open();
    const c = new OfflineCollector(db, opts);
    for await (const [key, value] of c.#codes.iterator()) c.#records.set(key, recordSchema.parse(JSON.parse(value)));
    const snap = await c.#meta.get("snapshot");
    if (snap !== undefined) c.#snapshot = snapshotSchema.parse(JSON.parse(snap));
    return c;
  }

  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    await this.#db.close();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The last sync, if any. */
  get snapshot(): VaultSnapshot | undefined {
    return this.#snapshot;
  }

  /** Every collected code, oldest first. */
  list(): CollectedCode[] {
    return [...this.#records.values()].sort((a, b) => (BigInt(a.acceptedAt) < BigInt(b.acceptedAt) ? -1 : BigInt(a.acceptedAt) > BigInt(b.acceptedAt) ? 1 : a.id < b.id ? -1 : 1));
  }

  /**
   * What this merchant accepted from `payer` in `token` that the last sync does not reflect yet:
   * codes not yet settled, and what was paid in blocks after the sync.
   */
  #outstanding(payer: string, token: string, snapshot: VaultSnapshot): bigint {
    let sum = 0n;
    for (const r of this.#records.values()) {
      if (r.payer !== payer || r.token !== token) continue;
      if (r.status === "accepted") sum += BigInt(r.amount);
      else if (r.settledInBlock !== null && r.settledInBlock > snapshot.blockNumber) sum += BigInt(r.paid);
    }
    return sum;
  }

  /**
   * Verifies a code (text from the payer's QR) offline and, if it passes, stores it durably.
   * @throws OrioleError `invalid_offline_code` or one of the verifier's `offline_*` codes; `offline_not_synced`
   *   before the first sync; `offline_duplicate` for a code already collected.
   */
  accept(text: string, now: bigint = BigInt(Math.floor(Date.now() / 1000))): Promise<CollectedCode> {
    return this.#serial(async () => {
      const code = decodeOfflineCode(text);
      const snapshot = this.#snapshot;
      if (!snapshot) throw new OrioleError("offline_not_synced", "sync with the chain once before accepting offline codes");
      if (this.#records.has(offlineCodeId(code))) throw new OrioleError("offline_duplicate", "this code was already collected");
      const payer = getAddress(code.payer);
      const token = getAddress(code.token);
      const nonce = code.nonce.toString();
      let nonceSeen = false;
      for (const r of this.#records.values()) if (r.payer === payer && r.nonce === nonce) nonceSeen = true;
      const { codeHash, settleBy } = verifyOfflineCode(code, {
        merchant: this.#opts.merchant,
        tokens: this.#opts.tokens,
        snapshot,
        now,
        acceptedFromPayer: this.#outstanding(payer, token, snapshot),
        nonceSeen,
      });
      const record: CollectedCode = {
        id: codeHash,
        text: text.trim(),
        payer,
        token,
        nonce,
        amount: code.amount.toString(),
        acceptedAt: now.toString(),
        settleBy: settleBy.toString(),
        status: "accepted",
        reason: "none",
        paid: "0",
        owed: "0",
        txHash: null,
        settledInBlock: null,
      };
      await this.#codes.put(codeHash, JSON.stringify(record), SYNC);
      this.#records.set(codeHash, record);
      return record;
    });
  }

  #rpcUrl(): string {
    if (this.#opts.rpcUrl === undefined) throw new OrioleError("offline_no_rpc", "no chain RPC URL: the collector is offline");
    return this.#opts.rpcUrl;
  }

  /** Reads every payer's reserve, debt and device keys from the chain and keeps them for offline checks. */
  sync(): Promise<VaultSnapshot> {
    return this.#serial(async () => {
      const snapshot = await readVaultSnapshot({ rpcUrl: this.#rpcUrl(), vault: this.#opts.vault, fromBlock: this.#opts.fromBlock });
      await this.#meta.put("snapshot", snapshotToJson(snapshot), SYNC);
      this.#snapshot = snapshot;
      return snapshot;
    });
  }

  /**
   * Settles every code still to settle (accepted ones, and bounced ones whose payer has a reserve again
   * as of the last sync) in batches of `batchSize`, and records each outcome. `signer` is the merchant's
   * key, connected to the chain: only a code's merchant can settle it.
   */
  settle(signer: Signer, opts: { batchSize?: number } = {}): Promise<{ txHashes: string[]; outcomes: CollectedCode[] }> {
    return this.#serial(async () => {
      this.#rpcUrl();
      if (getAddress(await signer.getAddress()) !== this.#opts.merchant) throw new OrioleError("offline_wrong_signer", "settle with the merchant's own key");
      const refunded = (r: CollectedCode) =>
        this.#snapshot?.payers.some((p) => p.payer === r.payer && p.token === r.token && p.balance > 0n) ?? false;
      const due = this.list().filter((r) => r.status === "accepted" || (r.status === "bounced" && refunded(r)));
      const size = opts.batchSize ?? 100;
      const txHashes: string[] = [];
      const outcomes: CollectedCode[] = [];
      for (let i = 0; i < due.length; i += size) {
        const chunk = due.slice(i, i + size);
        const codes: OfflineCode[] = chunk.map((r) => decodeOfflineCode(r.text));
        const { receipt, outcomes: results } = await settleCodes({ signer, vault: this.#opts.vault, codes, owedBefore: chunk.map((r) => BigInt(r.owed)) });
        txHashes.push(receipt.hash);
        const ops: { type: "put"; key: string; value: string }[] = [];
        chunk.forEach((r, k) => {
          const o = results[k];
          if (!o) return;
          // nonce_used on a code this collector holds: that very code was settled before (e.g. before a crash).
          const already = o.status === "failed" && o.reason === "nonce_used" && r.status === "accepted";
          const updated: CollectedCode = {
            ...r,
            status: already ? "settled" : o.status,
            reason: o.reason,
            paid: already ? r.amount : (BigInt(r.paid) + o.paid).toString(),
            owed: o.owed.toString(),
            txHash: o.paid > 0n || r.txHash === null ? receipt.hash : r.txHash,
            settledInBlock: o.paid > 0n ? receipt.blockNumber : r.settledInBlock,
          };
          ops.push({ type: "put", key: r.id, value: JSON.stringify(updated) });
          this.#records.set(r.id, updated);
          outcomes.push(updated);
        });
        await this.#codes.batch(ops, SYNC);
      }
      return { txHashes, outcomes };
    });
  }
}
