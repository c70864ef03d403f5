import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { openSse, startReceiver, type SseClient } from "../helpers/notify.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { verifySignature } from "../../node/src/notify/signature.ts";
import type { DeliveryView } from "../../node/src/notify/webhooks.ts";
import { ACCOUNTS, getJson } from "./fixtures.ts";
import { createMerchant } from "../helpers/merchants.ts";

const ADMIN = "test-admin-token-0123456789";
const PAYOUT = ACCOUNTS[2];
const OTHER_PAYOUT = ACCOUNTS[3];

interface ErrorBody {
  error: { code: string; message: string };
}

/** SSE and webhooks on an in-process node following a real hardhat node. */
describe("node: live notifications (in-process node, hardhat node)", function () {
  this.timeout(120_000);
  let devnet: Devnet;
  let node: RunningNode;
  let apiKey: string;
  let otherKey: string;
  const clients: SseClient[] = [];
  let pay: (to: string, amount: bigint) => Promise<string>;

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    const usd = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await devnet.connection.ethers.getSigner(ACCOUNTS[0]));
    pay = async (to, amount) => {
      const tx = await usd.transfer(to, amount);
      await tx.wait();
      return tx.hash;
    };
    node = await startDevnetNode(devnet, { adminToken: ADMIN, allowPrivateWebhooks: true }, { webhooks: { retry: { baseMs: 30, maxMs: 200 } } });
    const create = async (name: string, payout: string): Promise<string> => (await createMerchant(node.url, ADMIN, name, payout)).apiKey;
    // Caught up first: the streams below start at the head, after the devnet's mints.
    await node.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber());
    await new Promise((r) => setTimeout(r, 100));
    apiKey = await create("Shop", PAYOUT);
    otherKey = await create("Other", OTHER_PAYOUT);
  });

  after(async function () {
    for (const c of clients) c.close();
    await node.stop();
    await devnet.stop();
  });

  const open = async (p: string, headers: Record<string, string> = {}): Promise<SseClient> => {
    const c = await openSse(`${node.url}${p}`, headers);
    clients.push(c);
    return c;
  };
  const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const data = (c: SseClient): NodeEvent[] => c.messages.map((m) => JSON.parse(m.data) as NodeEvent);

  it("a payment shows up on the payer's, the payee's and the merchant's streams, and on no other", async function () {
    const payer = await open(`/v1/accounts/${ACCOUNTS[0]}/events`);
    const payee = await open(`/v1/accounts/${PAYOUT.toLowerCase()}/events`);
    const merchant = await open("/v1/merchants/me/events", auth(apiKey));
    const other = await open("/v1/merchants/me/events", auth(otherKey));
    expect([payer.status, payee.status, merchant.status, other.status]).to.deep.equal([200, 200, 200, 200]);
    const txHash = await pay(PAYOUT, 1234n);
    for (const c of [payer, payee, merchant]) await c.waitFor(1);
    const [e] = data(merchant);
    expect(e?.type).to.equal("payment.confirmed");
    expect(e?.txHash).to.equal(txHash);
    expect(e?.payment?.amount).to.equal("1234");
    expect(e?.payment?.to.toLowerCase()).to.equal(PAYOUT.toLowerCase());
    expect(merchant.messages[0]?.id).to.equal(String(e?.seq));
    expect(data(payer)).to.deep.equal(data(merchant));
    expect(data(payee)).to.deep.equal(data(merchant));
    const stored = await node.store.eventsAfter((e?.seq ?? 1) - 1, 1);
    expect(stored).to.deep.equal([e]);
    await new Promise((r) => setTimeout(r, 100));
    expect(other.messages).to.have.length(0);
  });

  it("a merchant stream resumed with Last-Event-ID replays exactly the events it missed", async function () {
    const first = await open("/v1/merchants/me/events", auth(apiKey));
    await pay(PAYOUT, 1n);
    const [m1] = await first.waitFor(1);
    first.close();
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) {
      missed.push(await pay(PAYOUT, 10n + BigInt(i)));
      await pay(OTHER_PAYOUT, 5n); // not this merchant's
    }
    const resumed = await open("/v1/merchants/me/events", { ...auth(apiKey), "last-event-id": m1?.id ?? "" });
    await resumed.waitFor(3);
    const live = await pay(PAYOUT, 99n);
    await resumed.waitFor(4);
    expect(data(resumed).map((e) => e.txHash)).to.deep.equal([...missed, live]);
    expect(data(resumed).map((e) => e.payment?.amount)).to.deep.equal(["10", "11", "12", "99"]);
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.messages).to.have.length(4);
  });

  it("webhooks are signed and verified by a real receiver; a receiver failing N times gets retries with the same event id", async function () {
    const FAILS = 3;
    const receiver = await startReceiver((_h, n) => (n <= FAILS ? 503 : 200));
    try {
      const put = await getJson(`${node.url}/v1/merchants/me/webhook`, { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: JSON.stringify({ url: receiver.url }) });
      expect(put.status, JSON.stringify(put.body)).to.equal(200);
      const { url, secret } = put.body as { url: string; secret: string };
      expect(url).to.equal(receiver.url);
      const got = await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(apiKey) });
      expect(got.body).to.have.keys(["url", "updatedAt"]);
      const stream = await open("/v1/merchants/me/events", auth(apiKey));
      const txHash = await pay(PAYOUT, 777n);
      const [msg] = await stream.waitFor(1);
      const event = JSON.parse(msg?.data ?? "") as NodeEvent;
      const deadline = Date.now() + 20_000;
      let deliveries: DeliveryView[] = [];
      while (Date.now() < deadline) {
        deliveries = ((await getJson(`${node.url}/v1/merchants/me/webhook/deliveries`, { headers: auth(apiKey) })).body as { items: DeliveryView[] }).items;
        if (deliveries[0]?.status === "delivered") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(receiver.received).to.have.length(FAILS + 1);
      for (const h of receiver.received) {
        expect(h.headers["oriole-event-id"]).to.equal(event.id);
        expect(JSON.parse(h.body)).to.deep.equal(event);
        expect(verifySignature({ secret, body: h.body, header: h.headers["oriole-signature"] as string }).ok).to.equal(true);
        expect(verifySignature({ secret: `${secret}x`, body: h.body, header: h.headers["oriole-signature"] as string }).ok).to.equal(false);
      }
      expect(deliveries).to.have.length(1);
      expect(deliveries[0]).to.include({ eventId: event.id, status: "delivered", attempts: FAILS + 1, seq: event.seq, type: "payment.confirmed" });
      expect(deliveries[0]?.history.map((a) => a.responseStatus)).to.deep.equal([503, 503, 503, 200]);
      expect(event.txHash).to.equal(txHash);
      // The other merchant has no webhook and sees none of this one's deliveries.
      const others = await getJson(`${node.url}/v1/merchants/me/webhook/deliveries`, { headers: auth(otherKey) });
      expect(others.body).to.deep.equal({ items: [], nextCursor: null });
    } finally {
      await receiver.close();
    }
  });

  it("DELETE /v1/merchants/me/webhook removes only the key's own merchant's webhook; nothing is delivered afterwards", async function () {
    const receiver = await startReceiver();
    const other = await startReceiver();
    try {
      const put = (key: string, url: string) => getJson(`${node.url}/v1/merchants/me/webhook`, { method: "PUT", headers: { ...auth(key), "content-type": "application/json" }, body: JSON.stringify({ url }) });
      const del = (init: RequestInit = {}, q = "") => fetch(`${node.url}/v1/merchants/me/webhook${q}`, { method: "DELETE", ...init });
      const errorOf = async (r: Response): Promise<[number, string]> => [r.status, ((await r.json()) as ErrorBody).error.code];
      expect((await put(apiKey, receiver.url)).status).to.equal(200);
      // The other merchant has none: 404, and this merchant's stays.
      expect(await errorOf(await del({ headers: auth(otherKey) }))).to.deep.equal([404, "webhook_not_set"]);
      expect((await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(apiKey) })).status).to.equal(200);
      // Its own: removed; this merchant's stays.
      expect((await put(otherKey, other.url)).status).to.equal(200);
      const gone = await del({ headers: auth(otherKey) });
      expect(gone.status).to.equal(204);
      expect(await gone.text()).to.equal("");
      expect((await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(otherKey) })).status).to.equal(404);
      expect((await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(apiKey) })).status).to.equal(200);
      // Bad requests change nothing.
      expect(await errorOf(await del())).to.deep.equal([401, "unauthorized"]);
      expect(await errorOf(await del({ headers: auth(`ok_live_${"0".repeat(32)}`) }))).to.deep.equal([401, "unauthorized"]);
      expect(await errorOf(await del({ headers: auth(apiKey) }, "?force=1"))).to.deep.equal([400, "unknown_parameter"]);
      expect((await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(apiKey) })).status).to.equal(200);

      expect((await del({ headers: auth(apiKey) })).status).to.equal(204);
      expect(await errorOf(await del({ headers: auth(apiKey) }))).to.deep.equal([404, "webhook_not_set"]);
      const stream = await open("/v1/merchants/me/events", auth(apiKey));
      const deliveriesBefore = ((await getJson(`${node.url}/v1/merchants/me/webhook/deliveries`, { headers: auth(apiKey) })).body as { items: DeliveryView[] }).items;
      const txHash = await pay(PAYOUT, 4242n);
      const [msg] = await stream.waitFor(1);
      expect((JSON.parse(msg?.data ?? "") as NodeEvent).txHash).to.equal(txHash);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).to.have.length(0);
      expect(other.received).to.have.length(0);
      const deliveriesAfter = ((await getJson(`${node.url}/v1/merchants/me/webhook/deliveries`, { headers: auth(apiKey) })).body as { items: DeliveryView[] }).items;
      expect(deliveriesAfter).to.deep.equal(deliveriesBefore);
      // Set again: a new secret, events from now on.
      expect((await put(apiKey, receiver.url)).status).to.equal(200);
    } finally {
      await receiver.close();
      await other.close();
    }
  });

  it("/metrics counts open SSE streams, webhook attempts by outcome and the webhook queue", async function () {
    const metrics = async (): Promise<(name: string) => number> => {
      const text = await (await fetch(`${node.url}/metrics`)).text();
      return (name) => Number(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    };
    const before = await metrics();
    const s1 = await open(`/v1/accounts/${PAYOUT}/events`);
    const s2 = await open("/v1/merchants/me/events", auth(apiKey));
    expect((await metrics())("oriole_sse_clients")).to.equal(before("oriole_sse_clients") + 2);
    s1.close();
    s2.close();
    const deadline = Date.now() + 5000;
    while ((await metrics())("oriole_sse_clients") !== before("oriole_sse_clients") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await metrics())("oriole_sse_clients")).to.equal(before("oriole_sse_clients"));

    // A receiver down: the delivery waits in the queue and each attempt counts as a retry; then it answers.
    let up = false;
    const receiver = await startReceiver(() => (up ? 200 : 503));
    try {
      const put = await getJson(`${node.url}/v1/merchants/me/webhook`, { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: JSON.stringify({ url: receiver.url }) });
      expect(put.status).to.equal(200);
      await pay(PAYOUT, 99n);
      const until = async (cond: (m: (name: string) => number) => boolean, what: string): Promise<(name: string) => number> => {
        const end = Date.now() + 10_000;
        for (;;) {
          const m = await metrics();
          if (cond(m)) return m;
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const waiting = await until((m) => m('oriole_webhook_deliveries_total{outcome="retry"}') >= before('oriole_webhook_deliveries_total{outcome="retry"}') + 2, "2 retries");
      expect(waiting("oriole_webhook_queue_depth")).to.equal(1);
      up = true;
      const done = await until((m) => m("oriole_webhook_queue_depth") === 0, "an empty queue");
      expect(done('oriole_webhook_deliveries_total{outcome="delivered"}')).to.equal(before('oriole_webhook_deliveries_total{outcome="delivered"}') + 1);
      expect(done('oriole_webhook_deliveries_total{outcome="failed"}')).to.equal(0);
    } finally {
      await receiver.close();
    }
  });

  it("refuses bad input with a 4xx and a code, and changes nothing", async function () {
    const cases: [string, RequestInit, number, string][] = [
      ["/v1/accounts/0x1234/events", {}, 400, "invalid_address"],
      [`/v1/accounts/${PAYOUT}/events?x=1`, {}, 400, "unknown_parameter"],
      [`/v1/accounts/${PAYOUT}/events`, { headers: { "last-event-id": "abc" } }, 400, "invalid_last_event_id"],
      ["/v1/merchants/me/events", {}, 401, "unauthorized"],
      ["/v1/merchants/me/events", { headers: auth("ok_live_00000000000000000000000000000000") }, 401, "unauthorized"],
      ["/v1/merchants/me/webhook/deliveries?cursor=zz", { headers: auth(apiKey) }, 400, "invalid_cursor"],
      ["/v1/merchants/me/webhook/deliveries?limit=0", { headers: auth(apiKey) }, 400, "invalid_limit"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { "content-type": "application/json" }, body: '{"url":"https://x.example"}' }, 401, "unauthorized"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "text/plain" }, body: '{"url":"https://x.example"}' }, 400, "invalid_request"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: "{" }, 400, "invalid_request"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: '{"url":"ftp://x.example"}' }, 400, "invalid_request"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: '{"url":"not a url"}' }, 400, "invalid_request"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: '{"url":"https://x.example","secret":"mine"}' }, 400, "unknown_field"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: `{"url":"https://x.example/${"a".repeat(3000)}"}` }, 400, "invalid_request"],
      ["/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(apiKey), "content-type": "application/json" }, body: `"${"a".repeat(40_000)}"` }, 413, "invalid_request"],
      ["/v1/merchants/me/webhook", { method: "POST", headers: auth(apiKey) }, 405, "method_not_allowed"],
      ["/v1/merchants/me/webhook", { headers: auth(otherKey) }, 404, "webhook_not_set"],
    ];
    const before = await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(apiKey) });
    for (const [p, init, status, code] of cases) {
      const r = await getJson(`${node.url}${p}`, init);
      expect(r.status, `${p} ${JSON.stringify(r.body)}`).to.equal(status);
      expect((r.body as ErrorBody).error.code, p).to.equal(code);
    }
    const after = await getJson(`${node.url}/v1/merchants/me/webhook`, { headers: auth(apiKey) });
    expect(after.body).to.deep.equal(before.body);
  });
});
