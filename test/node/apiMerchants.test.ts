import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { createLogger } from "../../node/src/log.ts";
import { RateLimiter } from "../../node/src/api/rateLimit.ts";
import { ACCOUNTS, getJson } from "./fixtures.ts";
import { errorCodeOf, jsonOf, runInProcess, runProcess } from "../client/cliHarness.ts";

interface MerchantBody {
  id: string;
  name: string;
  payout: string;
  createdAt: string;
}

describe("node: merchants, auth, rate limits, CORS, metrics, docs", function () {
  let devnet: Devnet;
  let dataDir: string;
  let node: RunningNode;
  let admin: string;
  const logLines: string[] = [];

  before(async function () {
    devnet = await startDevnet({ fund: [] });
    dataDir = path.join(devnet.dir, "node");
    const log = createLogger({ level: "debug", write: (l) => logLines.push(l) });
    node = await startDevnetNode(devnet, { dataDir, corsOrigins: ["https://wallet.example"] }, { log });
    admin = (await readFile(path.join(dataDir, "admin-token"), "utf8")).trim();
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  const call = (p: string, init: RequestInit = {}) => getJson(`${node.url}${p}`, init);
  const bearer = (token: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } });
  const create = (body: unknown, token = admin) =>
    call("/v1/merchants", bearer(token, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }));

  it("creates the admin token file 0600 at first start, and never logs it", async function () {
    expect(admin).to.match(/^[A-Za-z0-9_-]{32}$/);
    expect((await stat(path.join(dataDir, "admin-token"))).mode & 0o777).to.equal(0o600);
    expect(logLines.join("")).to.not.include(admin);
  });

  it("admin creates a merchant; the key is shown once, stored hashed, and reads only its own merchant", async function () {
    const a = await create({ name: "Shop A", payout: ACCOUNTS[2].toLowerCase() });
    expect(a.status, JSON.stringify(a.body)).to.equal(201);
    const { merchant, apiKey } = a.body as { merchant: MerchantBody; apiKey: string };
    expect(apiKey).to.match(/^ok_live_[0-9a-f]{32}$/);
    expect(merchant).to.have.all.keys("id", "name", "payout", "createdAt");
    expect(merchant).to.include({ name: "Shop A", payout: ACCOUNTS[2] });
    expect(merchant.id).to.match(/^mer_[0-9a-f]{16}$/);

    const me = await call("/v1/merchants/me", bearer(apiKey));
    expect(me.status).to.equal(200);
    expect(me.body).to.deep.equal(merchant);
    expect((await call(`/v1/merchants/${merchant.id}`, bearer(apiKey))).body).to.deep.equal(merchant);

    const b = (await create({ name: "Shop B", payout: ACCOUNTS[3] })).body as { merchant: MerchantBody; apiKey: string };
    const other = await call(`/v1/merchants/${merchant.id}`, bearer(b.apiKey));
    expect(other.status).to.equal(403);
    expect((other.body as { error: { code: string } }).error.code).to.equal("forbidden");
    // A merchant key is not the admin token.
    expect((await create({ name: "X", payout: ACCOUNTS[3] }, b.apiKey)).status).to.equal(403);
    expect(((await call("/v1/merchants/me", bearer(`ok_live_${"0".repeat(32)}`))).body as { error: { code: string } }).error.code).to.equal("unauthorized");
    const noKey = await call("/v1/merchants/me");
    expect(noKey.status).to.equal(401);
    expect(noKey.headers.get("www-authenticate")).to.match(/^Bearer/);

    // Stored hashed: the key appears nowhere in the store nor in the logs.
    const stored = await node.store.merchantSublevel().iterator().all();
    expect(JSON.stringify(stored)).to.not.include(apiKey);
    expect(JSON.stringify(stored)).to.include(merchant.id);
    expect(logLines.join("")).to.not.include(apiKey);

    // The admin lists them, a page at a time.
    const page1 = (await call("/v1/merchants?limit=1", bearer(admin))).body as { items: MerchantBody[]; nextCursor: string | null };
    expect(page1.items).to.have.length(1);
    expect(page1.nextCursor).to.be.a("string");
    const page2 = (await call(`/v1/merchants?limit=1&cursor=${page1.nextCursor ?? ""}`, bearer(admin))).body as { items: MerchantBody[]; nextCursor: string | null };
    expect(page2.items).to.have.length(1);
    expect(page2.nextCursor).to.equal(null);
    expect([page1.items[0]?.id, page2.items[0]?.id].sort()).to.deep.equal([merchant.id, b.merchant.id].sort());
  });

  it("CLI: oriole merchant create prints the key once (token from the data dir's file or ORIOLE_ADMIN_TOKEN); refusals have codes", async function () {
    const tokenFile = path.join(dataDir, "admin-token");
    const run = await runProcess(["merchant", "create", "--name", "CLI shop", "--payout", ACCOUNTS[4], "--api", node.url, "--admin-token-file", tokenFile, "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    const out = jsonOf(run) as { merchant: MerchantBody; apiKey: string };
    expect(out.merchant).to.include({ name: "CLI shop", payout: ACCOUNTS[4] });
    expect((await call("/v1/merchants/me", bearer(out.apiKey))).body).to.deep.equal(out.merchant);

    // ORIOLE_HOME/node-data/admin-token is the default, as npm start keeps it.
    const home = path.dirname(dataDir);
    const viaHome = await runInProcess(["merchant", "create", "--name", "Home", "--payout", ACCOUNTS[4], "--api", node.url, "--json"], { env: { ORIOLE_HOME: path.join(home, "nowhere") } });
    expect(errorCodeOf(viaHome)).to.equal("admin_token_missing");
    const text = await runInProcess(["merchant", "create", "--name", "Env", "--payout", ACCOUNTS[4], "--api", node.url, "--lang", "zh"], { env: { ORIOLE_ADMIN_TOKEN: admin } });
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/商户已创建：mer_[0-9a-f]{16}（Env）/).and.match(/ok_live_[0-9a-f]{32}/);

    expect(errorCodeOf(await runInProcess(["merchant", "create", "--name", "X", "--payout", ACCOUNTS[4], "--api", node.url, "--json"], { env: { ORIOLE_ADMIN_TOKEN: "wrong-token-0123456789" } }))).to.equal("unauthorized");
    expect(errorCodeOf(await runInProcess(["merchant", "create", "--name", "X", "--payout", "0x1234", "--api", node.url, "--json"], { env: { ORIOLE_ADMIN_TOKEN: admin } }))).to.equal("invalid_address");
    const missing = await runInProcess(["merchant", "create", "--payout", ACCOUNTS[4], "--json"]);
    expect(missing.code).to.equal(2);
    expect(errorCodeOf(missing)).to.equal("usage");
    const help = await runInProcess(["merchant", "--help"]);
    expect(help.stdout).to.include("merchant create --name N --payout ADDRESS");
    // The key never reaches stderr nor the node's logs.
    expect(logLines.join("")).to.not.include(out.apiKey);
  });

  it("webhook URLs reaching loopback, private, link-local or metadata addresses are refused (400, stable code, nothing stored)", async function () {
    const { apiKey } = (await create({ name: "Hooked", payout: ACCOUNTS[4] })).body as { apiKey: string };
    const put = (url: unknown) => call("/v1/merchants/me/webhook", bearer(apiKey, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ url }) }));
    const cases: [string, string][] = [
      ["http://127.0.0.1:9/hook", "webhook_target_forbidden"],
      ["http://localhost:8787/v1/merchants", "webhook_target_forbidden"],
      ["http://[::1]/", "webhook_target_forbidden"],
      ["http://169.254.169.254/latest/meta-data/iam/", "webhook_target_forbidden"],
      ["https://10.0.0.1/hook", "webhook_target_forbidden"],
      ["http://192.168.1.20/hook", "webhook_target_forbidden"],
      ["http://[::ffff:127.0.0.1]/hook", "webhook_target_forbidden"],
      ["http://2130706433/hook", "webhook_target_forbidden"],
      ["http://no-such-host.invalid/hook", "webhook_target_unresolvable"],
      ["ftp://93.184.215.14/hook", "invalid_request"],
      ["file:///etc/passwd", "invalid_request"],
    ];
    for (const [url, code] of cases) {
      const r = await put(url);
      expect(r.status, url).to.equal(400);
      expect((r.body as { error: { code: string; message: string } }).error.code, url).to.equal(code);
    }
    expect((await call("/v1/merchants/me/webhook", bearer(apiKey))).status).to.equal(404);
    // A public address is accepted (registration does not connect).
    const ok = await put("https://93.184.215.14/hook");
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    expect(((await call("/v1/merchants/me/webhook", bearer(apiKey))).body as { url: string }).url).to.equal("https://93.184.215.14/hook");
  });

  it("merchants and their webhook settings survive a re-index of derived state; deliveries do not survive a chain reset", async function () {
    const before = await node.store.merchantSublevel().iterator().all();
    expect(before.length).to.be.greaterThan(0);
    const webhookEntries = async (): Promise<[string, string][]> => node.store.webhookSublevel().iterator().all();
    // The test above set a webhook; a delivery cursor stands for the delivery records.
    await node.store.webhookSublevel().put("cur", "7");
    const settings = (await webhookEntries()).filter(([k]) => k.startsWith("cfg!"));
    expect(settings.length).to.be.greaterThan(0);
    await node.store.wipeDerived();
    expect(await node.store.merchantSublevel().iterator().all()).to.deep.equal(before);
    await node.store.wipe();
    expect(await node.store.merchantSublevel().iterator().all()).to.deep.equal(before);
    expect(await webhookEntries()).to.deep.equal(settings);
    // …and the wipe still took everything else.
    expect(await node.store.identity()).to.equal(undefined);
    expect(await node.store.cursor()).to.equal(undefined);
    const dump = await node.store.dump();
    expect([dump.balances, dump.supply, dump.payments]).to.deep.equal([{}, {}, {}]);
  });

  it("echoes or generates request ids, in headers and error bodies", async function () {
    const mine = await call("/v1/nothing", { headers: { "x-request-id": "abc-123" } });
    expect(mine.headers.get("x-request-id")).to.equal("abc-123");
    expect((mine.body as { error: { requestId: string } }).error.requestId).to.equal("abc-123");
    const generated = await call("/v1/nothing", { headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    expect(logLines.some((l) => l.includes('"requestId":"abc-123"'))).to.equal(true);
  });

  it("CORS: allowed origins get the headers and preflights; others do not", async function () {
    const pre = await fetch(`${node.url}/v1/merchants/me`, { method: "OPTIONS", headers: { origin: "https://wallet.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" } });
    expect(pre.status).to.equal(204);
    expect(pre.headers.get("access-control-allow-origin")).to.equal("https://wallet.example");
    expect(pre.headers.get("access-control-allow-headers")).to.include("authorization");
    const get = await fetch(`${node.url}/v1/network`, { headers: { origin: "https://wallet.example" } });
    expect(get.headers.get("access-control-allow-origin")).to.equal("https://wallet.example");
    const evil = await fetch(`${node.url}/v1/network`, { headers: { origin: "https://evil.example" } });
    expect(evil.headers.get("access-control-allow-origin")).to.equal(null);
    const evilPre = await fetch(`${node.url}/v1/network`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
    expect(evilPre.status).to.equal(403);
  });

  it("/metrics: Prometheus text with the indexer, relayer and request latency series", async function () {
    await call("/v1/network");
    const res = await fetch(`${node.url}/metrics`);
    expect(res.headers.get("content-type")).to.match(/^text\/plain; version=0.0.4/);
    const text = await res.text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("oriole_indexed_block")).to.equal(node.status().indexedBlock);
    expect(value("oriole_indexer_lag_blocks")).to.be.at.least(0);
    expect(value("oriole_reorgs_total")).to.equal(0);
    expect(value("oriole_relayer_queue_length")).to.equal(0);
    expect(value("oriole_sse_clients")).to.equal(0);
    expect(value("oriole_webhook_queue_depth")).to.equal(0);
    for (const outcome of ["delivered", "retry", "failed", "cancelled"]) expect(text).to.match(new RegExp(`^oriole_webhook_deliveries_total\\{outcome="${outcome}"\\} 0$`, "m"));
    expect(text).to.match(/^oriole_http_request_duration_seconds_count\{route="\/v1\/network",method="GET",status="200"\} [1-9]\d*$/m);
    expect(text).to.match(/^oriole_http_request_duration_seconds_bucket\{route="\/v1\/merchants\/:id",method="GET",status="403",le="\+Inf"\} 1$/m);
    const delays = ["0.5", "0.99", "0.999", "1"].map((q) => Number(new RegExp(`^oriole_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)$`, "m").exec(text)?.[1]));
    for (const d of delays) expect(d).to.be.within(0, 60);
    expect([...delays].sort((x, y) => x - y)).to.deep.equal(delays);
    for (const line of text.trim().split("\n")) expect(line, line).to.match(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.e+-]+)$/);
  });

  it("/docs: the OpenAPI document as HTML, under a strict CSP", async function () {
    const res = await fetch(`${node.url}/docs`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^text\/html/);
    expect(res.headers.get("content-security-policy")).to.match(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await res.text();
    expect(html).to.include("/v1/merchants/me").and.include("/v1/accounts/{address}/balances");
    expect(html).to.not.match(/<script|https?:\/\/(?!127)/);
  });
});

describe("node: rate limits", function () {
  let devnet: Devnet;
  let node: RunningNode;

  it("RateLimiter: bursts of twice the rate, refills at the rate, says how long to wait, stays bounded", function () {
    let now = 0;
    const rl = new RateLimiter({ perSecond: 2, maxBuckets: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => rl.take("a"))).to.deep.equal([0, 0, 0, 0]);
    expect(rl.take("a")).to.equal(1);
    now += 499;
    expect(rl.take("a")).to.equal(1);
    now += 2;
    expect(rl.take("a")).to.equal(0);
    expect(rl.take("b")).to.equal(0);
    now += 60_000;
    // Full again after a minute, never above the burst.
    expect([1, 2, 3, 4, 5].map(() => rl.take("a"))).to.deep.equal([0, 0, 0, 0, 1]);
    for (const k of ["c", "d", "e", "f"]) expect(rl.take(k)).to.equal(0);
    expect(new RateLimiter({ perSecond: 0 }).take("x")).to.equal(0);
    const slow = new RateLimiter({ perSecond: 0.1, now: () => now });
    slow.take("z");
    expect(slow.take("z")).to.equal(10);
  });

  before(async function () {
    devnet = await startDevnet({ fund: [] });
    node = await startDevnetNode(devnet, { adminToken: "test-admin-token-0123456789", rateLimitPerIp: 1, rateLimitPerKey: 2 });
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  it("429 rate_limited with Retry-After per IP, and a merchant key has its own bucket; never a 5xx", async function () {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${node.url}/v1/network`);
      statuses.push(res.status);
      if (res.status === 429 && !limited) limited = res;
      else await res.arrayBuffer();
    }
    // A burst of 2, then 1 per second: however slow this machine, most of 30 requests are refused.
    expect(statuses.slice(0, 2), statuses.join(",")).to.deep.equal([200, 200]);
    expect(statuses.filter((s) => s === 429).length, statuses.join(",")).to.be.greaterThan(15);
    expect(statuses.every((s) => s === 200 || s === 429)).to.equal(true);
    expect(limited?.headers.get("retry-after")).to.match(/^[1-9]\d*$/);
    expect(((await limited?.json()) as { error: { code: string } }).error.code).to.equal("rate_limited");
    // Probes are never limited.
    for (let i = 0; i < 5; i++) expect((await fetch(`${node.url}/healthz`)).status).to.equal(200);

    // The admin is limited as its IP: it gets through once the bucket refills.
    let created: Response | undefined;
    for (let i = 0; i < 50 && created?.status !== 201; i++) {
      created = await fetch(`${node.url}/v1/merchants`, { method: "POST", headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" }, body: JSON.stringify({ name: "M", payout: ACCOUNTS[0] }) });
      expect(created.status).to.be.oneOf([201, 429]);
      if (created.status === 429) await new Promise((r) => setTimeout(r, 200));
    }
    expect(created?.status).to.equal(201);
    const { apiKey } = (await created?.json()) as { apiKey: string };
    // A valid merchant key has its own bucket (burst 4) while the IP's is empty…
    const keyed: number[] = [];
    for (let i = 0; i < 4; i++) keyed.push((await fetch(`${node.url}/v1/merchants/me`, { headers: { authorization: `Bearer ${apiKey}` } })).status);
    expect(keyed, keyed.join(",")).to.deep.equal([200, 200, 200, 200]);
    for (let i = 0; i < 30; i++) keyed.push((await fetch(`${node.url}/v1/merchants/me`, { headers: { authorization: `Bearer ${apiKey}` } })).status);
    expect(keyed.filter((s) => s === 429).length, keyed.join(",")).to.be.greaterThan(10);
    // …and made-up keys do not escape the IP's bucket.
    const fake: number[] = [];
    for (let i = 0; i < 15; i++) fake.push((await fetch(`${node.url}/v1/network`, { headers: { authorization: `Bearer ok_live_${i.toString(16).padStart(32, "0")}` } })).status);
    expect(fake.filter((s) => s === 429).length, fake.join(",")).to.be.greaterThan(5);
  });
});
