import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.ts";
import type { EventSource, NodeEvent } from "./events.ts";

export interface SseHubOptions {
  source: EventSource;
  log: Logger;
  /** Comment line sent to every idle stream this often, so proxies and clients see it alive. Default 15 s. */
  heartbeatMs?: number;
  /** Events read from the outbox per page when a stream replays. Default 500. */
  pageSize?: number;
  /** Recent events kept in memory for live streams. Default 2000. */
  cacheSize?: number;
  /** A stream whose socket stays full this long is closed (the client resumes with Last-Event-ID). Default 30 s. */
  stallTimeoutMs?: number;
  /** Reconnect delay suggested to clients (`retry:`). Default 2 s. */
  retryMs?: number;
  /**
   * Adds read-time joins to events as they are read from the outbox, for
   * every stream (RefundService.linkEvents: a refund payment's link). What
   * it adds must not change once an event exists: a replay shows the same.
   */
  decorate?: (events: NodeEvent[]) => Promise<NodeEvent[]>;
}

export interface SubscribeOptions {
  /** Which events this stream gets. */
  filter: (event: NodeEvent) => boolean;
  /** Replay events with seq > after (from Last-Event-ID); default: only new events. */
  after?: number | undefined;
}

interface Subscriber {
  res: ServerResponse;
  filter: (event: NodeEvent) => boolean;
  /** Last outbox seq this stream has gone past (sent or filtered out). */
  seq: number;
  pumping: boolean;
  again: boolean;
  /** Since when the socket refused more data (write() returned false); 0 when writable. */
  blockedSince: number;
  closed: boolean;
}

/**
 * Server-Sent Events over the events outbox. Every stream has its own
 * cursor (an outbox seq) and pulls from it: from the shared in-memory
 * cache of recent events when it can, from the store otherwise (a replay
 * after Last-Event-ID, or a stream that fell behind). So a slow client
 * costs no memory: when its socket is full the stream simply stops pulling
 * until 'drain', and one stuck for stallTimeoutMs is closed.
 */
export class SseHub {
  readonly #source: EventSource;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #pageSize: number;
  readonly #cacheSize: number;
  readonly #stallTimeoutMs: number;
  readonly #retryMs: number;
  readonly #decorate: (events: NodeEvent[]) => Promise<NodeEvent[]>;
  readonly #subs = new Set<Subscriber>();
  /** Recent events, ascending: every event with floor < seq <= head. */
  #cache: NodeEvent[] = [];
  #floor = 0;
  #head = 0;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: SseHubOptions) {
    this.#source = opts.source;
    this.#log = opts.log.child({ component: "sse" });
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.#pageSize = opts.pageSize ?? 500;
    this.#cacheSize = opts.cacheSize ?? 2000;
    this.#stallTimeoutMs = opts.stallTimeoutMs ?? 30_000;
    this.#retryMs = opts.retryMs ?? 2000;
    this.#decorate = opts.decorate ?? ((events) => Promise.resolve(events));
  }

  async start(): Promise<void> {
    this.#head = await this.#source.lastEventSeq();
    this.#floor = this.#head;
    this.#timer = setInterval(() => {
      this.#heartbeat();
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Highest outbox seq the hub has seen. */
  get head(): number {
    return this.#head;
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  /** New events were committed (the indexer's onCommit): read them once and wake every stream. */
  notify(): void {
    if (this.#closed) return;
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = this.#refresh()
      .catch((e: unknown) => {
        this.#log.error("reading the events outbox failed", { error: e });
      })
      .finally(() => {
        this.#refreshing = undefined;
        if (this.#refreshAgain) {
          this.#refreshAgain = false;
          this.notify();
        }
      });
  }

  /** Resolves once the hub has read everything committed before this call (tests, orderly shutdown). */
  async settled(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const last = await this.#source.lastEventSeq();
    // With no stream open, or more new events than the cache holds, only the
    // newest ones are worth reading: streams behind the floor page from the
    // store (a backfill commits thousands of events per range).
    const from = this.#subs.size === 0 ? last : last - this.#cacheSize;
    if (from > this.#head) {
      this.#cache = [];
      this.#floor = from;
      this.#head = from;
      for (const sub of this.#subs) this.#kick(sub);
    }
    for (;;) {
      const events = await this.#decorate(await this.#source.eventsAfter(this.#head, this.#pageSize));
      if (events.length === 0) break;
      this.#cache.push(...events);
      this.#head = events[events.length - 1]?.seq ?? this.#head;
      if (this.#cache.length > this.#cacheSize) {
        const dropped = this.#cache.splice(0, this.#cache.length - this.#cacheSize);
        this.#floor = dropped[dropped.length - 1]?.seq ?? this.#floor;
      }
      for (const sub of this.#subs) this.#kick(sub);
      if (events.length < this.#pageSize) break;
    }
  }

  /**
   * Turns `res` into an event stream: headers now, then the replay (if
   * `after` is given), then live events, until the client goes away or
   * the hub closes.
   */
  async subscribe(req: IncomingMessage, res: ServerResponse, opts: SubscribeOptions): Promise<void> {
    if (this.#closed) {
      res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "shutting_down", message: "the node is stopping" } }));
      return;
    }
    // Why: a HEAD answer has no body, so a stream would never send its headers and would
    // hold the socket and a subscriber forever. Answer the stream's headers and end.
    if (req.method === "HEAD") {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" }).end();
      return;
    }
    // The store's head, not the hub's (which may lag a commit by a moment): a
    // Last-Event-ID just issued is never replayed, and one past the head
    // (another node, a wiped store) resumes from the head.
    const head = await this.#source.lastEventSeq();
    const after = opts.after === undefined ? head : Math.min(opts.after, head);
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Reverse proxies (nginx) would otherwise buffer the stream.
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${this.#retryMs}\n: connected\n\n`);
    const sub: Subscriber = { res, filter: opts.filter, seq: after, pumping: false, again: false, blockedSince: 0, closed: false };
    this.#subs.add(sub);
    res.on("close", () => {
      sub.closed = true;
      this.#subs.delete(sub);
    });
    res.on("drain", () => {
      sub.blockedSince = 0;
      this.#kick(sub);
    });
    this.#kick(sub);
  }

  #kick(sub: Subscriber): void {
    if (sub.closed) return;
    if (sub.pumping) {
      sub.again = true;
      return;
    }
    sub.pumping = true;
    this.#pump(sub)
      .catch((e: unknown) => {
        this.#log.warn("event stream failed; closing it", { error: e });
        sub.res.destroy();
      })
      .finally(() => {
        sub.pumping = false;
        if (sub.again) {
          sub.again = false;
          this.#kick(sub);
        }
      });
  }

  async #pump(sub: Subscriber): Promise<void> {
    while (!sub.closed && sub.blockedSince === 0 && sub.seq < this.#head) {
      const events = sub.seq >= this.#floor ? this.#cachedAfter(sub.seq) : await this.#decorate(await this.#source.eventsAfter(sub.seq, this.#pageSize));
      if (events.length === 0) return;
      for (const event of events) {
        // The client may have gone while the page was read.
        if (sub.res.destroyed) return;
        if (event.seq <= sub.seq) continue;
        sub.seq = event.seq;
        if (!sub.filter(event)) continue;
        const ok = sub.res.write(`id: ${event.seq.toString()}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (!ok) {
          sub.blockedSince = Date.now();
          return;
        }
      }
    }
  }

  /** Cached events with seq > `seq` (the cache covers it: seq >= floor). */
  #cachedAfter(seq: number): NodeEvent[] {
    let lo = 0;
    let hi = this.#cache.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#cache[mid]?.seq ?? Infinity) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return this.#cache.slice(lo, lo + this.#pageSize);
  }

  #heartbeat(): void {
    const now = Date.now();
    for (const sub of this.#subs) {
      if (sub.blockedSince !== 0) {
        if (now - sub.blockedSince > this.#stallTimeoutMs) {
          this.#log.info("closing a stalled event stream", { seq: sub.seq });
          sub.res.destroy();
        }
        continue;
      }
      sub.res.write(": heartbeat\n\n");
    }
  }

  /** Ends every stream (clients may reconnect elsewhere with Last-Event-ID) and stops the heartbeat. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.settled();
    for (const sub of this.#subs) {
      sub.closed = true;
      sub.res.end();
    }
    this.#subs.clear();
  }
}

/**
 * The seq to resume after, from a Last-Event-ID header: undefined when
 * absent or empty, null when it is not a seq this node issues.
 */
export function parseLastEventId(value: string | string[] | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === "") return undefined;
  if (!/^\d{1,16}$/.test(v.trim())) return null;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : null;
}
