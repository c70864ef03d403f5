// Types only: abstract-level is the interface `level` implements (not re-exported by it).
import type { AbstractBatchOperation, AbstractBatchOptions, AbstractSublevel } from "abstract-level";
import type { PaymentIntentJson } from "../../../client/sdk/account/intent.ts";
import type { IntentStatus } from "../../../client/sdk/account/relayerApi.ts";
import type { StoreSublevel } from "../store/store.ts";

/**
 * The relayer's records in the node's LevelDB (sublevel `rly` of the
 * NodeStore, kept when derived state is re-indexed):
 *
 *   rly!int   <id>              -> JSON IntentRecord (every intent ever accepted)
 *   rly!open  <id>              -> "" while the intent is queued or submitted
 *   rly!tx    <relayer nonce:20> -> JSON TxRecord while the transaction is not mined
 *
 * Every change is one atomic, synced batch: an intent is on disk before the
 * API answers 202, and a transaction is on disk (signed) before it is
 * broadcast, so a crash never loses an accepted intent nor forgets a
 * transaction that may be mined.
 */

export type { IntentStatus };

export interface IntentRecord {
  /** The intent's EIP-712 digest (lowercase 0x-hex). */
  id: string;
  account: string;
  intent: PaymentIntentJson;
  signature: string;
  deployment: { qx: string; qy: string; salt: string } | null;
  /** What the relayer charges, base units. */
  relayerFee: string;
  status: IntentStatus;
  /** The transaction carrying the intent (the latest broadcast one while submitted, the mined one once final). */
  txHash: string | null;
  error: { code: string; message: string } | null;
  /** Transactions carrying it that reverted as a whole (it is retried a few times). */
  reverts: number;
  /** The last of those (absent in records written before it existed): a failed intent shows it as its txHash. */
  revertedTx?: string;
  createdAt: number;
  updatedAt: number;
}

/** One signed broadcast of a relayer transaction. */
export interface TxAttempt {
  hash: string;
  raw: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  sentAt: number;
}

/** A relayer transaction (one nonce of the relayer's EOA) not yet mined; replacements add attempts. */
export interface TxRecord {
  nonce: number;
  /** Intent ids in the order of the call's payments. */
  ids: string[];
  kind: "direct" | "relay";
  to: string;
  data: string;
  gasLimit: string;
  attempts: TxAttempt[];
}

/** classic-level's `sync` (fsync before resolving): a sublevel passes its options on to the database. */
const SYNC: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: true };

const NONCE_WIDTH = 20;
const txKey = (nonce: number): string => String(nonce).padStart(NONCE_WIDTH, "0");

export interface StoreChange {
  intents?: readonly IntentRecord[];
  putTx?: TxRecord;
  delTx?: number;
}

type Child = AbstractSublevel<StoreSublevel, string | Buffer | Uint8Array, string, string>;

export class IntentStore {
  readonly #root: StoreSublevel;
  readonly #intents: Child;
  readonly #open: Child;
  readonly #txs: Child;

  constructor(root: StoreSublevel) {
    this.#root = root;
    this.#intents = root.sublevel("int");
    this.#open = root.sublevel("open");
    this.#txs = root.sublevel("tx");
  }

  async get(id: string): Promise<IntentRecord | undefined> {
    const v = await this.#intents.get(id);
    return v === undefined ? undefined : (JSON.parse(v) as IntentRecord);
  }

  /** Writes intents (and their open index) and a transaction change in one synced batch. */
  async write(change: StoreChange): Promise<void> {
    // The array form (unlike a chained batch) waits for the sublevels to finish opening.
    const ops: AbstractBatchOperation<StoreSublevel, string, string>[] = [];
    for (const r of change.intents ?? []) {
      ops.push({ type: "put", key: r.id, value: JSON.stringify(r), sublevel: this.#intents });
      if (r.status === "queued" || r.status === "submitted") ops.push({ type: "put", key: r.id, value: "", sublevel: this.#open });
      else ops.push({ type: "del", key: r.id, sublevel: this.#open });
    }
    if (change.putTx) ops.push({ type: "put", key: txKey(change.putTx.nonce), value: JSON.stringify(change.putTx), sublevel: this.#txs });
    if (change.delTx !== undefined) ops.push({ type: "del", key: txKey(change.delTx), sublevel: this.#txs });
    await this.#root.batch(ops, SYNC);
  }

  /** Intents still queued or submitted, oldest first. */
  async openIntents(): Promise<IntentRecord[]> {
    const ids = await this.#open.keys().all();
    const values = await this.#intents.getMany(ids);
    return values
      .filter((v): v is string => v !== undefined)
      .map((v) => JSON.parse(v) as IntentRecord)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Transactions not known to be mined, by nonce. */
  async pendingTxs(): Promise<TxRecord[]> {
    const values = await this.#txs.values().all();
    return values.map((v) => JSON.parse(v) as TxRecord).sort((a, b) => a.nonce - b.nonce);
  }
}
