import { createHash } from "node:crypto";
import http from "node:http";
import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { createMerchant } from "../helpers/merchants.ts";
import { fundedRelayerKey } from "../relayer/fixtures.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { ACCOUNTS } from "./fixtures.ts";

/**
 * Hostile input the other bad-input suites do not send: numbers past a
 * field's range in every money and uint field, HEAD on event streams,
 * webhook URLs that only look valid once a parser cleaned them, and the
 * OpenAPI document checked against what each route answers.
 */

const ADMIN = "hostile-input-admin-token-0123456789";
const B32 = `0x${"11".repeat(32)}`;
const SIG = `0x${"00".repeat(65)}`;
/** 2^256: one past uint256. */
const PAST_UINT256 = (1n << 256n).toString();

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

interface Operation {
  security?: Record<string, unknown>[];
  requestBody?: unknown;
  responses: Record<string, { description?: string }>;
}

describe("node: API hostile input (ranges, HEAD streams, webhook URLs, OpenAPI vs routes)", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let node: RunningNode;
  let keyA: string;
  let escrowRelayer: string;
  let paths: Record<string, Record<string, Operation>>;

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    node = await startDevnetNode(devnet, { relayerKey, adminToken: ADMIN, allowPrivateWebhooks: true });
    await node.waitForIndexed(Number(await jsonRpcRequest(devnet.chain.rpcUrl, "eth_blockNumber")));
    ({ apiKey: keyA } = await createMerchant(node.url, ADMIN, "A", ACCOUNTS[2]));
    const network = (await (await fetch(`${node.url}/v1/network`)).json()) as { escrowRelayer: { address: string } | null };
    expect(network.escrowRelayer).to.not.equal(null);
    escrowRelayer = network.escrowRelayer?.address ?? "";
    paths = ((await (await fetch(`${node.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> }).paths;
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  /** Everything the node stores (derived state, merchants, relayer records, invoices, webhooks) and what its relayers sent. */
  async function stateDigest(): Promise<string> {
    const h = createHash("sha256").update((await node.store.dump()).digest);
    for (const sub of [node.store.merchantSublevel(), node.store.relayerSublevel(), node.store.invoiceSublevel(), node.store.webhookSublevel()]) {
      for (const [k, v] of await sub.iterator().all()) h.update(`${k}\u0000${v}\u0000`);
    }
    h.update(String(await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getTransactionCount", [escrowRelayer, "latest"])));
    return h.digest("hex");
  }

  async function send(p: string, init: RequestInit = {}): Promise<Answer> {
    const res = await fetch(`${node.url}${p}`, { ...init, redirect: "manual" });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  function expectRefused(a: Answer, what: string, code: string, status = 400): void {
    expect(a.status, `${what}: ${a.text.slice(0, 300)}`).to.equal(status);
    const body = JSON.parse(a.text) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code, `${what}: ${body.error.message}`).to.equal(code);
    expect(body.error.message, what).to.be.a("string").and.not.equal("");
    expect(body.error.requestId, what).to.equal(a.headers.get("x-request-id"));
  }

  /** A JSON POST/PUT. */
  const sendJson = (method: string, p: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    send(p, { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  it("every money and uint field of every body: floats, JSON numbers, signs, hex, exponents, leading zeros and values past uint256 are a 400, never a 5xx or a signature error", async function () {
    const before = await stateDigest();
    const usd = devnet.deployment.contracts.tokens.USD;
    const escrow = devnet.deployment.contracts.escrow;
    const deadline = String(Math.floor(Date.now() / 1000) + 3600);
    const merchant = { authorization: `Bearer ${keyA}` };
    const action = (signer: string, a: Record<string, unknown>) => ({ action: { signer, action: "release", escrowId: B32, nonce: "1", deadline, ...a }, signature: SIG });
    const settlement = (signer: string, a: Record<string, unknown>) => action(signer, { action: "offerSettlement", buyerAmount: "1", merchantAmount: "1", ...a });
    const funding = (terms: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
      buyer: ACCOUNTS[2],
      terms: { token: usd, merchant: ACCOUNTS[3], amount: "1", orderId: B32, releaseTimeout: 60, disputeWindow: 60, ...terms },
      validAfter: "0",
      validBefore: deadline,
      signature: SIG,
      ...rest,
    });
    /** [what, method, path, extra headers, body with the value in the field, the code] */
    const fields: [string, string, string, Record<string, string>, (v: unknown) => unknown, string][] = [
      // An EOA signer (ECDSA checked off-chain) and a contract signer (ERC-1271: only the simulation would check it).
      ...(["nonce", "deadline"] as const).flatMap((f) =>
        [ACCOUNTS[2], escrow].map((signer): [string, string, string, Record<string, string>, (v: unknown) => unknown, string] => [`escrow action ${f} (signer ${signer})`, "POST", "/v1/escrows/actions", {}, (v) => action(signer, { [f]: v }), "invalid_request"]),
      ),
      ...(["buyerAmount", "merchantAmount"] as const).flatMap((f) =>
        [ACCOUNTS[2], escrow].map((signer): [string, string, string, Record<string, string>, (v: unknown) => unknown, string] => [`escrow settlement ${f} (signer ${signer})`, "POST", "/v1/escrows/actions", {}, (v) => settlement(signer, { [f]: v }), "invalid_request"]),
      ),
      ["escrow funding amount", "POST", "/v1/escrows/fundings", {}, (v) => funding({ amount: v }), "invalid_request"],
      ["escrow funding validBefore", "POST", "/v1/escrows/fundings", {}, (v) => funding({}, { validBefore: v }), "invalid_request"],
      ["offline reserve amount", "POST", "/v1/offline/reservations", {}, (v) => ({ from: ACCOUNTS[2], token: usd, amount: v, validAfter: "0", validBefore: deadline, nonce: B32, signature: SIG }), "invalid_request"],
      ["offline withdrawal amount", "POST", "/v1/offline/withdrawals", {}, (v) => ({ payer: ACCOUNTS[2], token: usd, amount: v, nonce: "0", deadline, signature: SIG }), "invalid_request"],
      ["offline withdrawal nonce", "POST", "/v1/offline/withdrawals", {}, (v) => ({ payer: ACCOUNTS[2], token: usd, amount: "1", nonce: v, deadline, signature: SIG }), "invalid_request"],
      ["refund amount", "POST", "/v1/refunds", { ...merchant, "idempotency-key": "hostile-refund" }, (v) => ({ payment: `${B32}:0`, amount: v }), "invalid_request"],
      ["invoice amount", "POST", "/v1/invoices", { ...merchant, "idempotency-key": "hostile-invoice" }, (v) => ({ amount: v, currency: "USD", description: "x" }), "invalid_amount"],
    ];
    const bad: unknown[] = [PAST_UINT256, "9".repeat(78), "1.5", "-1", "+1", "0x10", "1e3", "01", " 1", "1 ", "１", "", 1, 1.5, -1, 1e30, null, true, ["1"], { value: "1" }];
    for (const [what, method, p, headers, body, code] of fields) {
      // A refund's amount is checked against its payment (409 refund_exceeds_payment, here 404 payment_not_found): 78 digits are its documented form.
      for (const v of what === "refund amount" ? bad.slice(2) : bad) {
        // A JSON number or another type is a wrong type (invalid_request) everywhere; a malformed string the field's code.
        const expected = typeof v === "string" ? code : "invalid_request";
        // The invoice's amount past 2^128 - 1 is its own range rule, still invalid_amount.
        expectRefused(await sendJson(method, p, body(v), headers), `${what} = ${JSON.stringify(v)}`, expected);
      }
    }
    expect(await stateDigest()).to.equal(before);
  });

  it("HEAD on an event stream answers the stream's headers and ends: no subscriber and no socket is left behind", async function () {
    // A HEAD that never ends is the failure: it shows as this test's timeout.
    this.timeout(30_000);
    const head = (p: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | undefined; body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request(`${node.url}${p}`, { method: "HEAD", headers, agent: false }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            body += c;
          });
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body });
          });
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    for (const [p, headers] of [
      [`/v1/accounts/${ACCOUNTS[1]}/events`, {}],
      [`/v1/accounts/${ACCOUNTS[1]}/events`, { "last-event-id": "0" }],
      ["/v1/merchants/me/events", { authorization: `Bearer ${keyA}` }],
    ] as [string, Record<string, string>][]) {
      const r = await head(p, headers);
      expect(r.status, p).to.equal(200);
      expect(r.type, p).to.match(/^text\/event-stream/);
      expect(r.body, p).to.equal("");
    }
    // Refusals are still refusals.
    expect((await head("/v1/merchants/me/events")).status).to.equal(401);
    expect((await head("/v1/accounts/0x12/events")).status).to.equal(400);
    const metrics = (await send("/metrics")).text;
    expect(metrics).to.match(/^oriole_sse_clients 0$/m);
  });

  it("webhook URLs with spaces, tabs, newlines or control characters are refused, and nothing is stored", async function () {
    const { apiKey } = await createMerchant(node.url, ADMIN, "Hooked", ACCOUNTS[4]);
    const before = await stateDigest();
    const put = (url: string): Promise<Answer> => sendJson("PUT", "/v1/merchants/me/webhook", { url }, { authorization: `Bearer ${apiKey}` });
    // Each is an http(s) URL once new URL() has dropped what it silently ignores.
    for (const url of [" https://example.com/hook", "https://example.com/hook ", "https://exa\nmple.com/hook", "https://example.com/ho\tok", "https://example.com/\rhook", "https://example.com/hook\u0000", "https://example.com/a b", "\u000bhttps://example.com/"]) {
      expect(() => new URL(url), JSON.stringify(url)).to.not.throw();
      expectRefused(await put(url), `url ${JSON.stringify(url)}`, "invalid_request");
    }
    expectRefused(await send("/v1/merchants/me/webhook", { headers: { authorization: `Bearer ${apiKey}` } }), "no webhook was set", "webhook_not_set", 404);
    expect(await stateDigest()).to.equal(before);
    // The clean URL is accepted and stored as sent.
    const ok = await put("https://example.com/hook?x=1");
    expect(ok.status, ok.text).to.equal(200);
    expect((JSON.parse((await send("/v1/merchants/me/webhook", { headers: { authorization: `Bearer ${apiKey}` } })).text) as { url: string }).url).to.equal("https://example.com/hook?x=1");
    expect((await send("/v1/merchants/me/webhook", { method: "DELETE", headers: { authorization: `Bearer ${apiKey}` } })).status).to.equal(204);
  });

  /** A path of the document with its parameters filled in with well-formed values. */
  const concrete = (tmpl: string): string => tmpl.replace("{address}", ACCOUNTS[1]).replace("{reference}", B32).replace("{id}", tmpl.startsWith("/v1/merchants/") ? `mer_${"0".repeat(16)}` : tmpl.startsWith("/v1/invoices/") ? `inv_${"0".repeat(16)}` : tmpl.startsWith("/v1/refunds/") ? `rfd_${"0".repeat(16)}` : B32);

  it("OpenAPI vs routes: each path answers exactly its documented methods (405 with that Allow otherwise)", async function () {
    const before = await stateDigest();
    for (const [tmpl, ops] of Object.entries(paths)) {
      const documented = Object.keys(ops).map((m) => m.toUpperCase());
      const expected = [...documented, ...(documented.includes("GET") ? ["HEAD"] : [])].sort();
      for (const method of ["OPTIONS", "PATCH", ...["GET", "POST", "PUT", "DELETE"].filter((m) => !documented.includes(m))]) {
        const a = await send(concrete(tmpl), { method, headers: { authorization: `Bearer ${ADMIN}` } });
        expectRefused(a, `${method} ${tmpl}`, "method_not_allowed", 405);
        expect((a.headers.get("allow") ?? "").split(", ").sort(), `Allow of ${tmpl}`).to.deep.equal(expected);
      }
    }
    expect(await stateDigest()).to.equal(before);
  });

  it("OpenAPI vs routes: every operation refuses an unknown query parameter with 400 unknown_parameter, and documents that 400", async function () {
    const before = await stateDigest();
    let checked = 0;
    const undocumented: string[] = [];
    for (const [tmpl, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
        const token = schemes.includes("adminToken") ? ADMIN : schemes.includes("merchantKey") ? keyA : undefined;
        const headers: Record<string, string> = { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), "idempotency-key": "hostile-query" };
        const init: RequestInit = op.requestBody === undefined ? { method: method.toUpperCase(), headers } : { method: method.toUpperCase(), headers: { ...headers, "content-type": "application/json" }, body: "{}" };
        const what = `${method.toUpperCase()} ${tmpl}`;
        expectRefused(await send(`${concrete(tmpl)}?hostile=1`, init), what, "unknown_parameter");
        if (!(op.responses["400"]?.description ?? "").includes("unknown_parameter")) undocumented.push(what);
        checked++;
      }
    }
    expect(undocumented, "operations whose document has no 400 unknown_parameter").to.deep.equal([]);
    expect(checked).to.be.greaterThan(40);
    expect(await stateDigest()).to.equal(before);
  });
});
