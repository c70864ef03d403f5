/**
 * A minimal Server-Sent Events client over fetch (Node has no EventSource):
 * parses `id:`, `event:`, `data:` and comment lines per the SSE spec. For the
 * node's /v1/accounts/{address}/events and /v1/merchants/me/events streams;
 * resume after a drop by passing the last id as the Last-Event-ID header.
 */
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
