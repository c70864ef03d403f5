import { EventEmitter } from "node:events";
import type { Currency } from "../../../client/sdk/currencies.ts";
import { CURRENCIES } from "../../../client/sdk/currencies.ts";
import { isOrioleError, OrioleError } from "../../../client/sdk/errors.ts";
import type { BlockHeader, ChainClient } from "../chain/rpc.ts";
import { HeadSubscription, type HeadSubscriptionOptions } from "../chain/headSubscription.ts";
import { fetchNextRange, RangeSizer, type FetchedRange } from "../chain/transfers.ts";
import type { Logger } from "../log.ts";
import type { AdminRecord, ChainIdentity, Cursor, NodeStore, PaymentStatus, SeenPayment, UndoRecord } from "../store/store.ts";
import { applyTransfers, checksum, touchedBalances } from "./derive.ts";
import { balanceKey } from "../store/keys.ts";

export interface IndexerStatus {
  /** Last block whose effects are committed. */
  indexedBlock: number;
  /** Chain head as last seen; null before the first poll. */
  headBlock: number | null;
  /** True once the indexer has reached the head it last saw. */
  caughtUp: boolean;
  /** The error that stopped the indexer, if one did. */
  failure: OrioleError | null;
  /** Reorganisations rolled back since start. */
  reorgs: number;
  /** True while a WebSocket new-heads subscription wakes the indexer (else it only polls). */
  headSubscription: boolean;
}

/** What a rollback did: emitted as "reorg" on Indexer.events. */
export interface ReorgInfo {
  /** The indexed block before the rollback. */
  from: Cursor;
  /** The common ancestor (a commit boundary at or below it) the state was rolled back to. */
  to: Cursor;
  /** Commits undone. */
  commits: number;
  /** Payments reported as dropped. */
  dropped: number;
}

export interface IndexerOptions {
  client: ChainClient;
  store: NodeStore;
  identity: ChainIdentity;
  log: Logger;
  pollMs: number;
  maxBlockRange: number;
  /** Depth at which a payment is confirmed (1: once in a block). */
  confirmations?: number;
  /** Deepest reorganisation rolled back; a deeper one stops the indexer with `reorg_too_deep`. */
  reorgDepth?: number;
  /** Called after each commit (and rollback) with the outbox's last sequence number. */
  onCommit?: (lastSeq: number) => void;
  /** Called once if the indexer stops on an error it cannot retry (reorg, broken invariant). */
  onFatal?: (error: OrioleError) => void;
  /** A WebSocket endpoint announcing new heads: each one wakes the follower before its next poll. */
  heads?: Omit<HeadSubscriptionOptions, "onHead" | "log"> | undefined;
}

/** Errors that retrying cannot fix: the indexer stops and reports them. */
const FATAL_CODES = new Set(["reorg_too_deep", "state_invariant"]);
export const DEFAULT_REORG_DEPTH = 64;
/** Polls in a row with the head below the cursor before the shorter chain is taken as a reorganisation (not a lagging RPC). */
const HEAD_BEHIND_POLLS = 3;
const MAX_BACKOFF_MS = 5_000;
const STOP_GRACE_MS = 1_000;
const ZERO_HASH = `0x${"0".repeat(64)}`;
const PROGRESS_EVERY_MS = 1_000;

interface Waiter {
  block: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Follows the chain from the deployment block to the head: backfill in
 * block ranges, then poll for new heads. Each range is fetched, checked to
 * extend what is stored, turned into state changes and committed with its
 * cursor in one atomic write, so a crash at any moment resumes from the
 * last commit with no gap and no duplicate.
 */
export class Indexer {
  /** "committed" (lastSeq: number) after each commit or rollback; "reorg" (ReorgInfo). */
  readonly events = new EventEmitter();
  readonly #opts: IndexerOptions;
  readonly #confirmations: number;
  readonly #reorgDepth: number;
  #reorgs = 0;
  #headBehind = 0;
  readonly #log: Logger;
  readonly #currencyOf: ReadonlyMap<string, Currency>;
  readonly #tokens: readonly string[];
  readonly #sizer: RangeSizer;
  /** Where a fresh store starts: the block before the deployment. */
  #base: Cursor | undefined;
  /** The last block derived and staged: the next range extends it. */
  #cursor: Cursor | undefined;
  /** The last block on disk (what status, waiters and notifications see). */
  #durable: Cursor | undefined;
  /** The staged batches' writes and what follows each (waiters, notifications), in order. */
  #writing: Promise<void> | undefined;
  #head: number | null = null;
  #supply: Record<Currency, bigint> | undefined;
  #failure: OrioleError | null = null;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #committing: Promise<boolean> | undefined;
  #wake: (() => void) | undefined;
  #pollWake: (() => void) | undefined;
  /** A head was announced since the current round began: the round after it starts at once. */
  #poked = false;
  readonly #heads: HeadSubscription | undefined;
  #waiters: Waiter[] = [];
  #caughtUpOnce = false;
  #started = { at: 0, block: 0, transfers: 0 };
  #progress = { at: 0, transfers: 0 };

  constructor(opts: IndexerOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: "indexer" });
    this.#currencyOf = new Map(CURRENCIES.map((c) => [opts.identity.tokens[c], c]));
    this.#tokens = CURRENCIES.map((c) => opts.identity.tokens[c]);
    this.#sizer = new RangeSizer(opts.maxBlockRange);
    this.#confirmations = opts.confirmations ?? 1;
    this.#reorgDepth = opts.reorgDepth ?? DEFAULT_REORG_DEPTH;
    const onHead = (): void => {
      this.poke();
    };
    this.#heads = opts.heads ? new HeadSubscription({ ...opts.heads, onHead, log: this.#log }) : undefined;
  }

  /** Loads the cursor (or starts just before the deployment block) and starts following. */
  async start(): Promise<void> {
    const { store, identity } = this.#opts;
    const cursor = (await store.cursor()) ?? (await this.#baseCursor());
    this.#cursor = this.#durable = cursor;
    this.#supply = await store.supplyOf();
    this.#started = { at: Date.now(), block: cursor.blockNumber, transfers: 0 };
    this.#progress = { at: Date.now(), transfers: 0 };
    this.#log.info("indexer starting", { fromBlock: cursor.blockNumber + 1, resumed: cursor.blockNumber >= identity.deployedAt.blockNumber });
    this.#loop = this.#run();
    this.#heads?.start();
  }

  /** A new head exists (announced by the subscription): look at the chain now rather than at the next poll. */
  poke(): void {
    this.#poked = true;
    this.#pollWake?.();
  }

  status(): IndexerStatus {
    const indexedBlock = this.#durable?.blockNumber ?? this.#opts.identity.deployedAt.blockNumber - 1;
    return {
      indexedBlock,
      headBlock: this.#head,
      caughtUp: this.#head !== null && indexedBlock >= this.#head,
      failure: this.#failure,
      reorgs: this.#reorgs,
      headSubscription: this.#heads?.subscribed ?? false,
    };
  }

  /** Resolves once block `block` is committed; rejects if the indexer fails or stops first, or after `timeoutMs`. */
  waitForIndexed(block: number, timeoutMs = 60_000): Promise<void> {
    if ((this.#durable?.blockNumber ?? -1) >= block) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#stopped) return Promise.reject(new OrioleError("indexer_stopped", "the indexer is stopped"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new OrioleError("timeout", `block ${block} was not indexed within ${timeoutMs} ms (indexed: ${this.#durable?.blockNumber ?? "none"})`));
      }, timeoutMs);
      const waiter: Waiter = {
        block,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Stops after the write in progress, if any; never leaves half a range. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#heads?.stop();
    this.#wake?.();
    // A fetch in flight may hang on a dead RPC: abandoning it is safe (the
    // loop checks the flag before writing); a write in progress is awaited.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#loop, new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(timer);
    await this.#committing?.catch(() => {}); // its error, if any, is the loop's to report
    await this.#writing?.catch(() => {});
    this.#settleWaiters(new OrioleError("indexer_stopped", "the indexer stopped"));
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      this.#poked = false;
      try {
        await this.#catchUp();
        failures = 0;
      } catch (e) {
        if (this.#isStopped()) return; // a request cut short by stop()
        const error = isOrioleError(e) ? e : new OrioleError("indexer_error", (e as Error).message, {}, { cause: e });
        if (FATAL_CODES.has(error.code)) {
          this.#fail(error);
          return;
        }
        failures++;
        try {
          await this.#resync();
        } catch (resyncError) {
          this.#log.warn("indexer could not re-read its store", { error: resyncError });
        }
        const delay = error.code === "chain_changed" ? 0 : Math.min(MAX_BACKOFF_MS, this.#opts.pollMs * 2 ** Math.min(failures, 10));
        if (failures === 1 || failures % 10 === 0) this.#log.warn("indexer retrying after an error", { error, failures, retryInMs: delay });
        await this.#sleep(delay);
        continue;
      }
      // A head announced during the round: it may not have been seen yet.
      if (this.#wasPoked()) continue;
      await this.#sleep(this.#opts.pollMs, true);
    }
  }

  /** Polls the head, then indexes ranges until the cursor reaches it. */
  async #catchUp(): Promise<void> {
    const { client } = this.#opts;
    const latest = await client.header("latest");
    const head = latest.number;
    this.#head = head;
    if (!(await this.#checkHead(latest))) {
      await this.#rollback();
      return this.#catchUp();
    }
    let pending: Promise<FetchedRange> | undefined;
    const fetchFrom = (fromBlock: number): Promise<FetchedRange> => {
      const p = fetchNextRange(client, this.#sizer, { fromBlock, maxToBlock: head, tokens: this.#tokens });
      p.catch(() => {}); // observed when awaited; avoids an unhandled rejection if abandoned
      return p;
    };
    while (!this.#isStopped() && this.#cursorBlock() < head) {
      const range = await (pending ?? fetchFrom(this.#cursorBlock() + 1));
      if (this.#isStopped()) return;
      // Fetch the next range while this one is derived, and derive it while this one is written.
      pending = range.toBlock < head ? fetchFrom(range.toBlock + 1) : undefined;
      this.#committing = this.#stageRange(range, head);
      let extended: boolean;
      try {
        extended = await this.#committing;
      } finally {
        this.#committing = undefined;
      }
      if (!extended) {
        pending = undefined;
        await this.#rollback();
      }
    }
    await this.#drain();
    this.#reportProgress(head);
  }

  /** Where a fresh store starts: just before the deployment block. */
  async #baseCursor(): Promise<Cursor> {
    if (!this.#base) {
      const first = await this.#opts.client.header(this.#opts.identity.deployedAt.blockNumber);
      this.#base = { blockNumber: first.number - 1, blockHash: first.parentHash };
    }
    return this.#base;
  }

  /** Waits until every staged range is on disk and reported; throws a failed write's error. */
  async #drain(): Promise<void> {
    await this.#writing;
  }

  /**
   * After an error: lets the staged writes finish (or fail), then takes the
   * cursor and supply from the disk again, so what was derived on top of a
   * failed write is never built on.
   */
  async #resync(): Promise<void> {
    await this.#writing?.catch(() => {});
    this.#writing = undefined;
    await this.#opts.store.settle();
    const cursor = (await this.#opts.store.cursor()) ?? (await this.#baseCursor());
    this.#cursor = this.#durable = cursor;
    this.#supply = await this.#opts.store.supplyOf();
  }

  /** A method, not the field: the flag changes across awaits. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  /** A method, not the field: poke() sets it across awaits. */
  #wasPoked(): boolean {
    return this.#poked;
  }

  /**
   * With no new block, the head must still be the indexed block: a head at
   * the same height with another hash is a reorganisation (returns false).
   * A head below the cursor is retried (a lagging RPC behind a load
   * balancer) and, after a few polls in a row, taken as a reorganisation to
   * a shorter chain.
   */
  async #checkHead(latest: BlockHeader): Promise<boolean> {
    const cursor = this.#cursor;
    if (!cursor) return true;
    if (latest.number === cursor.blockNumber && latest.hash !== cursor.blockHash) return false;
    if (latest.number < cursor.blockNumber) {
      if (++this.#headBehind >= HEAD_BEHIND_POLLS && !(await this.#isCanonical(cursor))) {
        this.#headBehind = 0;
        return false;
      }
      throw new OrioleError("head_behind", `the chain head ${latest.number} is behind the indexed block ${cursor.blockNumber} (lagging RPC, or a reset chain: restart with --reindex-on-reset)`, {
        headBlock: latest.number,
        indexedBlock: cursor.blockNumber,
      });
    }
    this.#headBehind = 0;
    return true;
  }

  /** Whether the chain still has `c` (false when it has no block at that height). */
  async #isCanonical(c: Cursor): Promise<boolean> {
    if (c.blockNumber < 0) return true;
    try {
      return (await this.#opts.client.header(c.blockNumber)).hash === c.blockHash;
    } catch (e) {
      if (isOrioleError(e) && e.code === "block_not_found") return false;
      throw e;
    }
  }

  /**
   * Rolls derived state back to the newest commit boundary the chain still
   * has, through the undo records (one atomic batch per commit undone). The
   * ancestor is found before anything is written: if the records do not
   * reach it (a reorganisation deeper than --reorg-depth), the indexer stops
   * with `reorg_too_deep` and the store keeps the state it had. Payments of
   * the undone commits whose block the chain no longer has are reported
   * `payment.dropped`; the canonical chain is then indexed again from the
   * ancestor.
   */
  async #rollback(): Promise<void> {
    await this.#drain();
    const from = this.#cursor;
    if (!from) throw new Error("indexer not started");
    const records = await this.#opts.store.undoRecords();
    const undo: UndoRecord[] = [];
    let at = from;
    while (!(await this.#isCanonical(at))) {
      const r = records[undo.length];
      if (r?.toBlock !== at.blockNumber) {
        throw new OrioleError(
          "reorg_too_deep",
          `chain reorganisation deeper than --reorg-depth ${this.#reorgDepth.toString()}: block ${at.blockNumber.toString()} (${at.blockHash}) is no longer on the chain and no undo record reaches further back; stopping without writing (re-index with a fresh data dir)`,
          { indexedBlock: from.blockNumber, indexedHash: from.blockHash, reorgDepth: this.#reorgDepth, unreachedBlock: at.blockNumber },
        );
      }
      undo.push(r);
      at = r.prevCursor;
    }
    if (undo.length === 0) return; // the chain changed back meanwhile
    const canonicalHash = new Map<number, boolean>();
    const stillThere = async (n: number, hash: string): Promise<boolean> => {
      let ok = canonicalHash.get(n);
      if (ok === undefined) {
        ok = n <= at.blockNumber || (await this.#isCanonical({ blockNumber: n, blockHash: hash }));
        canonicalHash.set(n, ok);
      }
      return ok;
    };
    let dropped = 0;
    for (const r of undo) {
      const gone: { seen: SeenPayment; status: PaymentStatus }[] = [];
      for (const seen of r.payments) {
        if (await stillThere(seen.payment.blockNumber, seen.blockHash)) continue;
        gone.push({ seen, status: from.blockNumber - seen.payment.blockNumber + 1 >= this.#confirmations ? "confirmed" : "pending" });
      }
      await this.#opts.store.rollback(r, gone, this.#opts.identity.chainId);
      dropped += gone.length;
      this.#cursor = this.#durable = r.prevCursor;
    }
    this.#supply = await this.#opts.store.supplyOf();
    this.#reorgs++;
    const info: ReorgInfo = { from, to: at, commits: undo.length, dropped };
    this.#log.warn("chain reorganisation rolled back", { ...info });
    this.events.emit("reorg", info);
    await this.#notifyCommitted();
  }

  async #notifyCommitted(): Promise<void> {
    const lastSeq = await this.#opts.store.lastEventSeq();
    this.#opts.onCommit?.(lastSeq);
    this.events.emit("committed", lastSeq);
  }

  #cursorBlock(): number {
    if (!this.#cursor) throw new Error("indexer not started");
    return this.#cursor.blockNumber;
  }

  /**
   * Derives the range's state and stages its commit (NodeStore.stage): the
   * write goes on while the next range is fetched and derived; waiters and
   * notifications follow once it is on disk. Returns false, staging
   * nothing, when the range does not extend the indexed chain (a reorganisation).
   */
  async #stageRange(range: FetchedRange, head: number): Promise<boolean> {
    const cursor = this.#cursor;
    const supply = this.#supply;
    if (!cursor || !supply) throw new Error("indexer not started");
    if (!(await this.#checkExtends(cursor, range))) return false;

    const t0 = performance.now();
    const refs = touchedBalances(range.transfers, this.#currencyOf);
    const values = await this.#opts.store.balancesOf(refs);
    const t1 = performance.now();
    const priorBalances = new Map(refs.map((r, i) => [balanceKey(r.account, r.currency), values[i] ?? 0n]));
    const changes = applyTransfers({ transfers: range.transfers, payments: range.payments, currencyOf: this.#currencyOf, priorBalances, priorSupply: supply });
    const admin: { blockHash: string; record: AdminRecord }[] = [];
    for (const a of range.admin) {
      const currency = this.#currencyOf.get(a.token);
      if (!currency) continue;
      admin.push({ blockHash: a.blockHash, record: { kind: a.kind, currency, account: checksum(a.account), amount: a.amount === null ? null : a.amount.toString(), blockNumber: a.blockNumber, logIndex: a.logIndex, txHash: a.txHash } });
    }
    const next: Cursor = { blockNumber: range.last.number, blockHash: range.last.hash };
    const t2 = performance.now();
    const { written } = await this.#opts.store.stage({ ...changes, admin: admin.map((a) => a.record) }, next, {
      chainId: this.#opts.identity.chainId,
      confirmations: this.#confirmations,
      prevCursor: cursor,
      payments: changes.seen ?? [],
      admin,
      // Only commits a reorganisation within --reorg-depth of the head can reach need undoing.
      undo: range.toBlock > head - this.#reorgDepth,
      pruneThrough: next.blockNumber - this.#reorgDepth,
    });
    const t3 = performance.now();

    this.#cursor = next;
    this.#supply = { ...supply, ...Object.fromEntries(changes.supply) };
    this.#started.transfers += range.transfers.length;
    this.#log.debug("indexed range", {
      fromBlock: range.fromBlock,
      toBlock: range.toBlock,
      transfers: range.transfers.length,
      payments: range.payments.length,
      fetchMs: range.fetchMs,
      readMs: Math.round(t1 - t0),
      deriveMs: Math.round(t2 - t1),
      writeMs: Math.round(t3 - t2),
    });
    const previous = this.#writing;
    const done = (async () => {
      await written;
      await previous; // in order: a range is reported after the one before it
      this.#durable = next;
      this.#settleWaiters();
      await this.#notifyCommitted();
      if (Date.now() - this.#progress.at >= PROGRESS_EVERY_MS) this.#reportProgress(this.#head ?? next.blockNumber);
    })();
    done.catch(() => {}); // observed by #drain, or by the next range's chain
    this.#writing = done;
    return true;
  }

  /**
   * The range must extend the stored chain: its first block's parent is the
   * cursor block. If not, the chain reorganised below the cursor (false).
   *
   * Hardhat's `hardhat_mine` of many blocks at once reports a zero
   * parentHash for the blocks it reserves: no real block has that parent,
   * so then the check asks whether the cursor block is still canonical.
   */
  async #checkExtends(cursor: Cursor, range: FetchedRange): Promise<boolean> {
    if (range.first.number !== cursor.blockNumber + 1) {
      throw new OrioleError("indexer_error", `range starts at ${range.first.number}, expected ${cursor.blockNumber + 1}`);
    }
    let parentHash = range.first.parentHash;
    if (parentHash === ZERO_HASH && cursor.blockNumber >= 0) {
      parentHash = (await this.#opts.client.header(cursor.blockNumber)).hash;
    }
    if (parentHash !== cursor.blockHash) {
      this.#log.warn("chain reorganisation detected", { blockNumber: range.first.number, parentHash, indexedBlock: cursor.blockNumber, indexedHash: cursor.blockHash });
      return false;
    }
    return true;
  }

  #reportProgress(head: number): void {
    const now = Date.now();
    const indexedBlock = this.#durable?.blockNumber ?? this.#cursorBlock();
    const total = this.#started.transfers;
    if (!this.#caughtUpOnce && indexedBlock >= head) {
      this.#caughtUpOnce = true;
      const ms = now - this.#started.at;
      this.#log.info("caught up", {
        indexedBlock,
        headBlock: head,
        blocks: indexedBlock - this.#started.block,
        transfers: total,
        ms,
        transfersPerSec: ms > 0 ? Math.round((total * 1000) / ms) : total,
      });
    } else if (!this.#caughtUpOnce) {
      const dt = now - this.#progress.at;
      this.#log.info("backfill", {
        indexedBlock,
        headBlock: head,
        transfers: total,
        transfersPerSec: dt > 0 ? Math.round(((total - this.#progress.transfers) * 1000) / dt) : 0,
      });
    }
    this.#progress = { at: now, transfers: total };
  }

  #settleWaiters(error?: Error): void {
    const indexed = this.#durable?.blockNumber ?? -1;
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.block <= indexed) w.resolve();
      else if (error) w.reject(error);
      else keep.push(w);
    }
    this.#waiters = keep;
  }

  #fail(error: OrioleError): void {
    this.#failure = error;
    this.#log.error("indexer stopped", { error, details: error.details });
    this.#settleWaiters(error);
    this.#opts.onFatal?.(error);
  }

  /** Sleeps `ms`; stop() wakes it, and poke() too when `poll` (an error's backoff is not cut short by new heads). */
  #sleep(ms: number, poll = false): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = this.#pollWake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
      if (poll) this.#pollWake = done;
    });
  }
}
