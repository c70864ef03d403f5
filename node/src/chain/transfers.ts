import { id } from "ethers";
import { PAYMENT_TOPIC, TRANSFER_TOPIC } from "../../../client/sdk/abi.ts";
import { OrioleError } from "../../../client/sdk/errors.ts";
import type { BlockHeader, ChainClient, RpcLog } from "./rpc.ts";

/** One ERC-20 Transfer, decoded. Addresses are lowercase hex; mints come from and burns go to the zero address. */
export interface TransferLog {
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  /** Token contract, lowercase. */
  token: string;
  from: string;
  to: string;
  value: bigint;
  /** Unix seconds of the block. */
  timestamp: number;
}

/**
 * One `Payment(bytes32 indexed ref, address indexed payer, address indexed
 * payee, uint256 amount, uint256 fee)` of a StableToken, decoded. It follows,
 * in the same transaction, the Transfer(s) it describes (see derive.ts).
 */
export interface PaymentLog {
  blockNumber: number;
  logIndex: number;
  txHash: string;
  /** Token contract, lowercase. */
  token: string;
  /** 0x and 64 lowercase hex digits. */
  reference: string;
  payer: string;
  payee: string;
  /** What the payer paid: the payee got `amount - fee`, the fee collector `fee`. */
  amount: bigint;
  fee: bigint;
}

/** The token's administrative events the node records (StableToken.sol, TokenRoles.sol). */
export type AdminKind = "mint" | "burn" | "freeze" | "unfreeze" | "pause" | "unpause";

/** One administrative event of a StableToken, decoded. */
export interface AdminLog {
  kind: AdminKind;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  /** Token contract, lowercase. */
  token: string;
  /** The account concerned (lowercase): minted to, burnt by, frozen, or who paused. */
  account: string;
  /** Mint and burn: base units; otherwise null. */
  amount: bigint | null;
}

/** topic0 of each admin event: Mint(address,address,uint256), Burn(address,uint256), Frozen/Unfrozen(address), Paused/Unpaused(address). */
export const ADMIN_TOPICS: Readonly<Record<AdminKind, string>> = {
  mint: id("Mint(address,address,uint256)"),
  burn: id("Burn(address,uint256)"),
  freeze: id("Frozen(address)"),
  unfreeze: id("Unfrozen(address)"),
  pause: id("Paused(address)"),
  unpause: id("Unpaused(address)"),
};
const ADMIN_KIND_OF = new Map(Object.entries(ADMIN_TOPICS).map(([k, t]) => [t, k as AdminKind]));
const ALL_TOPICS = [TRANSFER_TOPIC, PAYMENT_TOPIC, ...Object.values(ADMIN_TOPICS)];

/**
 * Decodes an admin event: Mint (topics minter, to; data amount), Burn
 * (topic burner; data amount), Frozen/Unfrozen (topic account), Paused/
 * Unpaused (data account, not indexed). Undefined for anything else.
 */
export function decodeAdminLog(log: RpcLog): AdminLog | undefined {
  const t0 = log.topics[0]?.toLowerCase();
  const kind = t0 === undefined ? undefined : ADMIN_KIND_OF.get(t0);
  if (!kind) return undefined;
  const word = (w: string | undefined): string | undefined => (w !== undefined && WORD_ADDRESS_RE.test(w) ? `0x${w.slice(26).toLowerCase()}` : undefined);
  let account: string | undefined;
  let amount: bigint | null = null;
  if (kind === "mint") {
    account = log.topics.length === 3 ? word(log.topics[2]) : undefined;
    if (!WORD_RE.test(log.data)) return undefined;
    amount = BigInt(log.data);
  } else if (kind === "burn") {
    account = log.topics.length === 2 ? word(log.topics[1]) : undefined;
    if (!WORD_RE.test(log.data)) return undefined;
    amount = BigInt(log.data);
  } else if (kind === "freeze" || kind === "unfreeze") {
    account = log.topics.length === 2 ? word(log.topics[1]) : undefined;
  } else {
    account = log.topics.length === 1 ? word(log.data) : undefined;
  }
  if (account === undefined) return undefined;
  return {
    kind,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash.toLowerCase(),
    logIndex: Number(log.logIndex),
    txHash: log.transactionHash.toLowerCase(),
    token: log.address.toLowerCase(),
    account,
    amount,
  };
}

/** Transfers (and the Payment events next to them) of a contiguous block range, with the headers that bound it. */
export interface FetchedRange {
  fromBlock: number;
  toBlock: number;
  /** Header of `fromBlock`: its parentHash links the range to what is already indexed. */
  first: BlockHeader;
  /** Header of `toBlock`: becomes the cursor once the range is committed. */
  last: BlockHeader;
  /** Ordered by (blockNumber, logIndex). */
  transfers: TransferLog[];
  /** Ordered by (blockNumber, logIndex). */
  payments: PaymentLog[];
  /** Admin events (mint, burn, freeze, pause...), ordered by (blockNumber, logIndex). */
  admin: AdminLog[];
  /** Time the RPC round trips and decoding took. */
  fetchMs: number;
}

const WORD_ADDRESS_RE = /^0x0{24}[0-9a-fA-F]{40}$/;
const WORD_RE = /^0x[0-9a-fA-F]{64}$/;
const TWO_WORDS_RE = /^0x[0-9a-fA-F]{128}$/;

/**
 * Decodes a Transfer log straight from its topics and data (no ABI coder):
 * topics[1] = from, topics[2] = to, data = value. Returns undefined for logs
 * that share the topic but are not ERC-20 Transfers (e.g. ERC-721's, which
 * index the value as a fourth topic).
 */
export function decodeTransferLog(log: RpcLog, timestamp: number): TransferLog | undefined {
  const [t0, t1, t2] = log.topics;
  if (log.topics.length !== 3 || t0?.toLowerCase() !== TRANSFER_TOPIC) return undefined;
  if (!t1 || !t2 || !WORD_ADDRESS_RE.test(t1) || !WORD_ADDRESS_RE.test(t2) || !WORD_RE.test(log.data)) return undefined;
  return {
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash.toLowerCase(),
    logIndex: Number(log.logIndex),
    txHash: log.transactionHash.toLowerCase(),
    token: log.address.toLowerCase(),
    from: `0x${t1.slice(26).toLowerCase()}`,
    to: `0x${t2.slice(26).toLowerCase()}`,
    value: BigInt(log.data),
    timestamp,
  };
}

/**
 * Decodes a Payment log from its topics and data (no ABI coder): topics[1] =
 * reference, topics[2] = payer, topics[3] = payee, data = amount ‖ fee.
 * Returns undefined for anything else.
 */
export function decodePaymentLog(log: RpcLog): PaymentLog | undefined {
  const [t0, t1, t2, t3] = log.topics;
  if (log.topics.length !== 4 || t0?.toLowerCase() !== PAYMENT_TOPIC) return undefined;
  if (!t1 || !t2 || !t3 || !WORD_RE.test(t1) || !WORD_ADDRESS_RE.test(t2) || !WORD_ADDRESS_RE.test(t3) || !TWO_WORDS_RE.test(log.data)) return undefined;
  return {
    blockNumber: Number(log.blockNumber),
    logIndex: Number(log.logIndex),
    txHash: log.transactionHash.toLowerCase(),
    token: log.address.toLowerCase(),
    reference: t1.toLowerCase(),
    payer: `0x${t2.slice(26).toLowerCase()}`,
    payee: `0x${t3.slice(26).toLowerCase()}`,
    amount: BigInt(`0x${log.data.slice(2, 66)}`),
    fee: BigInt(`0x${log.data.slice(66)}`),
  };
}

const byLogOrder = (a: { blockNumber: number; logIndex: number }, b: { blockNumber: number; logIndex: number }): number => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;

/** The chain answered for a different history than a moment ago (a reorg during the fetch): try again. */
export class ChainChangedError extends OrioleError {
  constructor(message: string, details: Record<string, unknown>) {
    super("chain_changed", message, details);
  }
}

/**
 * Fetches the Transfer and Payment logs of `tokens` in [fromBlock, toBlock]
 * (one eth_getLogs call, topic0 either) and the headers bounding the
 * range, in one JSON-RPC round trip when the RPC
 * returns `blockTimestamp` on logs (two otherwise: the missing timestamps
 * come from headers, fetched as one batch).
 */
export async function fetchTransfers(client: ChainClient, opts: { fromBlock: number; toBlock: number; tokens: readonly string[] }): Promise<FetchedRange> {
  const { fromBlock, toBlock } = opts;
  const t0 = performance.now();
  const [logs, first, last] = await Promise.all([
    client.logs({ fromBlock, toBlock, addresses: opts.tokens, topic0: ALL_TOPICS }),
    client.header(fromBlock),
    fromBlock === toBlock ? undefined : client.header(toBlock),
  ]);
  const lastHeader = last ?? first;

  const known = new Map<number, BlockHeader>([[first.number, first], [lastHeader.number, lastHeader]]);
  const missing = new Set<number>();
  for (const log of logs) {
    if (log.blockTimestamp === undefined) {
      const n = Number(log.blockNumber);
      if (!known.has(n)) missing.add(n);
    }
  }
  if (missing.size > 0) for (const h of await client.headers([...missing])) known.set(h.number, h);

  const transfers: TransferLog[] = [];
  const payments: PaymentLog[] = [];
  const admin: AdminLog[] = [];
  let sorted = true;
  let paymentsSorted = true;
  for (const log of logs) {
    if (log.removed === true) throw new ChainChangedError("eth_getLogs returned a removed log", { blockHash: log.blockHash });
    const n = Number(log.blockNumber);
    if (!Number.isSafeInteger(n) || n < fromBlock || n > toBlock) {
      throw new OrioleError("rpc_invalid_response", `eth_getLogs returned a log of block ${log.blockNumber} outside ${fromBlock}..${toBlock}`);
    }
    const header = known.get(n);
    if (header && header.hash !== log.blockHash.toLowerCase()) {
      throw new ChainChangedError(`block ${n} changed while it was being fetched`, { blockNumber: n });
    }
    const timestamp = log.blockTimestamp !== undefined ? Number(log.blockTimestamp) : header?.timestamp;
    if (timestamp === undefined) throw new OrioleError("rpc_invalid_response", `no timestamp for block ${n}`);
    const t = decodeTransferLog(log, timestamp);
    if (!t) {
      const p = decodePaymentLog(log);
      if (!p) {
        const a = decodeAdminLog(log);
        if (a) admin.push(a);
        continue;
      }
      const prevP = payments.at(-1);
      if (prevP && byLogOrder(prevP, p) >= 0) paymentsSorted = false;
      payments.push(p);
      continue;
    }
    const prev = transfers.at(-1);
    if (prev && byLogOrder(prev, t) >= 0) sorted = false;
    transfers.push(t);
  }
  if (!sorted) transfers.sort(byLogOrder);
  if (!paymentsSorted) payments.sort(byLogOrder);
  admin.sort(byLogOrder);
  return { fromBlock, toBlock, first, last: lastHeader, transfers, payments, admin, fetchMs: Math.round(performance.now() - t0) };
}

/** Whether an RPC error means "ask for less" (result count, response size or block range limits). */
export function isRangeTooLargeError(e: unknown): boolean {
  const text = errorText(e).toLowerCase();
  return /too many|more than \d+ results|limit exceeded|response size|size exceed|exceed(s|ed)? (the )?max|block range|range (is )?too (large|wide|big)|query timeout|-32005/.test(text);
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const info = (e as { info?: unknown }).info;
  if (info === undefined) return e.message;
  try {
    return `${e.message} ${JSON.stringify(info)}`;
  } catch {
    return e.message;
  }
}

/**
 * Chooses block ranges for eth_getLogs: starts small, doubles while results
 * stay well under `targetLogs` (up to `max` blocks), follows the log
 * density down when a range returns more, and halves on "too much" errors.
 * Ranges of a few thousand logs keep responses small and let the next fetch
 * overlap the current write.
 */
export class RangeSizer {
  readonly max: number;
  readonly targetLogs: number;
  #size: number;

  constructor(max: number, opts: { targetLogs?: number; initial?: number } = {}) {
    this.max = max;
    this.targetLogs = opts.targetLogs ?? 5_000;
    this.#size = Math.min(max, opts.initial ?? 16);
  }

  get size(): number {
    return this.#size;
  }

  /** Returns false when the range cannot shrink any more. */
  shrink(): boolean {
    if (this.#size <= 1) return false;
    this.#size = Math.max(1, Math.floor(this.#size / 2));
    return true;
  }

  /** Adapts after a range of `blocks` blocks returned `logs` logs. */
  observe(blocks: number, logs: number): void {
    if (logs > this.targetLogs) {
      this.#size = Math.max(1, Math.floor((blocks * this.targetLogs) / logs));
    } else if (logs < this.targetLogs / 2 && blocks >= this.#size) {
      this.#size = Math.min(this.max, this.#size * 2);
    }
  }
}

/**
 * Fetches the next range starting at `fromBlock` and ending at most at
 * `maxToBlock`, shrinking the range on size errors.
 */
export async function fetchNextRange(client: ChainClient, sizer: RangeSizer, opts: { fromBlock: number; maxToBlock: number; tokens: readonly string[] }): Promise<FetchedRange> {
  for (;;) {
    const toBlock = Math.min(opts.maxToBlock, opts.fromBlock + sizer.size - 1);
    try {
      const range = await fetchTransfers(client, { fromBlock: opts.fromBlock, toBlock, tokens: opts.tokens });
      sizer.observe(toBlock - opts.fromBlock + 1, range.transfers.length + range.payments.length);
      return range;
    } catch (e) {
      if (isRangeTooLargeError(e) && sizer.shrink()) continue;
      throw e;
    }
  }
}
