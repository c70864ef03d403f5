import { randomBytes } from "node:crypto";
import path from "node:path";
import { expect } from "chai";
import { id, type Signer } from "ethers";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { sendPayment } from "../../client/sdk/payments.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { verifySignature } from "../../node/src/notify/signature.ts";
import type { DeliveryView } from "../../node/src/notify/webhooks.ts";
import { RefundStore } from "../../node/src/refunds/refundStore.ts";
import type { RefundView } from "../../node/src/refunds/refunds.ts";
import { NodeStore } from "../../node/src/store/store.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { expectedWebhookEvents, expectWebhooksExactlyOnce, openSse, startReceiver, type SseClient } from "../helpers/notify.ts";
import { createInvoice, waitForMessage } from "../invoices/helpers.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";

const ADMIN = "refund-events-admin-token-0123456789";
const PAYER = ACCOUNTS[0];
const PAYOUT_A = ACCOUNTS[2];
const PAYOUT_B = ACCOUNTS[3];
const NO_TX = `0x${"0".repeat(64)}`;

const codeOf = (body: unknown): string => (body as { error: { code: string } }).error.code;
const eventsOf = (stream: SseClient): NodeEvent[] => stream.messages.map((m) => JSON.parse(m.data) as NodeEvent);
const refundEventsOf = (stream: SseClient, refundId?: string): NodeEvent[] => eventsOf(stream).filter((e) => e.type.startsWith("refund.") && (refundId === undefined || e.refund?.id === refundId));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Refund lifecycle events against a real hardhat chain, an in-process node
 * on a real LevelDB and real HTTP: refund.open / refund.completed /
 * refund.cancelled on the merchant's SSE stream (resumable) and as signed,
 * retried webhooks under stable ids; the customer's account stream sees the
 * refund payments with their refund link; a restart (also one right after
 * a refund was written, before its event) neither loses nor repeats events.
 */
describe("refunds: live events (SSE and webhooks; in-process node, hardhat node)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let dataDir: string;
  let node: RunningNode;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret: string;
  let merchantA: { id: string; key: string };
  let keyB: string;
  let payment: string;
  let invoiceId: string;
  let signer: (address: string) => Promise<Signer>;
  const streams: SseClient[] = [];
  let streamA: SseClient;
  let streamB: SseClient;
  let customer: SseClient;
  /** Request counts per event id at the receiver: the first attempt of each event is answered 500. */
  const attemptsById = new Map<string, number>();

  const start = async (): Promise<void> => {
    node = await startDevnetNode(devnet, { dataDir, adminToken: ADMIN, allowPrivateWebhooks: true }, { webhooks: { retry: { baseMs: 100, maxMs: 200 } } });
  };
  const call = (p: string, init: RequestInit = {}) => getJson(`${node.url}${p}`, init);
  const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const post = (key: string, body: unknown) =>
    call("/v1/refunds", { method: "POST", body: JSON.stringify(body), headers: { ...auth(key), "content-type": "application/json", "idempotency-key": `k-${randomBytes(8).toString("hex")}` } });
  const cancel = (refundId: string, key: string) => call(`/v1/refunds/${refundId}/cancel`, { method: "POST", headers: auth(key) });
  const open = async (p: string, headers: Record<string, string> = {}): Promise<SseClient> => {
    const c = await openSse(`${node.url}${p}`, headers);
    expect(c.status).to.equal(200);
    streams.push(c);
    return c;
  };
  const createRefund = async (amount: string): Promise<RefundView> => {
    const r = await post(merchantA.key, { payment, amount, reason: "returned" });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body as RefundView;
  };
  /** The merchant's wallet pays (part of) a refund's request; resolves once indexed. */
  const payRefund = async (uri: string, amount: bigint, wait = true): Promise<string> => {
    const req = parsePaymentUri(uri);
    const receipt = await sendPayment({ signer: await signer(PAYOUT_A), tokenAddress: req.token, to: req.to, amount, reference: req.reference! });
    if (wait) await node.waitForIndexed(receipt.blockNumber, 20_000);
    return receipt.hash;
  };

  before(async function () {
    devnet = await startDevnet({ fund: [PAYER] });
    signer = (a) => devnet.connection.ethers.getSigner(a);
    // A fixed folder: the node restarts on it, and the tests read its store.
    dataDir = path.join(devnet.dir, "node");
    await start();
    receiver = await startReceiver((hook) => {
      const eventId = String(hook.headers["oriole-event-id"]);
      const n = (attemptsById.get(eventId) ?? 0) + 1;
      attemptsById.set(eventId, n);
      return n === 1 ? 500 : 200;
    });
    const made = async (name: string, payout: string): Promise<{ id: string; key: string }> => {
      const r = await call("/v1/merchants", { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ name, payout }) });
      expect(r.status).to.equal(201);
      const body = r.body as { apiKey: string; merchant: { id: string } };
      return { id: body.merchant.id, key: body.apiKey };
    };
    merchantA = await made("A", PAYOUT_A);
    keyB = (await made("B", PAYOUT_B)).key;
    const put = await call("/v1/merchants/me/webhook", { method: "PUT", headers: { ...auth(merchantA.key), "content-type": "application/json" }, body: JSON.stringify({ url: receiver.url }) });
    expect(put.status).to.equal(200);
    secret = (put.body as { secret: string }).secret;
    streamA = await open("/v1/merchants/me/events", auth(merchantA.key));
    streamB = await open("/v1/merchants/me/events", auth(keyB));
    customer = await open(`/v1/accounts/${PAYER}/events`);
    const invoice = await createInvoice(node.url, merchantA.key, { amount: "1000", currency: "USD", description: "Refunded order", expiresInSec: 600 });
    invoiceId = invoice.id;
    const receipt = await sendPayment({ signer: await signer(PAYER), tokenAddress: devnet.deployment.contracts.tokens.USD, to: PAYOUT_A, amount: 1_000n, reference: invoice.reference });
    const transfer = receipt.logs.find((l) => l.address === devnet.deployment.contracts.tokens.USD && l.topics[0] === id("Transfer(address,address,uint256)"));
    payment = `${receipt.hash}:${String(transfer?.index)}`;
    await node.waitForIndexed(receipt.blockNumber, 20_000);
  });

  after(async function () {
    for (const s of streams) s.close();
    await node.stop();
    await receiver.close();
    await devnet.stop();
  });

  let first: RefundView;
  let firstPayments: string[];

  it("a refund is pushed to its merchant's stream in order: refund.open (created), refund.open (partly paid), refund.completed", async function () {
    const from = streamA.messages.length;
    first = await createRefund("400");
    const created = await waitForMessage(streamA, (e) => e.refund?.id === first.id, 5000, from);
    expect(created.event).to.include({ type: "refund.open", merchantId: merchantA.id, txHash: NO_TX, logIndex: 0 });
    expect(created.event.accounts).to.deep.equal([]);
    // The refund as the API shows it, linked to the payment and its invoice.
    expect(created.event.refund).to.deep.equal(first);
    expect(created.event.refund).to.include({ status: "open", paid: "0", amount: "400", invoiceId, reason: "returned", from: PAYOUT_A, to: PAYER });

    const part = await payRefund(first.uri, 150n);
    const partly = await waitForMessage(streamA, (e) => e.refund?.id === first.id && e.refund.paid === "150", 5000, from);
    expect(partly.event).to.include({ type: "refund.open", txHash: part });
    const rest = await payRefund(first.uri, 250n);
    const done = await waitForMessage(streamA, (e) => e.refund?.id === first.id && e.type === "refund.completed", 5000, from);
    expect(done.event).to.include({ txHash: rest });
    expect(done.event.refund).to.include({ status: "completed", paid: "400" });
    expect(done.event.refund?.payments.map((p) => [p.txHash, p.amount, p.status])).to.deep.equal([
      [rest, "250", "confirmed"],
      [part, "150", "confirmed"],
    ]);
    firstPayments = [part, rest];

    const mine = refundEventsOf(streamA, first.id);
    expect(mine.map((e) => [e.type, e.refund?.paid])).to.deep.equal([
      ["refund.open", "0"],
      ["refund.open", "150"],
      ["refund.completed", "400"],
    ]);
    expect(new Set(mine.map((e) => e.id)).size).to.equal(3);
    expect(streamA.messages.filter((m) => m.event.startsWith("refund.")).map((m) => m.event)).to.deep.equal(mine.map((e) => e.type));
    // The SSE id is the outbox seq, and the outbox holds exactly what was streamed.
    for (const e of mine) expect(await node.store.eventsAfter(e.seq - 1, 1)).to.deep.equal([e]);
    // The merchant's own refund payments are outgoing: not payments to its payout, so not on its stream.
    expect(eventsOf(streamA).some((e) => firstPayments.includes(e.txHash) && e.type.startsWith("payment."))).to.equal(false);
    await sleep(200);
    expect(refundEventsOf(streamB)).to.deep.equal([]);
  });

  it("the customer's account stream gets the refund payments with their refund link, never the merchant's refund.* events", async function () {
    const link = { id: first.id, of: first.payment, invoiceId };
    for (const tx of firstPayments) {
      const { event } = await waitForMessage(customer, (e) => e.txHash === tx, 5000);
      expect(event.type).to.equal("payment.confirmed");
      expect(event.payment?.refund).to.deep.equal(link);
      expect(event.payment).to.include({ from: PAYOUT_A, to: PAYER, reference: first.reference });
    }
    // The original payment is no refund payment: no link.
    const original = eventsOf(customer).find((e) => e.txHash === payment.split(":")[0]);
    expect(original?.payment?.refund).to.equal(undefined);
    expect(refundEventsOf(customer)).to.deep.equal([]);
    // The history shows the same link.
    const history = (await call(`/v1/accounts/${PAYER}/payments?limit=100`)).body as { items: { txHash: string; refund?: unknown }[] };
    for (const tx of firstPayments) expect(history.items.find((p) => p.txHash === tx)?.refund).to.deep.equal(link);
  });

  it("streams resumed with Last-Event-ID replay the same events, ids and links", async function () {
    const mine = refundEventsOf(streamA, first.id);
    const replay = await open("/v1/merchants/me/events", { ...auth(merchantA.key), "last-event-id": String(mine[0]!.seq - 1) });
    await replay.waitFor(mine.length, 5000);
    expect(refundEventsOf(replay, first.id)).to.deep.equal(mine);
    expect(replay.messages.slice(0, mine.length).map((m) => m.id)).to.deep.equal(mine.map((e) => String(e.seq)));

    const live = eventsOf(customer).filter((e) => firstPayments.includes(e.txHash));
    const again = await open(`/v1/accounts/${PAYER}/events`, { "last-event-id": String(live[0]!.seq - 1) });
    await again.waitFor(live.length, 5000);
    expect(eventsOf(again).filter((e) => firstPayments.includes(e.txHash))).to.deep.equal(live);
  });

  it("webhooks: each refund event is POSTed signed; a failed attempt is retried under the same Oriole-Event-Id and body; the log says delivered", async function () {
    const mine = refundEventsOf(streamA, first.id);
    const deadline = Date.now() + 10_000;
    while (!mine.every((e) => (attemptsById.get(e.id) ?? 0) >= 2) && Date.now() < deadline) await sleep(20);
    for (const e of mine) {
      const hooks = receiver.received.filter((h) => h.headers["oriole-event-id"] === e.id);
      expect(hooks, e.type).to.have.length(2);
      expect(hooks[0]!.body).to.equal(hooks[1]!.body);
      for (const h of hooks) expect(verifySignature({ secret, body: h.body, header: String(h.headers["oriole-signature"]) }).ok).to.equal(true);
      expect(JSON.parse(hooks[0]!.body)).to.deep.equal(e);
    }
    const log = (await call("/v1/merchants/me/webhook/deliveries?limit=100", { headers: auth(merchantA.key) })).body as { items: DeliveryView[] };
    for (const e of mine) {
      const d = log.items.find((x) => x.eventId === e.id);
      expect(d).to.include({ type: e.type, status: "delivered", attempts: 2, seq: e.seq });
      expect(d?.history.map((h) => h.responseStatus)).to.deep.equal([500, 200]);
    }
  });

  it("a cancelled refund: refund.open then refund.cancelled; cancelling again and refused requests push nothing", async function () {
    const from = streamA.messages.length;
    const refund = await createRefund("100");
    await waitForMessage(streamA, (e) => e.refund?.id === refund.id, 5000, from);
    const r = await cancel(refund.id, merchantA.key);
    expect(r.status).to.equal(200);
    const { event } = await waitForMessage(streamA, (e) => e.refund?.id === refund.id && e.type === "refund.cancelled", 5000, from);
    expect(event.refund).to.deep.equal(r.body);
    expect(event.refund?.cancelledAt).to.be.a("string");
    expect(event).to.include({ merchantId: merchantA.id, txHash: NO_TX });
    const webhookDeadline = Date.now() + 10_000;
    while ((attemptsById.get(event.id) ?? 0) < 2 && Date.now() < webhookDeadline) await sleep(20);
    expect(attemptsById.get(event.id)).to.equal(2);

    const before = streamA.messages.length;
    expect((await cancel(refund.id, merchantA.key)).status).to.equal(200);
    // Refused: over the payment (1000 - 400 - 0 cancelled = 600 left), bad input, another merchant's cancel, a paid refund's cancel.
    expect(codeOf((await post(merchantA.key, { payment, amount: "601" })).body)).to.equal("refund_exceeds_payment");
    expect(codeOf((await post(merchantA.key, { payment, amount: "0" })).body)).to.equal("invalid_request");
    expect(codeOf((await post(keyB, { payment, amount: "1" })).body)).to.equal("payment_not_found");
    expect(codeOf((await cancel(refund.id, keyB)).body)).to.equal("refund_not_found");
    expect(codeOf((await cancel(first.id, merchantA.key)).body)).to.equal("refund_already_paid");
    await sleep(300);
    expect(streamA.messages.slice(before)).to.deep.equal([]);
    expect(refundEventsOf(streamA, refund.id).map((e) => e.type)).to.deep.equal(["refund.open", "refund.cancelled"]);
  });

  it("OpenAPI documents the refund events: their types in NodeEvent and RefundEvent, and every field they carry", async function () {
    const doc = (await call("/openapi.json")).body as { components: { schemas: Record<string, { required?: string[]; properties?: Record<string, { enum?: string[] }> }> } };
    const { NodeEvent: nodeEvent, RefundEvent: refundEvent } = doc.components.schemas;
    expect(refundEvent?.properties?.type?.enum).to.deep.equal(["refund.open", "refund.completed", "refund.cancelled"]);
    expect(nodeEvent?.properties?.type?.enum).to.include.members(refundEvent?.properties?.type?.enum ?? []);
    for (const e of refundEventsOf(streamA)) {
      expect(Object.keys(refundEvent?.properties ?? {})).to.include.members(Object.keys(e));
      expect(Object.keys(e)).to.include.members(refundEvent?.required ?? []);
    }
  });

  it("a restart neither loses nor repeats refund events: a refund paid while the node is down, and one written right before a crash, are pushed once", async function () {
    const from = streamA.messages.length;
    const third = await createRefund("200");
    await waitForMessage(streamA, (e) => e.refund?.id === third.id, 5000, from);
    const lastSeq = Number(streamA.messages.at(-1)!.id);
    const outbox = async (store: NodeStore): Promise<NodeEvent[]> => (await store.eventsAfter(0, 1_000_000)).filter((e) => e.type.startsWith("refund."));
    const beforeStop = await outbox(node.store);
    expect(beforeStop).to.deep.equal(refundEventsOf(streamA));
    for (const s of streams) s.close();
    await node.stop();

    // While the node is down: the refund is paid on the chain, and a refund is
    // on disk as the API writes it (record and watcher entry, one batch) with
    // no event yet, as after a crash right after POST /v1/refunds answered.
    const paid = await payRefund(third.uri, 200n, false);
    const crashed = `rfd_${randomBytes(8).toString("hex")}`;
    const store = await NodeStore.open(dataDir);
    try {
      const [txHash, logIndex] = payment.split(":") as [string, string];
      const [originalEntry] = (await store.read((r) => r.payments(PAYOUT_A.toLowerCase(), { limit: 100 }))).items.filter((p) => p.txHash === txHash);
      await new RefundStore(store.merchantSublevel()).add({
        id: crashed,
        merchantId: merchantA.id,
        reference: `0x${randomBytes(32).toString("hex")}`,
        payment: { txHash, logIndex: Number(logIndex), blockNumber: originalEntry!.blockNumber, reference: originalEntry!.reference, amount: "1000" },
        currency: "USD",
        amount: "100",
        from: PAYOUT_A,
        to: PAYER,
        reason: null,
        createdAt: new Date().toISOString(),
      });
      expect(await outbox(store)).to.deep.equal(beforeStop);
    } finally {
      await store.close();
    }

    await start();
    streamA = await open("/v1/merchants/me/events", { ...auth(merchantA.key), "last-event-id": String(lastSeq) });
    const completed = await waitForMessage(streamA, (e) => e.refund?.id === third.id && e.type === "refund.completed", 10_000);
    expect(completed.event).to.include({ txHash: paid });
    const reopened = await waitForMessage(streamA, (e) => e.refund?.id === crashed, 10_000);
    expect(reopened.event.type).to.equal("refund.open");
    expect(reopened.event.refund).to.include({ id: crashed, status: "open", amount: "100", invoiceId });
    // The customer's stream resumed from before the first refund payment: replayed from the store (the
    // restarted hub caches nothing older), with the links, and the payment made while the node was down.
    const linked = await open(`/v1/accounts/${PAYER}/events`, { "last-event-id": "0" });
    const down = await waitForMessage(linked, (e) => e.txHash === paid, 10_000);
    expect(down.event.payment?.refund).to.deep.equal({ id: third.id, of: third.payment, invoiceId });
    expect(eventsOf(linked).filter((e) => firstPayments.includes(e.txHash)).map((e) => e.payment?.refund?.id)).to.deep.equal([first.id, first.id]);
    // A second restart, then the outbox: the old events as they were, each new one once.
    await sleep(300);
    await node.stop();
    await start();
    await sleep(500);
    const after = await outbox(node.store);
    expect(after.slice(0, beforeStop.length)).to.deep.equal(beforeStop);
    expect(after.slice(beforeStop.length).map((e) => [e.type, e.refund?.id]).sort()).to.deep.equal(
      [
        ["refund.completed", third.id],
        ["refund.open", crashed],
      ].sort(),
    );
    expect(new Set(after.map((e) => e.id)).size).to.equal(after.length);

    // Every webhook: each event of the merchant's exactly once by id (plus one retry each), signed.
    const expectedCount = (await node.store.eventsAfter(0, 1_000_000)).filter((e) => e.merchantId === merchantA.id || e.payment?.to === PAYOUT_A).length;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const log = (await call("/v1/merchants/me/webhook/deliveries?limit=100", { headers: auth(merchantA.key) })).body as { items: DeliveryView[] };
      if (log.items.length >= expectedCount && log.items.every((d) => d.status === "delivered")) break;
      if (Date.now() > deadline) throw new Error(`deliveries not done: ${JSON.stringify(log.items.filter((d) => d.status !== "delivered"))}`);
      await sleep(50);
    }
    await node.stop();
    const expected = await expectedWebhookEvents(dataDir, merchantA.id, PAYOUT_A);
    expect(expected.filter((e) => e.type.startsWith("refund."))).to.deep.equal(after);
    // Each event was refused once (500) and sent again: at least two requests each, under one id and one body.
    const { requests } = expectWebhooksExactlyOnce(receiver.received, expected, secret);
    expect(requests).to.be.at.least(2 * expected.length);
    await start();
  });
});
