import { isAscii } from "node:buffer";
import { JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { z } from "zod";
import { isOrioleError, OrioleError } from "../../../client/sdk/errors.ts";
import { fetchChainId, jsonRpcRequest } from "../../../client/sdk/jsonRpc.ts";

/** The parts of a block header the node uses. */
export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: number;
}

/** An eth_getLogs entry as the RPC sends it (hex strings), not decoded. */
export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  /** Returned by recent clients (Hardhat, anvil, geth ≥ 1.14); saves a header fetch. */
  blockTimestamp?: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

export interface LogFilter {
  fromBlock: number;
  toBlock: number;
  addresses: readonly string[];
  /** First topic; several mean any of them (one eth_getLogs call). */
  topic0: string | readonly string[];
}

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const headerSchema = z.object({ number: hex, hash, parentHash: hash, timestamp: hex });

const REQUEST_TIMEOUT_MS = 30_000;

export const toHex = (n: number): string => `0x${n.toString(16)}`;

/**
 * JSON-RPC access to one chain through ethers' JsonRpcProvider with a static
 * network (no detection loop), short polling and no batch stall: concurrent
 * calls made in the same tick travel as one batch. Raw `send` only: logs are
 * returned undecoded, because decoding through an ABI is the slow part of
 * indexing.
 */
export class ChainClient {
  readonly chainId: number;
  readonly #provider: JsonRpcProvider;

  private constructor(provider: JsonRpcProvider, chainId: number) {
    this.#provider = provider;
    this.chainId = chainId;
  }

  /** Asks the RPC for its chain id, then builds a provider bound to it. */
  static async connect(url: string, opts: { pollingIntervalMs?: number; fallbackUrl?: string | undefined } = {}): Promise<ChainClient> {
    const chainId = await fetchChainId(url);
    const network = Network.from(chainId);
    // The fallback must serve the same chain: same chain id AND genesis (dev chains share ids).
    const genesis = opts.fallbackUrl === undefined ? "" : await genesisHash(url);
    const provider = new NativeFetchJsonRpcProvider(url, opts.fallbackUrl, { chainId, genesis }, network, {
      staticNetwork: network,
      batchStallTime: 0,
      pollingInterval: opts.pollingIntervalMs ?? 100,
    });
    return new ChainClient(provider, chainId);
  }

  /** One header ("latest" for the head); throws `block_not_found` if the chain does not have it. */
  async header(blockNumber: number | "latest"): Promise<BlockHeader> {
    const tag = blockNumber === "latest" ? blockNumber : toHex(blockNumber);
    const raw: unknown = await this.#provider.send("eth_getBlockByNumber", [tag, false]);
    if (raw === null) throw new OrioleError("block_not_found", `the chain has no block ${blockNumber}`, { blockNumber });
    const h = headerSchema.parse(raw);
    return { number: Number(h.number), hash: h.hash.toLowerCase(), parentHash: h.parentHash.toLowerCase(), timestamp: Number(h.timestamp) };
  }

  /** Several headers; the requests leave in one JSON-RPC batch. */
  async headers(blockNumbers: readonly number[]): Promise<BlockHeader[]> {
    return Promise.all(blockNumbers.map((n) => this.header(n)));
  }

  /** eth_getLogs for some addresses and one or several first topics, undecoded. */
  async logs(filter: LogFilter): Promise<RpcLog[]> {
    const result: unknown = await this.#provider.send("eth_getLogs", [
      { fromBlock: toHex(filter.fromBlock), toBlock: toHex(filter.toBlock), address: filter.addresses, topics: [filter.topic0] },
    ]);
    if (!Array.isArray(result)) throw new OrioleError("rpc_invalid_response", "eth_getLogs did not return an array");
    return result as RpcLog[];
  }

  /** The ethers provider, for contract calls and transactions (the relayer). */
  get provider(): JsonRpcProvider {
    return this.#provider;
  }

  destroy(): void {
    this.#provider.destroy();
  }
}

/** Transport attempts per request before the error goes to the caller (whose own loop backs off further). */
const SEND_ATTEMPTS = 3;
const SEND_BACKOFF_MS = 100;
/** After a failover, the primary URL is tried again this long later. */
const PRIMARY_RETRY_MS = 30_000;

/**
 * ethers' JsonRpcProvider (batching, error mapping) with Node's own fetch
 * and decoding (bodyText) as transport. ethers decodes response bodies with a
 * JavaScript UTF-8 decoder: on a 12 MB eth_getLogs answer (20k logs) that
 * alone took ~1.5 s, against ~0.4 s for the whole native round trip.
 *
 * Transport failures (no connection, timeout, HTTP 429/5xx) are retried
 * with backoff, on the fallback URL when there is one; the fallback must
 * serve the same chain id (checked on first use), so two chains never mix.
 * JSON-RPC errors (e.g. "too many results") are answers, not failures: they
 * go back to the caller at once.
 */
class NativeFetchJsonRpcProvider extends JsonRpcProvider {
  readonly #urls: string[];
  readonly #chain: { chainId: number; genesis: string };
  readonly #abort = new AbortController();
  #current = 0;
  #failedOverAt = 0;
  #fallbackChecked = false;

  constructor(url: string, fallbackUrl: string | undefined, chain: { chainId: number; genesis: string }, network: Network, options: ConstructorParameters<typeof JsonRpcProvider>[2]) {
    super(url, network, options);
    this.#urls = fallbackUrl === undefined ? [url] : [url, fallbackUrl];
    this.#chain = chain;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    if (this.#current !== 0 && Date.now() - this.#failedOverAt > PRIMARY_RETRY_MS) this.#current = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < SEND_ATTEMPTS * this.#urls.length; attempt++) {
      if (this.#abort.signal.aborted) break;
      const index = (this.#current + attempt) % this.#urls.length;
      try {
        const result = await this.#sendTo(index, payload);
        if (index !== this.#current) {
          this.#current = index;
          this.#failedOverAt = Date.now();
        }
        return result;
      } catch (e) {
        if (!isTransportError(e)) throw e;
        lastError = e;
        // Back off once every URL has failed in this round.
        if ((attempt + 1) % this.#urls.length === 0) await new Promise((r) => setTimeout(r, SEND_BACKOFF_MS * 2 ** Math.floor(attempt / this.#urls.length)));
      }
    }
    throw lastError;
  }

  async #sendTo(index: number, payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const url = this.#urls[index] ?? "";
    if (index > 0 && !this.#fallbackChecked) {
      const [chainId, genesis] = await Promise.all([fetchChainId(url), genesisHash(url)]);
      if (chainId !== this.#chain.chainId || genesis !== this.#chain.genesis) {
        throw new OrioleError("rpc_fallback_mismatch", `the fallback RPC serves another chain (chain ${chainId.toString()}, genesis ${genesis}) than the first RPC (chain ${this.#chain.chainId.toString()}, genesis ${this.#chain.genesis}): it is not used`, {
          chainId,
          genesis,
          expected: this.#chain,
        });
      }
      this.#fallbackChecked = true;
    }
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), this.#abort.signal]),
    });
    const text = bodyText(Buffer.from(await res.arrayBuffer()));
    if (!res.ok) {
      throw new OrioleError("rpc_http_error", `JSON-RPC HTTP ${res.status}: ${text.slice(0, 200)}`, { status: res.status });
    }
    const body = JSON.parse(text) as JsonRpcResult | JsonRpcResult[];
    return Array.isArray(body) ? body : [body];
  }

  /** Also aborts requests in flight. */
  override destroy(): void {
    this.#abort.abort();
    super.destroy();
  }
}

/**
 * A response body as text. JSON-RPC answers are ASCII in practice, and a
 * backfill reads tens of megabytes of logs: checking for ASCII and copying
 * the bytes as Latin-1 costs a fraction of UTF-8 decoding (and gives V8
 * one-byte strings, which JSON.parse reads faster). Anything else is
 * decoded as UTF-8.
 */
export function bodyText(body: Buffer): string {
  return isAscii(body) ? body.toString("latin1") : body.toString("utf8");
}

async function genesisHash(url: string): Promise<string> {
  const block = headerSchema.parse(await jsonRpcRequest(url, "eth_getBlockByNumber", ["0x0", false], 10_000));
  return block.hash.toLowerCase();
}

/** A failure to get an answer at all (retry elsewhere or later), as opposed to an answer that is an error. */
function isTransportError(e: unknown): boolean {
  if (isOrioleError(e)) {
    if (e.code === "rpc_http_error") {
      const status = e.details.status;
      return typeof status === "number" && (status === 429 || status >= 500);
    }
    return e.code === "rpc_error" || e.code === "rpc_unreachable" || e.code === "timeout";
  }
  // fetch: TypeError("fetch failed") for refused connections; TimeoutError/AbortError; a cut body: SyntaxError.
  return e instanceof TypeError || e instanceof SyntaxError || (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"));
}
