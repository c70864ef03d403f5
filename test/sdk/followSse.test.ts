import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { followSse, type SseFollower, type SseMessage } from "../../client/sdk/eventStream.ts";
import { isOrioleError } from "../../client/sdk/errors.ts";

/** What the scripted server saw of one request. */
interface Seen {
  lastEventId: string | undefined;
  authorization: string | undefined;
}

/**
 * followSse against a real HTTP server whose answers each test scripts: a
 * stream that the server ends, one it refuses, one that is slow to come back.
 * The node's own streams and Last-Event-ID replay are tested in test/node.
 */
describe("sdk/eventStream: followSse (resume after a drop)", function () {
  this.timeout(20_000);
  let server: http.Server;
  let url: string;
  const seen: Seen[] = [];
  /** The answer to request number i (0-based); the default sends nothing and keeps the stream open. */
  let script: (i: number, res: http.ServerResponse, seen: Seen) => void;
  const open = new Set<http.ServerResponse>();
  const followers: SseFollower[] = [];

  const event = (res: http.ServerResponse, id: number, data: string): void => {
    res.write(`id: ${id.toString()}\nevent: payment.confirmed\ndata: ${data}\n\n`);
  };
  const stream = (res: http.ServerResponse): void => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
  };
  const waitUntil = async (what: string, ok: () => boolean, ms = 5_000): Promise<void> => {
    const until = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const follow = async (opts: Partial<Parameters<typeof followSse>[1]> & { messages?: SseMessage[] } = {}): Promise<SseFollower> => {
    const messages = opts.messages ?? [];
    const f = await followSse(`${url}/events`, { minDelayMs: 20, maxDelayMs: 80, onMessage: (m) => messages.push(m), ...opts });
    followers.push(f);
    return f;
  };

  before(async function () {
    server = http.createServer((req, res) => {
      const s: Seen = { lastEventId: req.headers["last-event-id"] as string | undefined, authorization: req.headers.authorization };
      seen.push(s);
      open.add(res);
      res.on("close", () => open.delete(res));
      script(seen.length - 1, res, s);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port.toString()}`;
  });

  beforeEach(function () {
    seen.length = 0;
    script = (_i, res) => {
      stream(res);
    };
  });

  afterEach(function () {
    for (const f of followers.splice(0)) f.stop();
    for (const res of open) res.destroy();
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("delivers every message in order across a drop, resuming with the last id and calling onReconnect", async function () {
    script = (i, res) => {
      stream(res);
      if (i === 0) {
        event(res, 1, "a");
        event(res, 2, "b");
        res.end(); // the server goes away after two events
      } else {
        event(res, 3, "c");
      }
    };
    const messages: SseMessage[] = [];
    let reconnects = 0;
    await follow({ messages, headers: { authorization: "Bearer k" }, onReconnect: () => {
        reconnects++;
      },
    });
    await waitUntil("three messages", () => messages.length === 3);
    expect(messages.map((m) => [m.id, m.data])).to.deep.equal([
      ["1", "a"],
      ["2", "b"],
      ["3", "c"],
    ]);
    expect(seen.map((s) => s.lastEventId)).to.deep.equal([undefined, "2"]);
    expect(seen.every((s) => s.authorization === "Bearer k"), "the headers go with every reconnect").to.equal(true);
    expect(reconnects).to.equal(1);
  });

  it("a callback that throws neither ends the stream nor loses the events after it", async function () {
    script = (_i, res) => {
      stream(res);
      event(res, 1, "a");
      event(res, 2, "bad");
      event(res, 3, "c");
    };
    const messages: SseMessage[] = [];
    await follow({
      onMessage: (m) => {
        messages.push(m);
        if (m.data === "bad") throw new Error("the caller's bug");
      },
    });
    await waitUntil("three messages", () => messages.length === 3);
    expect(messages.map((m) => m.data)).to.deep.equal(["a", "bad", "c"]);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.length, "the stream stayed open").to.equal(1);
  });

  it("keeps trying while the server is unreachable or busy (5xx, 429), then resumes", async function () {
    script = (i, res) => {
      if (i === 0) {
        stream(res);
        event(res, 7, "x");
        res.end();
      } else if (i === 1) {
        res.writeHead(503).end();
      } else if (i === 2) {
        res.writeHead(429).end();
      } else if (i === 3) {
        res.socket?.destroy(); // a reset: fetch rejects
      } else {
        stream(res);
        event(res, 8, "y");
      }
    };
    const messages: SseMessage[] = [];
    await follow({ messages });
    await waitUntil("the message after the outage", () => messages.length === 2);
    expect(messages.map((m) => m.data)).to.deep.equal(["x", "y"]);
    expect(seen.length).to.equal(5);
    expect(seen.slice(1).map((s) => s.lastEventId)).to.deep.equal(["7", "7", "7", "7"]);
  });

  it("a stream silent past silenceMs (no event, no heartbeat: a dead socket) is opened again; heartbeats keep it", async function () {
    script = (i, res) => {
      stream(res);
      if (i === 0) event(res, 5, "before"); // then nothing at all, the socket left open
      if (i === 1) {
        const beat = setInterval(() => res.write(": heartbeat\n\n"), 50);
        res.on("close", () => {
          clearInterval(beat);
        });
      }
    };
    const messages: SseMessage[] = [];
    await follow({ messages, silenceMs: 300 });
    await waitUntil("the reconnect after the silence", () => seen.length === 2, 3_000);
    expect(seen[1]?.lastEventId).to.equal("5");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(seen.length, "a stream with heartbeats stays open").to.equal(2);
  });

  it("a 400 to its Last-Event-ID (a node whose data was reset) follows from now on without it", async function () {
    script = (i, res, s) => {
      if (i === 0) {
        stream(res);
        event(res, 40, "old");
        res.end();
      } else if (s.lastEventId !== undefined) {
        res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"code":"invalid_last_event_id","message":"no"}}');
      } else {
        stream(res);
        event(res, 1, "new");
      }
    };
    const messages: SseMessage[] = [];
    await follow({ messages });
    await waitUntil("the message after the reset", () => messages.length === 2);
    expect(seen.map((s) => s.lastEventId)).to.deep.equal([undefined, "40", undefined]);
  });

  it("a reconnect refused with 401 stops following and says so once", async function () {
    script = (i, res) => {
      if (i === 0) {
        stream(res);
        res.end();
      } else {
        res.writeHead(401).end();
      }
    };
    const refusals: number[] = [];
    await follow({ onRefused: (status) => refusals.push(status) });
    await waitUntil("the refusal", () => refusals.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(refusals).to.deep.equal([401]);
    expect(seen.length, "no retry after a refusal").to.equal(2);
  });

  it("a first answer other than 200 rejects with stream_refused and its status", async function () {
    script = (_i, res) => res.writeHead(401).end();
    const err = await followSse(`${url}/events`, { onMessage: () => undefined }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOrioleError(err) ? [err.code, err.details.status] : err).to.deep.equal(["stream_refused", 401]);
    expect(seen.length).to.equal(1);
  });

  it("stop() closes the stream and cancels a pending reconnect", async function () {
    script = (i, res) => {
      stream(res);
      if (i === 0) res.end();
    };
    const f = await followSse(`${url}/events`, { minDelayMs: 200, maxDelayMs: 200, onMessage: () => undefined });
    await waitUntil("the first request", () => seen.length === 1);
    await new Promise((r) => setTimeout(r, 50)); // the stream ended; a reconnect is pending
    f.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(seen.length, "no reconnect after stop()").to.equal(1);

    script = (_i, res) => {
      stream(res);
    };
    const g = await followSse(`${url}/events`, { onMessage: () => undefined });
    await waitUntil("the open stream", () => open.size === 1);
    g.stop();
    await waitUntil("the stream closed by stop()", () => open.size === 0);
  });
});
