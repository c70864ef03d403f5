import { JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { z } from "zod";
import { OrioleError } from "../../../client/sdk/errors.ts";
import { fetchChainId } from "../../../client/sdk/jsonRpc.ts";

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
  static async connect(url: string, opts: { pollingIntervalMs?: number } = {}): Promise<ChainClient> {
    const chainId = await fetchChainId(url);
    const network = Network.from(chainId);
    const provider = new NativeFetchJsonRpcProvider(url, network, {
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

/**
 * ethers' JsonRpcProvider (batching, error mapping) with Node's own fetch
 * and TextDecoder as transport. ethers decodes response bodies with a
 * JavaScript UTF-8 decoder: on a 12 MB eth_getLogs answer (20k logs) that
 * alone took ~1.5 s, against ~0.4 s for the whole native round trip.
 */
class NativeFetchJsonRpcProvider extends JsonRpcProvider {
  readonly #url: string;
  readonly #abort = new AbortController();

  constructor(url: string, network: Network, options: ConstructorParameters<typeof JsonRpcProvider>[2]) {
    super(url, network, options);
    this.#url = url;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const res = await fetch(this.#url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), this.#abort.signal]),
    });
    const text = await res.text();
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

