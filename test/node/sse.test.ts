import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { silentLogger } from "../../node/src/log.ts";
import { concernsAccount, type NodeEvent } from "../../node/src/notify/events.ts";
import { parseLastEventId, SseHub, type SseHubOptions } from "../../node/src/notify/sse.ts";
import { openSse, TestOutbox, type SseClient } from "../helpers/notify.ts";

const ALICE = "0x00000000000000000000000000000000000a11ce";
const BOB = "0x0000000000000000000000000000000000000b0b";
const CAROL = "0x00000000000000000000000000000000000ca201";

/** The SSE hub on a real HTTP server over a real LevelDB outbox. */
describe("notify: SSE hub (real HTTP, real LevelDB outbox)", function () {
  let dir: string;
  let outbox: TestOutbox;
  let hub: SseHub;
  let server: http.Server;
  let base: string;
  const clients: SseClient[] = [];

  async function setup(opts: Partial<SseHubOptions> = {}): Promise<void> {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-sse-"));
    outbox = await TestOutbox.open(dir);
    hub = new SseHub({ source: outbox, log: silentLogger, ...opts });
    await hub.start();
    outbox.onAppend = () => {
      hub.notify();
    };
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const account = url.pathname.slice(1);
      const after = parseLastEventId(req.headers["last-event-id"]);
      if (after === null) {
        res.writeHead(400).end();
        return;
      }
      void hub.subscribe(req, res, { filter: (e) => concernsAccount(e, account), after });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port.toString()}`;
  }

  const open = async (account: string, headers: Record<string, string> = {}): Promise<SseClient> => {
    const c = await openSse(`${base}/${account}`, headers);
    clients.push(c);
    return c;
  };

  afterEach(async function () {
    for (const c of clients.splice(0)) c.close();
    await hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  const parse = (data: string): NodeEvent => JSON.parse(data) as NodeEvent;

  it("streams each subscriber only its events, with id = seq, event = type, data = the NodeEvent", async function () {
    await setup();
    await outbox.append([{ from: ALICE, to: BOB }]); // before anyone listens: not sent without Last-Event-ID
    const alice = await open(ALICE);
    const carol = await open(CAROL);
    expect(alice.status).to.equal(200);
    expect(alice.headers.get("content-type")).to.match(/^text\/event-stream/);
    const sent = await outbox.append([
      { from: ALICE, to: BOB, amount: "1" },
      { from: BOB, to: CAROL, amount: "2" },
      { from: CAROL, to: ALICE, amount: "3", type: "payment.confirmed" },
    ]);
    const got = await alice.waitFor(2);
    expect(got.map((m) => m.id)).to.deep.equal([String(sent[0]?.seq), String(sent[2]?.seq)]);
    expect(got.map((m) => m.event)).to.deep.equal(["payment.pending", "payment.confirmed"]);
    expect(parse(got[1]?.data ?? "")).to.deep.equal(sent[2]);
    const gotCarol = await carol.waitFor(2);
    expect(gotCarol.map((m) => parse(m.data).payment?.amount)).to.deep.equal(["2", "3"]);
    await new Promise((r) => setTimeout(r, 50));
    expect(alice.messages).to.have.length(2);
  });

  it("resumes after Last-Event-ID with exactly the missed events, from the store beyond the cache, then live", async function () {
    await setup({ cacheSize: 10, pageSize: 7 });
    const first = await open(ALICE);
    await outbox.append([{ from: ALICE, to: BOB }, { from: BOB, to: CAROL }]);
    const [m1] = await first.waitFor(1);
    first.close();
    // 60 events while away (30 concern Alice): more than the cache and several pages.
    const missed = await outbox.append(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? { from: BOB, to: ALICE, amount: String(i) } : { from: BOB, to: CAROL })));
    await hub.settled();
    const again = await open(ALICE, { "last-event-id": m1?.id ?? "" });
    const replay = await again.waitFor(30);
    expect(replay.map((m) => Number(m.id))).to.deep.equal(missed.filter((e) => e.accounts.includes(ALICE)).map((e) => e.seq));
    const live = await outbox.append([{ from: ALICE, to: CAROL }]);
    const all = await again.waitFor(31);
    expect(Number(all[30]?.id)).to.equal(live[0]?.seq);
    await new Promise((r) => setTimeout(r, 50));
    expect(again.messages).to.have.length(31);
  });

  it("resumes from the head when Last-Event-ID is beyond it, and rejects a malformed one", async function () {
    await setup();
    await outbox.append([{ from: ALICE, to: BOB }]);
    const c = await open(ALICE, { "last-event-id": "999999" });
    const later = await outbox.append([{ from: ALICE, to: BOB }]);
    const [m] = await c.waitFor(1);
    expect(Number(m?.id)).to.equal(later[0]?.seq);
    for (const bad of ["-1", "abc", "1e3", "12345678901234567"]) expect(parseLastEventId(bad), bad).to.equal(null);
    expect(parseLastEventId(undefined)).to.equal(undefined);
    expect(parseLastEventId("")).to.equal(undefined);
    expect(parseLastEventId("42")).to.equal(42);
  });

  it("sends heartbeat comments on idle streams", async function () {
    await setup({ heartbeatMs: 30 });
    const c = await open(ALICE);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.comments.filter((x) => x === "heartbeat").length).to.be.at.least(3);
    expect(c.messages).to.have.length(0);
  });

  it("a client that stops reading does not buffer in the node: its stream is closed after the stall timeout, and it resumes without loss", async function () {
    this.timeout(60_000);
    await setup({ heartbeatMs: 50, stallTimeoutMs: 300, cacheSize: 100 });
    const slow = await open(ALICE);
    const fast = await open(ALICE);
    slow.pause();
    const N = 20_000; // ~15 MB of events: far more than socket buffers hold
    const events: NodeEvent[] = [];
    for (let i = 0; i < N; i += 2000) events.push(...(await outbox.append(Array.from({ length: 2000 }, () => ({ from: BOB, to: ALICE })))));
    await fast.waitFor(N, 30_000);
    const rssBefore = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 800));
    // The hub stopped writing to the slow stream (it pulls, it does not queue) and then dropped it.
    expect(hub.subscribers).to.equal(1);
    expect(process.memoryUsage().rss - rssBefore).to.be.lessThan(50 * 1024 * 1024);
    slow.resume();
    await slow.ended;
    const got = slow.messages.length;
    expect(got).to.be.greaterThan(0).and.lessThan(N);
    const lastId = slow.messages[got - 1]?.id ?? "";
    const resumed = await open(ALICE, { "last-event-id": lastId });
    await resumed.waitFor(N - got, 30_000);
    const ids = [...slow.messages, ...resumed.messages].map((m) => Number(m.id));
    expect(ids).to.deep.equal(events.map((e) => e.seq));
  });

  it("close() ends every stream cleanly and refuses new ones", async function () {
    await setup();
    const c = await open(ALICE);
    await hub.close();
    await c.ended;
    const res = await fetch(`${base}/${ALICE}`);
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal("shutting_down");
  });
});
