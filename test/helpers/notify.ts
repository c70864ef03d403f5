import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Level } from "level";
import type { StoreSublevel } from "../../node/src/store/store.ts";
import type { EventSource, NodeEvent, NodeEventType } from "../../node/src/notify/events.ts";

export { openSse, type SseClient, type SseMessage } from "../../client/sdk/eventStream.ts";

/**
 * A real LevelDB outbox laid out as the spec's `evt` sublevel (16-digit seq
 * keys, NodeEvent JSON values), for notification tests that run without an
 * indexer. `onAppend` plays the indexer's onCommit.
 */
export class TestOutbox implements EventSource {
  readonly db: Level;
  readonly #evt: StoreSublevel;
  #seq = 0;
  onAppend: (() => void) | undefined;

  private constructor(db: Level) {
    this.db = db;
    this.#evt = db.sublevel("evt", { keyEncoding: "utf8", valueEncoding: "utf8" });
  }

  static async open(dir: string): Promise<TestOutbox> {
    const db = new Level(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.open();
    const box = new TestOutbox(db);
    box.#seq = await box.lastEventSeq();
    return box;
  }

  async append(specs: { type?: NodeEventType; from: string; to: string; amount?: string }[]): Promise<NodeEvent[]> {
    const events = specs.map((s) => {
      const seq = ++this.#seq;
      const type = s.type ?? "payment.pending";
      const blockHash = `0x${seq.toString(16).padStart(64, "0")}`;
      const txHash = `0x${(seq + 1_000_000).toString(16).padStart(64, "0")}`;
      const from = s.from.toLowerCase();
      const to = s.to.toLowerCase();
      const event: NodeEvent = {
        seq,
        id: `0x${createHash("sha256").update(`${type}:31337:${blockHash}:${txHash}:0`).digest("hex")}`,
        type,
        chainId: 31337,
        blockNumber: seq,
        blockHash,
        txHash,
        logIndex: 0,
        accounts: [from, to],
        payment: {
          txHash,
          logIndex: 0,
          blockNumber: seq,
          timestamp: 1_700_000_000 + seq,
          from,
          to,
          currency: "USD",
          amount: s.amount ?? "100",
          reference: null,
          fee: "0",
          kind: "payment",
          status: "pending",
        },
      };
      return event;
    });
    await this.#evt.batch(events.map((e) => ({ type: "put" as const, key: String(e.seq).padStart(16, "0"), value: JSON.stringify(e) })));
    this.onAppend?.();
    return events;
  }

  async eventsAfter(seq: number, limit: number): Promise<NodeEvent[]> {
    const entries = await this.#evt.iterator({ gt: String(seq).padStart(16, "0"), limit }).all();
    return entries.map(([, v]) => JSON.parse(v) as NodeEvent);
  }

  async lastEventSeq(): Promise<number> {
    const [last] = await this.#evt.keys({ reverse: true, limit: 1 }).all();
    return last === undefined ? 0 : Number(last);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP webhook receiver; `respond` picks each answer's status (default 200). */
export async function startReceiver(respond: (hook: ReceivedHook, n: number) => number | Promise<number> = () => 200): Promise<{
  url: string;
  received: ReceivedHook[];
  close(): Promise<void>;
}> {
  const received: ReceivedHook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const hook = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(hook);
      void Promise.resolve(respond(hook, received.length)).then((status) => {
        res.writeHead(status).end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port.toString()}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
