import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { silentLogger } from "../../node/src/log.ts";
import type { MerchantRef, NodeEvent } from "../../node/src/notify/events.ts";
import { computeSignature, parseSignatureHeader, signatureHeader, timestampWithinTolerance, verifySignature } from "../../node/src/notify/signature.ts";
import { DEFAULT_RETRY, retryDelayMs, WebhookService, type WebhookServiceOptions } from "../../node/src/notify/webhooks.ts";
import { checkWebhookTarget, isPrivateAddress } from "../../node/src/notify/webhookTarget.ts";
import { startReceiver, TestOutbox, type ReceivedHook } from "../helpers/notify.ts";

const PAYER = "0x00000000000000000000000000000000000a11ce";
const SHOP = "0x0000000000000000000000000000000000005409";
const OTHER = "0x00000000000000000000000000000000000ca201";
const MERCHANTS: Record<string, MerchantRef> = {
  mer_0000000000000001: { id: "mer_0000000000000001", payout: SHOP },
  mer_0000000000000002: { id: "mer_0000000000000002", payout: OTHER },
};
const M1 = "mer_0000000000000001";

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("notify: webhook signatures", function () {
  const secret = "whsec_test";
  const body = '{"hello":"world"}';
  const now = 1_800_000_000;

  it("verifies what it signs, within the tolerance only", function () {
    const header = signatureHeader(secret, now, body);
    expect(header).to.match(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature({ secret, body, header, nowSec: now })).to.deep.equal({ ok: true, timestamp: now });
    expect(verifySignature({ secret, body, header, nowSec: now + 300 }).ok).to.equal(true);
    const late = verifySignature({ secret, body, header, nowSec: now + 301 });
    expect(!late.ok && late.code).to.equal("timestamp_out_of_tolerance");
    expect(verifySignature({ secret, body, header, nowSec: now - 301 }).ok).to.equal(false);
    expect(timestampWithinTolerance(now, 10, now + 10)).to.equal(true);
    expect(timestampWithinTolerance(now, 10, now + 11)).to.equal(false);
  });

  it("refuses a tampered body, another secret, a moved timestamp and malformed headers", function () {
    const header = signatureHeader(secret, now, body);
    const bad = (r: ReturnType<typeof verifySignature>): string => (r.ok ? "ok" : r.code);
    expect(bad(verifySignature({ secret, body: body.replace("world", "w0rld"), header, nowSec: now }))).to.equal("bad_signature");
    expect(bad(verifySignature({ secret: "whsec_other", body, header, nowSec: now }))).to.equal("bad_signature");
    const moved = header.replace(`t=${String(now)}`, `t=${String(now + 1)}`);
    expect(bad(verifySignature({ secret, body, header: moved, nowSec: now }))).to.equal("bad_signature");
    for (const h of [undefined, null, "", "v1=abc", `t=${String(now)}`, `t=x,v1=${"0".repeat(64)}`, `t=${String(now)},v1=${"0".repeat(63)}`, "garbage", `t=1,t=2,v1=${"0".repeat(64)}`]) {
      expect(bad(verifySignature({ secret, body, header: h, nowSec: now })), String(h)).to.equal("malformed_signature");
    }
  });

  it("accepts any matching v1 among several (secret rotation) and ignores unknown schemes", function () {
    const good = computeSignature(secret, now, body);
    const header = `t=${String(now)},v0=zzz,v1=${"0".repeat(64)},v1=${good}`;
    expect(parseSignatureHeader(header)?.signatures).to.have.length(2);
    expect(verifySignature({ secret, body, header, nowSec: now }).ok).to.equal(true);
  });

  it("backs off exponentially with jitter in [d/2, d), capped", function () {
    const p = { baseMs: 1000, maxMs: 8000, maxAgeMs: 1 };
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelayMs(n, p, () => 0))).to.deep.equal([500, 1000, 2000, 4000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, p, () => 0.999999))).to.deep.equal([1000, 2000, 4000, 8000, 8000]);
    // The default schedule spreads attempts over about a day.
    let t = 0;
    let n = 0;
    while (t < DEFAULT_RETRY.maxAgeMs) t += retryDelayMs(++n, DEFAULT_RETRY, () => 0.5);
    expect(n).to.be.within(25, 45);
  });
});

describe("notify: webhook targets (SSRF guard)", function () {
  it("classifies loopback, private, link-local, metadata and other special addresses as non-public", function () {
    const nonPublic = [
      "127.0.0.1", "127.255.0.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
      "192.0.2.5", "198.18.0.1", "224.0.0.1", "255.255.255.255",
      "::", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:a9fe:a9fe", "64:ff9b::10.0.0.1", "::127.0.0.1",
      "not-an-address",
    ];
    const publicOnes = ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"];
    for (const a of nonPublic) expect(isPrivateAddress(a), a).to.equal(true);
    for (const a of publicOnes) expect(isPrivateAddress(a), a).to.equal(false);
  });

  it("refuses non-public and unresolvable URLs with stable codes unless private targets are allowed; http(s) only", async function () {
    const codeOf = async (url: string, allowPrivate = false): Promise<string | undefined> => {
      try {
        await checkWebhookTarget(url, { allowPrivate });
        return undefined;
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    for (const url of ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "https://10.0.0.7/x", "http://[::ffff:192.168.0.1]/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/"]) {
      expect(await codeOf(url), url).to.equal("webhook_target_forbidden");
      expect(await codeOf(url, true), url).to.equal(undefined);
    }
    expect(await codeOf("ftp://93.184.215.14/x", true)).to.equal("webhook_target_forbidden");
    expect(await codeOf("http://no-such-host.invalid/hook")).to.equal("webhook_target_unresolvable");
    expect(await codeOf("https://93.184.215.14/hook")).to.equal(undefined);
  });
});

describe("notify: webhook deliveries (real receiver, real LevelDB)", function () {
  let dir: string;
  let outbox: TestOutbox;
  let service: WebhookService | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-whk-"));
    outbox = await TestOutbox.open(dir);
  });

  afterEach(async function () {
    await service?.stop();
    service = undefined;
    await receiver?.close();
    receiver = undefined;
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function startService(opts: Partial<WebhookServiceOptions> = {}): Promise<WebhookService> {
    const s = new WebhookService({
      sub: outbox.db.sublevel("whk"),
      source: outbox,
      merchant: (id) => Promise.resolve(MERCHANTS[id]),
      log: silentLogger,
      retry: { baseMs: 20, maxMs: 200, maxAgeMs: 60_000 },
      // The receivers listen on 127.0.0.1.
      allowPrivateTargets: true,
      ...opts,
    });
    await s.start();
    outbox.onAppend = () => {
      s.notify();
    };
    service = s;
    return s;
  }

  it("delivers each payment to its payee's merchant, signed, with the event id; nothing from before the URL was set", async function () {
    receiver = await startReceiver();
    const s = await startService();
    await outbox.append([{ from: PAYER, to: SHOP }]); // before the webhook: not delivered
    const { url, secret } = await s.setWebhook(M1, receiver.url);
    expect(url).to.equal(receiver.url);
    expect(secret).to.match(/^whsec_[0-9a-f]{64}$/);
    const events = await outbox.append([{ from: PAYER, to: SHOP, amount: "5" }, { from: PAYER, to: OTHER }, { from: SHOP, to: PAYER }, { from: PAYER, to: SHOP, type: "payment.confirmed" }]);
    await until(() => receiver?.received.length === 2, 10_000, "2 webhooks");
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).to.have.length(2);
    // The two deliveries run in parallel: they may arrive in either order, so each is matched to its event by id.
    const expected = new Map(([events[0], events[3]] as NodeEvent[]).map((e) => [e.id, e]));
    expect(receiver.received.map((hook) => hook.headers["oriole-event-id"]).sort()).to.deep.equal([...expected.keys()].sort());
    receiver.received.forEach((hook: ReceivedHook) => {
      const event = expected.get(hook.headers["oriole-event-id"] as string);
      expect(hook.headers["content-type"]).to.equal("application/json");
      expect(JSON.parse(hook.body)).to.deep.equal(event);
      const v = verifySignature({ secret, body: hook.body, header: hook.headers["oriole-signature"] as string });
      expect(v.ok, JSON.stringify(v)).to.equal(true);
      expect(verifySignature({ secret: "whsec_wrong", body: hook.body, header: hook.headers["oriole-signature"] as string }).ok).to.equal(false);
    });
    await until(async () => (await s.counts()).delivered === 2, 5000, "records");
    const log = await s.deliveries(M1, { limit: 10 });
    expect(log.items.map((d) => d.eventId)).to.deep.equal([events[3]?.id, events[0]?.id]);
    expect(log.items.every((d) => d.status === "delivered" && d.attempts === 1 && d.history[0]?.responseStatus === 200)).to.equal(true);
    expect(log.items[0]).to.not.have.property("body");
    expect(await s.deliveries("mer_0000000000000002", { limit: 10 })).to.deep.equal({ items: [], next: null });
  });

  it("checks the target again at every delivery: a URL that now reaches a non-public address is refused, nothing is sent", async function () {
    receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    // Set while private targets were allowed (or while the name resolved elsewhere)…
    const allowed = await startService();
    await allowed.setWebhook(M1, `http://localhost:${port}/hooks`); // a name: refused by the connection's lookup
    await allowed.setWebhook("mer_0000000000000002", receiver.url); // an address literal: refused before connecting
    await allowed.stop();
    // …delivered by a node that does not allow them.
    const s = await startService({ allowPrivateTargets: false });
    const events = await outbox.append([{ from: PAYER, to: SHOP }, { from: PAYER, to: OTHER }]);
    const refused = async (merchantId: string, eventId: string): Promise<boolean> => {
      const d = await s.delivery(merchantId, eventId);
      return d !== undefined && d.attempts >= 2;
    };
    await until(async () => (await refused(M1, events[0]?.id ?? "")) && (await refused("mer_0000000000000002", events[1]?.id ?? "")), 10_000, "refused attempts");
    for (const [merchantId, event, address] of [[M1, events[0], /127\.0\.0\.1|::1/], ["mer_0000000000000002", events[1], /127\.0\.0\.1/]] as const) {
      const d = await s.delivery(merchantId, event?.id ?? "");
      expect(d?.status).to.equal("pending");
      for (const h of d?.history ?? []) {
        expect(h.responseStatus).to.equal(null);
        expect(h.error).to.match(/^webhook_target_forbidden: /).and.match(address);
      }
    }
    expect(receiver.received).to.have.length(0);
  });

  it("deleting a webhook cancels its pending deliveries (nothing is sent again) and leaves other merchants' alone", async function () {
    receiver = await startReceiver(() => 503);
    const other = await startReceiver();
    try {
      const s = await startService();
      await s.setWebhook(M1, receiver.url);
      await s.setWebhook("mer_0000000000000002", other.url);
      const [mine] = await outbox.append([{ from: PAYER, to: SHOP }]);
      await until(() => (receiver?.received.length ?? 0) >= 2, 5000, "retries");
      expect(await s.deleteWebhook(M1)).to.equal(true);
      expect(await s.webhook(M1)).to.equal(undefined);
      const d = await s.delivery(M1, mine?.id ?? "");
      expect(d).to.include({ status: "cancelled", nextAttemptAt: null });
      const sent = receiver.received.length;
      const [theirs] = await outbox.append([{ from: PAYER, to: OTHER }, { from: PAYER, to: SHOP }]);
      await until(async () => (await s.delivery("mer_0000000000000002", theirs?.id ?? ""))?.status === "delivered", 5000, "other merchant's delivery");
      await new Promise((r) => setTimeout(r, 200));
      // An attempt in flight at the delete may still land once; nothing after it.
      expect(receiver.received.length).to.be.at.most(sent + 1);
      expect((await s.delivery(M1, mine?.id ?? ""))?.status).to.equal("cancelled");
      expect((await s.deliveries(M1, { limit: 10 })).items).to.have.length(1);
      expect(await s.deleteWebhook(M1)).to.equal(false);
      expect((await s.counts()).cancelled).to.equal(1);
      const { outcomes, queueDepth } = await s.metrics();
      expect(outcomes).to.include({ delivered: 1, cancelled: 1, failed: 0 });
      expect(outcomes.retry).to.be.at.least(2);
      expect(queueDepth).to.equal(0);
    } finally {
      await other.close();
    }
  });

  it("retries a failing receiver with backoff and the same event id until it answers 2xx", async function () {
    const FAILS = 4;
    receiver = await startReceiver((_hook, n) => (n <= FAILS ? (n % 2 === 0 ? 500 : 404) : 204));
    const s = await startService();
    await s.setWebhook(M1, receiver.url);
    const [event] = await outbox.append([{ from: PAYER, to: SHOP }]);
    await until(() => receiver?.received.length === FAILS + 1, 10_000, "retries");
    const r = receiver.received;
    expect(new Set(r.map((h) => h.headers["oriole-event-id"]))).to.deep.equal(new Set([event?.id]));
    expect(new Set(r.map((h) => h.body)).size).to.equal(1);
    // Backoff: each gap at least half the nominal delay (20, 40, 80, 160 ms).
    for (let i = 1; i < r.length; i++) expect((r[i]?.at ?? 0) - (r[i - 1]?.at ?? 0), `gap ${String(i)}`).to.be.at.least(Math.min(200, 20 * 2 ** (i - 1)) / 2 - 5);
    await until(async () => (await s.delivery(M1, event?.id ?? ""))?.status === "delivered", 5000, "delivered");
    const d = await s.delivery(M1, event?.id ?? "");
    expect(d?.attempts).to.equal(FAILS + 1);
    expect(d?.history.map((a) => a.responseStatus)).to.deep.equal([404, 500, 404, 500, 204]);
    expect(d?.history.slice(0, FAILS).every((a) => a.error?.startsWith("HTTP "))).to.equal(true);
    await new Promise((res) => setTimeout(res, 300));
    expect(receiver.received).to.have.length(FAILS + 1);
    expect(await s.metrics()).to.deep.equal({ outcomes: { delivered: 1, retry: FAILS, failed: 0, cancelled: 0 }, queueDepth: 0 });
  });

  it("marks a delivery failed once its retry window is over, and records unreachable receivers", async function () {
    // A window long enough for several attempts even on a loaded machine.
    const s = await startService({ retry: { baseMs: 20, maxMs: 40, maxAgeMs: 1500 } });
    await s.setWebhook(M1, "http://127.0.0.1:1/nothing-listens");
    const [event] = await outbox.append([{ from: PAYER, to: SHOP }]);
    await until(async () => (await s.delivery(M1, event?.id ?? ""))?.status === "failed", 10_000, "failed");
    const d = await s.delivery(M1, event?.id ?? "");
    expect(d?.attempts).to.be.at.least(4);
    expect(d?.nextAttemptAt).to.equal(null);
    expect(d?.history.at(-1)?.responseStatus).to.equal(null);
    expect(d?.history.at(-1)?.error).to.be.a("string").and.match(/fetch failed|ECONNREFUSED/);
    expect(await s.counts()).to.deep.equal({ pending: 0, delivered: 0, failed: 1, cancelled: 0 });
    expect((await s.metrics()).outcomes).to.include({ delivered: 0, failed: 1, cancelled: 0 });
  });

  it("times out a hanging receiver and retries it", async function () {
    let n = 0;
    receiver = await startReceiver(() => (++n === 1 ? new Promise((r) => setTimeout(() => { r(200); }, 2000)) : 200));
    const s = await startService({ timeoutMs: 150 });
    await s.setWebhook(M1, receiver.url);
    const [event] = await outbox.append([{ from: PAYER, to: SHOP }]);
    await until(async () => (await s.delivery(M1, event?.id ?? ""))?.status === "delivered", 10_000, "delivered");
    const d = await s.delivery(M1, event?.id ?? "");
    expect(d?.history.map((a) => a.error)).to.deep.equal(["timeout after 150 ms", null]);
  });

  it("after a stop in mid-delivery, a new service on the same store sends each event again under the same id, and only once more", async function () {
    let hang = true;
    receiver = await startReceiver(() => (hang ? new Promise(() => undefined) : 200));
    const s1 = await startService({ timeoutMs: 60_000 });
    const { secret } = await s1.setWebhook(M1, receiver.url);
    const events = await outbox.append(Array.from({ length: 5 }, () => ({ from: PAYER, to: SHOP })));
    await until(() => receiver?.received.length === 5, 10_000, "first attempts");
    await s1.stop();
    service = undefined;
    hang = false;
    const s2 = await startService({ timeoutMs: 60_000 });
    await until(async () => (await s2.counts()).delivered === 5, 10_000, "deliveries after restart");
    await new Promise((r) => setTimeout(r, 200));
    const ids = receiver.received.map((h) => h.headers["oriole-event-id"]);
    expect(ids).to.have.length(10);
    expect(new Set(ids)).to.deep.equal(new Set(events.map((e) => e.id)));
    for (const h of receiver.received) expect(verifySignature({ secret, body: h.body, header: h.headers["oriole-signature"] as string }).ok).to.equal(true);
    const log = await s2.deliveries(M1, { limit: 2 });
    expect(log.items.map((d) => d.seq)).to.deep.equal([events[4]?.seq, events[3]?.seq]);
    const page2 = await s2.deliveries(M1, { limit: 10, before: log.next ?? undefined });
    expect(page2.items.map((d) => d.seq)).to.deep.equal([2, 1, 0].map((i) => events[i]?.seq));
    expect(page2.next).to.equal(null);
  });

  it("a new URL gets a new secret; retries go to the current URL, signed with the current secret", async function () {
    const old = await startReceiver(() => 500);
    receiver = await startReceiver();
    const s = await startService({ retry: { baseMs: 100, maxMs: 100, maxAgeMs: 60_000 } });
    const first = await s.setWebhook(M1, old.url);
    const [event] = await outbox.append([{ from: PAYER, to: SHOP }]);
    await until(() => old.received.length >= 1, 5000, "first attempt");
    const second = await s.setWebhook(M1, receiver.url);
    expect(second.secret).to.not.equal(first.secret);
    await until(() => receiver?.received.length === 1, 5000, "retry at the new URL");
    const hook = receiver.received[0];
    expect(hook?.headers["oriole-event-id"]).to.equal(event?.id);
    expect(verifySignature({ secret: second.secret, body: hook?.body ?? "", header: hook?.headers["oriole-signature"] as string }).ok).to.equal(true);
    await old.close();
  });
});
