import { z } from "zod";
import type { Logger } from "../log.ts";

/**
 * New-head notifications over a WebSocket (`eth_subscribe("newHeads")`), as
 * a hint only: on each one the indexer looks at the chain at once instead
 * of at its next poll. Blocks and logs are still read over HTTP, and polling
 * goes on, so a subscription that is missing, silent, lying or dropped costs
 * latency, never correctness.
 */
export interface HeadSubscriptionOptions {
  /** ws:// or wss:// endpoint. May carry an API key: never log it as is. */
  url: string;
  /** Derived from the HTTP RPC URL (`--rpc-ws auto`): if the first connection fails, the provider has none and polling alone goes on. */
  derived: boolean;
  /** Called for every head the endpoint announces. */
  onHead: () => void;
  log: Logger;
  /** URL as it may be logged. */
  redacted: string;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** A connection that neither opens nor confirms the subscription within this is dropped and retried. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;
const SUBSCRIBE_ID = 1;

const messageSchema = z.object({
  id: z.number().optional(),
  method: z.string().optional(),
  result: z.unknown().optional(),
  error: z.object({ message: z.string() }).loose().optional(),
});

/** `--rpc-ws auto`: the WebSocket URL at the same place as the HTTP one (what hardhat node, anvil and geth serve). */
export function deriveWsUrl(httpUrl: string): string {
  const u = new URL(httpUrl);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

export class HeadSubscription {
  readonly #opts: HeadSubscriptionOptions;
  #ws: WebSocket | undefined;
  #stopped = true;
  #retryMs = RETRY_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #everSubscribed = false;
  #subscribed = false;
  /** The endpoint refused the subscription itself: retrying would not help. */
  #giveUp = false;

  constructor(opts: HeadSubscriptionOptions) {
    this.#opts = opts;
  }

  /** True while the subscription is confirmed and the socket open. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#subscribed = false;
    this.#ws?.close();
    this.#ws = undefined;
  }

  #connect(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#opts.url);
    } catch (e) {
      // A URL WebSocket refuses (the config validated its scheme): nothing to retry.
      this.#opts.log.warn("head subscription disabled: invalid WebSocket URL", { url: this.#opts.redacted, error: e });
      this.#stopped = true;
      return;
    }
    this.#ws = ws;
    const timeout = setTimeout(() => { ws.close(); }, SUBSCRIBE_TIMEOUT_MS);
    ws.onopen = () => {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: SUBSCRIBE_ID, method: "eth_subscribe", params: ["newHeads"] }));
    };
    ws.onmessage = (m: MessageEvent) => {
      if (typeof m.data !== "string") return;
      let parsed: z.infer<typeof messageSchema>;
      try {
        const r = messageSchema.safeParse(JSON.parse(m.data));
        if (!r.success) return;
        parsed = r.data;
      } catch {
        return; // not JSON: not ours to act on
      }
      if (parsed.method === "eth_subscription") {
        this.#opts.onHead();
        return;
      }
      if (parsed.id !== SUBSCRIBE_ID) return;
      clearTimeout(timeout);
      if (parsed.error || typeof parsed.result !== "string") {
        this.#opts.log.warn("the RPC refused eth_subscribe newHeads; following the chain by polling", { url: this.#opts.redacted, error: parsed.error?.message });
        this.#giveUp = true;
        ws.close();
        return;
      }
      this.#subscribed = true;
      this.#retryMs = RETRY_MIN_MS;
      if (!this.#everSubscribed) this.#opts.log.info("following new heads over WebSocket", { url: this.#opts.redacted });
      else this.#opts.log.info("head subscription restored", { url: this.#opts.redacted });
      this.#everSubscribed = true;
    };
    // After a refused handshake Node's WebSocket reports the error and may never fire close: either ends this connection, once.
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timeout);
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      const wasSubscribed = this.#subscribed;
      this.#subscribed = false;
      if (this.#ws === ws) this.#ws = undefined;
      if (this.#stopped) return;
      if (this.#giveUp || (this.#opts.derived && !this.#everSubscribed)) {
        // --rpc-ws auto and the endpoint never served a subscription: it has none.
        if (!this.#giveUp) this.#opts.log.info("no WebSocket head subscription at the RPC; following the chain by polling", { url: this.#opts.redacted });
        this.#stopped = true;
        return;
      }
      if (wasSubscribed) this.#opts.log.warn("head subscription lost; polling until it is back", { url: this.#opts.redacted, retryInMs: this.#retryMs });
      else if (!this.#everSubscribed && this.#retryMs === RETRY_MIN_MS) this.#opts.log.warn("head subscription unavailable; polling until it connects", { url: this.#opts.redacted });
      this.#retryTimer = setTimeout(() => {
        this.#connect();
      }, this.#retryMs);
      this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    };
    ws.onerror = end;
    ws.onclose = end;
  }
}
