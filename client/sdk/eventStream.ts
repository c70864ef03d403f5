/**
 * A Server-Sent Events client over fetch (Node has no EventSource): parses `id:`,
 * `event:`, `data:` and comment lines per the SSE spec. For the node's
 * /v1/accounts/{address}/events and /v1/merchants/me/events streams.
 * - {@link streamSse}: hands each event to a callback and keeps nothing (long-lived readers);
 * - {@link openSse}: also keeps every event, for tests and benchmarks that inspect them;
 * - {@link followSse}: follows a stream across drops, resuming with Last-Event-ID.
 */
import { OrioleError } from "./errors.ts";

/** One parsed Server-Sent Event. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** An open stream read by {@link streamSse}. */
export interface SseStream {
  status: number;
  headers: Headers;
  /** Resolves when the stream is over (the server ended it, it was reset, or close() was called). */
  ended: Promise<void>;
  /** Stops reading (the socket fills up) until resume(). */
  pause(): void;
  resume(): void;
  close(): void;
}

export interface SseHandlers {
  /** Each event, in order (comments excluded). */
  onMessage?(m: SseMessage): void;
  /** Each comment line (the node's heartbeats), without the colon. */
  onComment?(text: string): void;
}

/**
 * Opens `url` as an event stream and hands each event and comment to `handlers` as it is
 * parsed; nothing is kept, so a reader can stay connected for weeks. Resolves once the
 * response headers arrived (check `status`: only a 200 carries events).
 */
export async function streamSse(url: string, headers: Record<string, string>, handlers: SseHandlers): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  let paused: Promise<void> | undefined;
  let unpause: (() => void) | undefined;
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let cur: { id?: string; event?: string; data: string[] } = { data: [] };
    try {
      for (;;) {
        if (paused) await paused;
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          if (line === "") {
            const m = cur;
            cur = { data: [] };
            if (m.data.length > 0) handlers.onMessage?.({ id: m.id, event: m.event ?? "message", data: m.data.join("\n") });
          } else if (line.startsWith(":")) {
            handlers.onComment?.(line.slice(1).trim());
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
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    ended,
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

/** A stream whose events are kept ({@link openSse}). */
export interface SseClient extends SseStream {
  /** Messages received so far (comments excluded). */
  messages: SseMessage[];
  /** Comment lines received (heartbeats). */
  comments: string[];
  /** Resolves once `n` messages arrived; rejects after `timeoutMs` or when the stream ends first. */
  waitFor(n: number, timeoutMs?: number): Promise<SseMessage[]>;
}

/** {@link streamSse} that keeps every event and comment: for tests and benchmarks, not long-lived readers. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let listeners: (() => void)[] = [];
  let done = false;
  const fire = (): void => {
    for (const l of listeners) l();
  };
  const stream = await streamSse(url, headers, {
    onMessage(m) {
      messages.push(m);
      fire();
    },
    onComment(text) {
      comments.push(text);
      fire();
    },
  });
  const ended = stream.ended.then(() => {
    done = true;
    fire();
  });
  return {
    ...stream,
    ended,
    messages,
    comments,
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
  };
}

/** A stream followed across drops by {@link followSse}. */
export interface SseFollower {
  /** Stops following: closes the stream and cancels any pending reconnect. */
  stop(): void;
}

export interface FollowOptions {
  headers?: Record<string, string>;
  /** Each message, in order, across reconnects (a callback that throws is ignored: following goes on). */
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
 * than 200 rejects with OrioleError `stream_refused` (details.status). Events are handed
 * on as they arrive and never kept: a point of sale can stay connected for weeks.
 */
export async function followSse(url: string, opts: FollowOptions): Promise<SseFollower> {
  const minDelay = opts.minDelayMs ?? 1_000;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const silence = opts.silenceMs ?? 60_000;
  const state = { stopped: false, wake: (): void => undefined };
  // read through a call: stop() flips it from outside the loop below
  const stopped = (): boolean => state.stopped;
  let lastEventId: string | undefined;
  // the stream being read; set once the first one opened, before anything can read it
  let s!: SseStream;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  // every event or heartbeat proves the stream alive for another `silence`
  const alive = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      s.close();
    }, silence);
  };
  const open = (): Promise<SseStream> =>
    streamSse(url, lastEventId === undefined ? { ...opts.headers } : { ...opts.headers, "last-event-id": lastEventId }, {
      onMessage(m) {
        alive();
        if (m.id !== undefined) lastEventId = m.id;
        if (stopped()) return;
        try {
          opts.onMessage(m);
        } catch {
          // the caller's bug must not end the stream nor skip the events after it
        }
      },
      onComment: alive,
    });
  s = await open();
  if (s.status !== 200) {
    s.close();
    throw new OrioleError("stream_refused", `the event stream answered HTTP ${s.status.toString()}`, { url, status: s.status });
  }
  alive();
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      state.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  void (async () => {
    let delay = minDelay;
    while (!stopped()) {
      await s.ended;
      clearTimeout(watchdog);
      while (!stopped()) {
        await pause(delay);
        delay = Math.min(delay * 2, maxDelay);
        if (stopped()) return;
        let next: SseStream;
        try {
          next = await open();
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
        alive();
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
      clearTimeout(watchdog);
      s.close();
      state.wake();
    },
  };
}
