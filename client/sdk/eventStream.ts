/**
 * A minimal Server-Sent Events client over fetch (Node has no EventSource):
 * parses `id:`, `event:`, `data:` and comment lines per the SSE spec. For the
 * node's /v1/accounts/{address}/events and /v1/merchants/me/events streams;
 * resume after a drop by passing the last id as the Last-Event-ID header.
 */
import { OrioleError } from "./errors.ts";

/** One parsed Server-Sent Event. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  /** Messages received so far (comments excluded). */
  messages: SseMessage[];
  /** Comment lines received (heartbeats). */
  comments: string[];
  /** Resolves once `n` messages arrived; rejects after `timeoutMs` or when the stream ends first. */
  waitFor(n: number, timeoutMs?: number): Promise<SseMessage[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Stops reading (the socket fills up) until resume(). */
  pause(): void;
  resume(): void;
  close(): void;
}

/** A minimal EventSource over fetch: parses `id:`, `event:`, `data:` and comments per the SSE spec. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let listeners: (() => void)[] = [];
  let done = false;
  let paused: Promise<void> | undefined;
  let unpause: (() => void) | undefined;
  const fire = (): void => {
    for (const l of listeners) l();
  };
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let cur: { id?: string; event?: string; data: string[] } = { data: [] };
    try {
      for (;;) {
        if (paused) await paused;
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          if (line === "") {
            if (cur.data.length > 0) messages.push({ id: cur.id, event: cur.event ?? "message", data: cur.data.join("\n") });
            cur = { data: [] };
            fire();
          } else if (line.startsWith(":")) {
            comments.push(line.slice(1).trim());
            fire();
          } else {
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const v = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "id") cur.id = v;
            else if (field === "event") cur.event = v;
            else if (field === "data") cur.data.push(v);
          }
        }
      }
    } catch {
      // aborted or reset: the stream is over either way
    } finally {
      done = true;
      fire();
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    messages,
    comments,
    ended,
    waitFor(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (messages.length >= n) {
            resolve(messages.slice(0, n));
            return true;
          }
          if (done) {
            reject(new Error(`stream ended after ${messages.length.toString()} of ${n.toString()} messages`));
            return true;
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => {
          listeners = listeners.filter((l) => l !== listener);
          reject(new Error(`only ${messages.length.toString()} of ${n.toString()} messages after ${timeoutMs.toString()} ms`));
        }, timeoutMs);
        const listener = (): void => {
          if (check()) {
            clearTimeout(timer);
            listeners = listeners.filter((l) => l !== listener);
          }
        };
        listeners.push(listener);
      });
    },
    pause() {
      paused ??= new Promise((r) => (unpause = r));
    },
    resume() {
      unpause?.();
      paused = undefined;
    },
    close() {
      abort.abort();
    },
  };
}

/** A stream followed across drops by {@link followSse}. */
export interface SseFollower {
  /** Stops following: closes the stream and cancels any pending reconnect. */
  stop(): void;
}

export interface FollowOptions {
  headers?: Record<string, string>;
  /** Each message, in order, across reconnects. */
  onMessage(m: SseMessage): void;
  /** After a reconnect: read again what the stream may have missed (a callback that throws is ignored). */
  onReconnect?(): void | Promise<void>;
  /** A reconnect the server refused (e.g. 401: a revoked key); following stops. */
  onRefused?(status: number): void;
  /** Reconnect delays: `minDelayMs` (default 1 s), doubling to `maxDelayMs` (default 30 s); back to the minimum once a stream opens. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /**
   * A stream silent this long (no event, no heartbeat comment) is taken for dead and opened
   * again: a phone that changed networks can leave a socket that never errors. Default 60 s,
   * four of the node's 15 s heartbeats.
   */
  silenceMs?: number;
}

/**
 * Follows an SSE stream until stopped. A stream that ends (server restart, network change,
 * a proxy's idle timeout) is opened again with Last-Event-ID set to the last id received,
 * so the node replays what was missed, then `onReconnect` runs. The first stream is open
 * when the promise resolves (events from then on are not missed); a first answer other
 * than 200 rejects with OrioleError `stream_refused` (details.status).
 */
export async function followSse(url: string, opts: FollowOptions): Promise<SseFollower> {
  const minDelay = opts.minDelayMs ?? 1_000;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const silence = opts.silenceMs ?? 60_000;
  const open = (lastEventId: string | undefined): Promise<SseClient> =>
    openSse(url, lastEventId === undefined ? { ...opts.headers } : { ...opts.headers, "last-event-id": lastEventId });
  let s = await open(undefined);
  if (s.status !== 200) {
    s.close();
    throw new OrioleError("stream_refused", `the event stream answered HTTP ${s.status.toString()}`, { url, status: s.status });
  }
  const state = { stopped: false, wake: (): void => undefined };
  // read through a call: stop() flips it from outside this loop
  const stopped = (): boolean => state.stopped;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      state.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  void (async () => {
    let lastEventId: string | undefined;
    let delay = minDelay;
    while (!stopped()) {
      const read = { over: false };
      void s.ended.then(() => {
        read.over = true;
      });
      let heard = s.comments.length;
      for (let n = s.messages.length + 1; !read.over && !stopped(); ) {
        try {
          await s.waitFor(n, silence);
        } catch {
          // ended (the loop stops), or no event for `silence`: dead unless a heartbeat came
          if (s.comments.length === heard) s.close();
          heard = s.comments.length;
          continue;
        }
        const m = s.messages[n - 1];
        n++;
        if (m === undefined) continue;
        if (m.id !== undefined) lastEventId = m.id;
        if (!stopped()) opts.onMessage(m);
      }
      while (!stopped()) {
        await pause(delay);
        delay = Math.min(delay * 2, maxDelay);
        if (stopped()) return;
        let next: SseClient;
        try {
          next = await open(lastEventId);
        } catch {
          continue; // still unreachable: wait longer
        }
        if (stopped()) {
          next.close();
          return;
        }
        if (next.status !== 200) {
          next.close();
          // an id this node never sent (e.g. its data was reset): follow from now on instead
          if (next.status === 400 && lastEventId !== undefined) {
            lastEventId = undefined;
            continue;
          }
          if (next.status >= 400 && next.status < 500 && next.status !== 429) {
            state.stopped = true;
            opts.onRefused?.(next.status);
            return;
          }
          continue;
        }
        s = next;
        delay = minDelay;
        try {
          await opts.onReconnect?.();
        } catch {
          // the stream is back; a failed re-read shows on the next event
        }
        break;
      }
    }
  })();
  return {
    stop() {
      state.stopped = true;
      s.close();
      state.wake();
    },
  };
}
