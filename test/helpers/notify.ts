import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { Level } from "level";
import { NodeStore, type StoreSublevel } from "../../node/src/store/store.ts";
import { concernsMerchant, type EventSource, type NodeEvent, type NodeEventType } from "../../node/src/notify/events.ts";
import { verifySignature } from "../../node/src/notify/signature.ts";
import type { WebhookConfig } from "../../node/src/notify/webhooks.ts";

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

/**
 * The events a merchant's webhook must have received, read from a stopped
 * node's data dir: the outbox events after the webhook was set that are the
 * merchant's (paid to `payout`, or its invoice and refund events).
 */
export async function expectedWebhookEvents(dataDir: string, merchantId: string, payout: string): Promise<NodeEvent[]> {
  const store = await NodeStore.open(dataDir);
  try {
    const raw = await store.webhookSublevel().get(`cfg!${merchantId}`);
    if (raw === undefined) throw new Error(`merchant ${merchantId} has no webhook`);
    const config = JSON.parse(raw) as WebhookConfig;
    const all = await store.eventsAfter(0, Number.MAX_SAFE_INTEGER);
    return all.filter((e) => e.seq > config.fromSeq && concernsMerchant(e, { id: merchantId, payout }));
  } finally {
    await store.close();
  }
}

/**
 * Exactly-once by id: every request is signed with `secret` and carries its
 * event's id; the ids received are exactly those of `expected` (none lost,
 * none extra); one fact never travels under two ids, one id never with two
 * bodies. Returns how many requests were re-sends (same id, same body).
 */
export function expectWebhooksExactlyOnce(received: readonly ReceivedHook[], expected: readonly NodeEvent[], secret: string): { requests: number; resent: number } {
  const hooks = received.map((h) => ({ id: h.headers["oriole-event-id"], body: h.body, event: JSON.parse(h.body) as NodeEvent, sig: h.headers["oriole-signature"] }));
  for (const h of hooks) {
    expect(typeof h.sig === "string" && verifySignature({ secret, body: h.body, header: h.sig }).ok, "signature").to.equal(true);
    expect(h.event.id).to.equal(h.id);
  }
  expect(new Set(hooks.map((h) => h.event.id))).to.deep.equal(new Set(expected.map((e) => e.id)));
  const idsPerFact = new Map<string, Set<string>>();
  const bodiesPerId = new Map<string, Set<string>>();
  for (const h of hooks) {
    // An invoice or refund event: its record and amount too (a created refund has no transaction yet).
    const record = h.event.invoice ? `${h.event.invoice.id}:${h.event.invoice.amountReceived}` : h.event.refund ? `${h.event.refund.id}:${h.event.refund.paid}` : "";
    const fact = `${h.event.type}:${h.event.txHash}:${h.event.logIndex.toString()}:${record}`;
    idsPerFact.set(fact, (idsPerFact.get(fact) ?? new Set()).add(h.event.id));
    bodiesPerId.set(h.event.id, (bodiesPerId.get(h.event.id) ?? new Set()).add(h.body));
  }
  expect([...idsPerFact.entries()].filter(([, ids]) => ids.size > 1), "facts delivered under two ids").to.deep.equal([]);
  expect([...bodiesPerId.entries()].filter(([, bodies]) => bodies.size > 1), "ids delivered with two bodies").to.deep.equal([]);
  return { requests: hooks.length, resent: hooks.length - bodiesPerId.size };
}
