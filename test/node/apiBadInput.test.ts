import { createHash } from "node:crypto";
import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { fundedRelayerKey } from "../relayer/fixtures.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { encodeCursor, ListCursor, merchantCursor } from "../../node/src/api/params.ts";
import { refundCursor } from "../../node/src/refunds/refunds.ts";
import { ACCOUNTS } from "./fixtures.ts";

/**
 * Bad input, everywhere: every refusal is a 4xx with a stable code, leaves
 * the store (derived state, merchants, relayer records) exactly as it was,
 * and no input at all makes the node answer 5xx.
 */

const ADMIN = "bad-input-admin-token-0123456789";

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

describe("node: API bad input (4xx with a code, no state change, never 5xx)", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let node: RunningNode;
  let keyA: string;
  let keyB: string;
  let idA: string;
  let idB: string;
  let paths: Record<string, Record<string, unknown>>;

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    const usd = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await devnet.connection.ethers.getSigner(ACCOUNTS[0]));
    for (let i = 0; i < 3; i++) await (await usd.transfer(ACCOUNTS[1], 100n + BigInt(i))).wait();
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    node = await startDevnetNode(devnet, { relayerKey, adminToken: ADMIN });
    await node.waitForIndexed(Number(await jsonRpcRequest(devnet.chain.rpcUrl, "eth_blockNumber")));
    const made = async (name: string, payout: string): Promise<{ id: string; key: string }> => {
      const res = await fetch(`${node.url}/v1/merchants`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ name, payout }) });
      expect(res.status).to.equal(201);
      const body = (await res.json()) as { merchant: { id: string }; apiKey: string };
      return { id: body.merchant.id, key: body.apiKey };
    };
    ({ id: idA, key: keyA } = await made("A", ACCOUNTS[2]));
    ({ id: idB, key: keyB } = await made("B", ACCOUNTS[3]));
    paths = ((await (await fetch(`${node.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }).paths;
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  /** A digest of everything the node stores: derived state, merchants, the relayer's records. */
  async function stateDigest(): Promise<string> {
    const h = createHash("sha256").update((await node.store.dump()).digest);
    for (const sub of [node.store.merchantSublevel(), node.store.relayerSublevel(), node.store.invoiceSublevel()]) {
      for (const [k, v] of await sub.iterator().all()) h.update(`${k}\u0000${v}\u0000`);
    }
    return h.digest("hex");
  }

  async function send(p: string, init: RequestInit = {}): Promise<Answer> {
    const res = await fetch(`${node.url}${p}`, { ...init, redirect: "manual" });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** A 4xx JSON error with the given (or any) code. */
  function expectRefused(a: Answer, what: string, code?: string | RegExp, status?: number): void {
    expect(a.status, `${what}: ${a.text.slice(0, 300)}`).to.be.within(400, 499);
    if (status !== undefined) expect(a.status, what).to.equal(status);
    const body = JSON.parse(a.text) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code, what).to.be.a("string").and.match(/^[a-z_]+$/);
    expect(body.error.message, what).to.be.a("string").and.not.equal("");
    expect(body.error.requestId, what).to.equal(a.headers.get("x-request-id"));
    if (code instanceof RegExp) expect(body.error.code, what).to.match(code);
    else if (code !== undefined) expect(body.error.code, what).to.equal(code);
  }

  const BAD_ADDRESSES = [
    "0x",
    "0x123",
    "1234567890123456789012345678901234567890",
    `0x${"g".repeat(40)}`,
    `0x${"a".repeat(41)}`,
    `0x${"a".repeat(39)}`,
    // Mixed case with a wrong checksum.
    ACCOUNTS[0].replace("c", "C").replace("7", "7"),
    `${ACCOUNTS[0]} `,
    "0x%00" + "a".repeat(38),
    "%E2%82%AC",
    "a".repeat(3000),
    "null",
    "-1",
  ];

  it("malformed addresses: invalid_address on every address path, and in a merchant's payout", async function () {
    const before = await stateDigest();
    for (const a of BAD_ADDRESSES) {
      for (const tmpl of ["/v1/accounts/{a}/balances", "/v1/accounts/{a}/payments", "/v1/accounts/{a}/next-nonce"]) {
        const p = tmpl.replace("{a}", encodeURIComponent(a).replace(/%25/g, "%"));
        const res = await send(p);
        expectRefused(res, p, /^(invalid_address|not_found|bad_request)$/);
      }
      const res = await send("/v1/merchants", { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ name: "x", payout: a }) });
      expectRefused(res, `payout ${a}`, "invalid_address", 400);
    }
    // The wrong-checksum case is really mixed case and really wrong.
    expect(BAD_ADDRESSES[6]).to.not.equal(ACCOUNTS[0]);
    expect(await stateDigest()).to.equal(before);
  });

  it("malformed amounts and numbers in an intent, and limits: invalid_request / invalid_limit", async function () {
    const before = await stateDigest();
    const intent = (amount: unknown) => ({
      account: ACCOUNTS[2],
      intent: { token: devnet.deployment.contracts.tokens.USD, to: ACCOUNTS[3], amount, reference: `0x${"11".repeat(32)}`, nonce: "1", deadline: "9999999999", maxRelayerFee: "10000" },
      signature: `0x${"00".repeat(64)}`,
    });
    for (const amount of ["1.5", "-1", "1e6", "", " 1", "0x10", "01", 1, null, "9".repeat(100), "１"]) {
      const res = await send("/v1/intents", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(intent(amount)) });
      expectRefused(res, `amount ${JSON.stringify(amount)}`, "invalid_request", 400);
    }
    for (const limit of ["0", "101", "-1", "1.5", "abc", "1e2", "", "%20", "1000000000000"]) {
      expectRefused(await send(`/v1/accounts/${ACCOUNTS[1]}/payments?limit=${limit}`), `limit ${limit}`, "invalid_limit", 400);
      expectRefused(await send(`/v1/merchants?limit=${limit}`, { headers: { authorization: `Bearer ${ADMIN}` } }), `merchants limit ${limit}`, "invalid_limit", 400);
    }
    expectRefused(await send(`/v1/accounts/${ACCOUNTS[1]}/payments?limit=1&limit=2`), "repeated limit", "invalid_limit", 400);
    expect(await stateDigest()).to.equal(before);
  });

  it("malformed cursors: invalid_cursor, and one endpoint's cursor is not another's", async function () {
    const before = await stateDigest();
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    const bad = ["x/y", "!!!", "", b64("p1:1:2:3"), b64("p1:-1:0"), b64("p1:01:0"), b64("p2:1:0"), b64("m1:mer_zz"), `${encodeCursor({ blockNumber: 5, logIndex: 1 })}=`, "A".repeat(65), b64(`p1:${"9".repeat(13)}:0`)];
    for (const c of bad) {
      expectRefused(await send(`/v1/accounts/${ACCOUNTS[1]}/payments?cursor=${encodeURIComponent(c)}`), `cursor ${c}`, "invalid_cursor", 400);
      expectRefused(await send(`/v1/payments?reference=0x${"11".repeat(32)}&cursor=${encodeURIComponent(c)}`), `ref cursor ${c}`, "invalid_cursor", 400);
      expectRefused(await send(`/v1/merchants?cursor=${encodeURIComponent(c)}`, { headers: { authorization: `Bearer ${ADMIN}` } }), `merchant cursor ${c}`, "invalid_cursor", 400);
    }
    expectRefused(await send(`/v1/accounts/${ACCOUNTS[1]}/payments?cursor=${merchantCursor.encode(idA)}`), "merchant cursor on payments", "invalid_cursor", 400);
    expectRefused(await send(`/v1/merchants?cursor=${encodeCursor({ blockNumber: 5, logIndex: 1 })}`, { headers: { authorization: `Bearer ${ADMIN}` } }), "payments cursor on merchants", "invalid_cursor", 400);
    expectRefused(await send(`/v1/payments?reference=0x${"11".repeat(31)}`), "short reference", "invalid_reference", 400);
    expect(await stateDigest()).to.equal(before);
  });

  it("ids and cursors of every resource: the resource's invalid_* code, and a list takes only its own cursors", async function () {
    const before = await stateDigest();
    const merchant = { headers: { authorization: `Bearer ${keyA}` } };
    const ids: [string, string][] = [
      ["/v1/intents/{id}", "invalid_request"],
      ["/v1/merchants/{id}", "invalid_merchant_id"],
      ["/v1/invoices/{id}", "invalid_invoice_id"],
      ["/v1/invoices/{id}/qr", "invalid_invoice_id"],
      ["/v1/invoices/{id}/ndef", "invalid_invoice_id"],
      ["/v1/refunds/{id}", "invalid_refund_id"],
      ["/v1/escrows/{id}", "invalid_escrow_id"],
      ["/v1/escrows/fundings/{id}", "invalid_call_id"],
      ["/v1/offline/reservations/{id}", "invalid_call_id"],
      ["/v1/offline/withdrawals/{id}", "invalid_call_id"],
      ["/v1/payment-requests/{id}", "invalid_reference"],
    ];
    for (const [tmpl, code] of ids) {
      for (const bad of ["nope", "0x12", `0x${"g".repeat(64)}`, "mer_0", `inv_${"0".repeat(15)}`, `rfd_${"A".repeat(16)}`]) {
        const auth = tmpl.startsWith("/v1/merchants/") ? { headers: { authorization: `Bearer ${ADMIN}` } } : merchant;
        expectRefused(await send(tmpl.replace("{id}", bad), auth), `${tmpl} ${bad}`, code, 400);
      }
    }
    // A cursor of each kind this node issues, and the lists that take it.
    const position = encodeCursor({ blockNumber: 1, logIndex: 0 });
    const cursors: Record<string, string> = {
      position,
      merchant: merchantCursor.encode(idA),
      invoice: new ListCursor("v1", /^.*$/).encode(`${idA}!${"0".repeat(16)}`),
      refund: refundCursor.encode(`${"0".repeat(15)}!rfd_${"0".repeat(16)}`),
      delivery: "5",
    };
    const lists: [string, string, RequestInit][] = [
      [`/v1/accounts/${ACCOUNTS[1]}/payments`, "position", {}],
      [`/v1/payments?reference=0x${"11".repeat(32)}&`, "position", {}],
      [`/v1/accounts/${ACCOUNTS[1]}/escrows`, "position", {}],
      ["/v1/merchants", "merchant", { headers: { authorization: `Bearer ${ADMIN}` } }],
      ["/v1/invoices", "invoice", merchant],
      ["/v1/refunds", "refund", merchant],
      ["/v1/merchants/me/webhook/deliveries", "delivery", merchant],
    ];
    for (const [list, own, init] of lists) {
      const url = (c: string): string => `${list}${list.endsWith("&") ? "" : "?"}cursor=${encodeURIComponent(c)}`;
      expect((await send(url(cursors[own] ?? ""), init)).status, `${list} with its own cursor`).to.equal(200);
      for (const [kind, c] of Object.entries(cursors)) {
        if (kind !== own) expectRefused(await send(url(c), init), `${list} with a ${kind} cursor`, "invalid_cursor", 400);
      }
      expectRefused(await send(`${url(cursors[own] ?? "")}&cursor=${encodeURIComponent(cursors[own] ?? "")}`, init), `${list}: cursor twice`, /^(invalid_cursor|unknown_parameter)$/, 400);
    }
    expect(await stateDigest()).to.equal(before);
  });

  it("huge or invalid JSON, wrong content types, unknown fields: refused before anything is written", async function () {
    const before = await stateDigest();
    const auth = { authorization: `Bearer ${ADMIN}` };
    const json = { ...auth, "content-type": "application/json" };
    const cases: [string, RequestInit, string, number][] = [
      ["invalid JSON", { headers: json, body: "{name:" }, "invalid_request", 400],
      ["truncated JSON", { headers: json, body: '{"name": "x", "payout": "' }, "invalid_request", 400],
      ["JSON array", { headers: json, body: "[]" }, "invalid_request", 400],
      ["JSON null", { headers: json, body: "null" }, "invalid_request", 400],
      ["JSON string", { headers: json, body: '"x"' }, "invalid_request", 400],
      ["empty body", { headers: json, body: "" }, "invalid_request", 400],
      ["deep nesting", { headers: json, body: "[".repeat(5000) + "]".repeat(5000) }, "invalid_request", 400],
      ["huge body", { headers: json, body: JSON.stringify({ name: "x".repeat(1_000_000), payout: ACCOUNTS[2] }) }, "invalid_request", 413],
      ["text/plain", { headers: { ...auth, "content-type": "text/plain" }, body: JSON.stringify({ name: "x", payout: ACCOUNTS[2] }) }, "invalid_request", 400],
      ["form", { headers: { ...auth, "content-type": "application/x-www-form-urlencoded" }, body: `name=x&payout=${ACCOUNTS[2]}` }, "invalid_request", 400],
      ["no content type", { headers: auth, body: new Blob([JSON.stringify({ name: "x", payout: ACCOUNTS[2] })]) }, "invalid_request", 400],
      ["unknown field", { headers: json, body: JSON.stringify({ name: "x", payout: ACCOUNTS[2], admin: true }) }, "unknown_field", 400],
      ["prototype pollution", { headers: json, body: '{"name":"x","payout":"' + ACCOUNTS[2] + '","__proto__":{"admin":true}}' }, "unknown_field", 400],
      ["missing payout", { headers: json, body: JSON.stringify({ name: "x" }) }, "invalid_request", 400],
      ["empty name", { headers: json, body: JSON.stringify({ name: "  ", payout: ACCOUNTS[2] }) }, "invalid_request", 400],
      ["long name", { headers: json, body: JSON.stringify({ name: "x".repeat(101), payout: ACCOUNTS[2] }) }, "invalid_request", 400],
      ["control chars in name", { headers: json, body: JSON.stringify({ name: "a\u0000b", payout: ACCOUNTS[2] }) }, "invalid_request", 400],
      ["number name", { headers: json, body: JSON.stringify({ name: 5, payout: ACCOUNTS[2] }) }, "invalid_request", 400],
      ["bad charset", { headers: { ...auth, "content-type": "application/json; charset=klingon" }, body: "{}" }, "invalid_request", 400],
    ];
    for (const [what, init, code, status] of cases) {
      expectRefused(await send("/v1/merchants", { method: "POST", ...init }), what, code, status);
      const intentInit = { ...init, headers: { ...(init.headers as Record<string, string>), authorization: "" } };
      expectRefused(await send("/v1/intents", { method: "POST", ...intentInit }), `intent: ${what}`, /^(invalid_request|unknown_field)$/);
    }
    expectRefused(await send("/v1/merchants?x=1", { method: "POST", headers: json, body: JSON.stringify({ name: "x", payout: ACCOUNTS[2] }) }), "unknown query parameter", "unknown_parameter", 400);
    expectRefused(await send(`/v1/accounts/${ACCOUNTS[1]}/balances?currency=USD`), "unknown query parameter on a GET", "unknown_parameter", 400);
    expect(await stateDigest()).to.equal(before);
  });

  it("every JSON body endpoint: a wrong content type, a body that is not an object, an unknown field: 400 with a stable code", async function () {
    const before = await stateDigest();
    const usd = devnet.deployment.contracts.tokens.USD;
    const b32 = `0x${"11".repeat(32)}`;
    const sig = `0x${"00".repeat(65)}`;
    const merchant = { authorization: `Bearer ${keyA}` };
    // Each body has the endpoint's shape (so that only the extra field is wrong); none is ever sent as is.
    const endpoints: { method: string; path: string; headers: Record<string, string>; body: Record<string, unknown>; unknownFieldCode?: string }[] = [
      { method: "POST", path: "/v1/merchants", headers: { authorization: `Bearer ${ADMIN}` }, body: { name: "x", payout: ACCOUNTS[2] } },
      { method: "POST", path: "/v1/invoices", headers: { ...merchant, "idempotency-key": "k-shape" }, body: { amount: "1", currency: "USD", description: "x" } },
      { method: "POST", path: "/v1/refunds", headers: { ...merchant, "idempotency-key": "k-shape" }, body: { payment: `${b32}:0`, amount: "1" } },
      { method: "PUT", path: "/v1/merchants/me/webhook", headers: merchant, body: { url: "https://example.com/hook" } },
      { method: "POST", path: "/v1/escrows/actions", headers: {}, body: { action: { signer: ACCOUNTS[2], action: "release", escrowId: b32, nonce: "1", deadline: "9999999999" }, signature: sig } },
      {
        method: "POST",
        path: "/v1/escrows/fundings",
        headers: {},
        body: { buyer: ACCOUNTS[2], terms: { token: usd, merchant: ACCOUNTS[3], amount: "1", orderId: b32, releaseTimeout: 60, disputeWindow: 60 }, validAfter: "0", validBefore: "9999999999", signature: sig },
      },
      { method: "POST", path: "/v1/offline/reservations", headers: {}, body: { from: ACCOUNTS[2], token: usd, amount: "1", validAfter: "0", validBefore: "9999999999", nonce: b32, signature: sig } },
      { method: "POST", path: "/v1/offline/withdrawals", headers: {}, body: { payer: ACCOUNTS[2], token: usd, amount: "1", nonce: "0", deadline: "9999999999", signature: sig } },
      { method: "POST", path: "/v1/offline/withdrawals/complete", headers: {}, body: { payer: ACCOUNTS[2], token: usd } },
      // The relayer names an unknown field in its own invalid_request (node/README.md, "Relayer").
      {
        method: "POST",
        path: "/v1/intents",
        headers: {},
        body: { account: ACCOUNTS[2], intent: { token: usd, to: ACCOUNTS[3], amount: "1", reference: b32, nonce: "1", deadline: "9999999999", maxRelayerFee: "10000" }, signature: sig },
        unknownFieldCode: "invalid_request",
      },
    ];
    // Every body-taking operation of the OpenAPI document is here.
    const withBodies = Object.entries(paths).flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => (op as { requestBody?: unknown }).requestBody !== undefined).map(([m]) => `${m.toUpperCase()} ${p}`));
    expect(endpoints.map((e) => `${e.method} ${e.path}`)).to.have.members(withBodies);
    for (const e of endpoints) {
      const text = JSON.stringify(e.body);
      const cases: [string, Record<string, string>, BodyInit, string][] = [
        ["text/plain", { "content-type": "text/plain" }, text, "invalid_request"],
        ["a form", { "content-type": "application/x-www-form-urlencoded" }, "a=1", "invalid_request"],
        ["no content type", {}, new Blob([text]), "invalid_request"],
        ...["[]", "null", '"x"', "5", "true", "[{}]"].map((body): [string, Record<string, string>, BodyInit, string] => [`JSON ${body}`, { "content-type": "application/json" }, body, "invalid_request"]),
        ["an unknown field", { "content-type": "application/json" }, JSON.stringify({ ...e.body, extra: 1 }), e.unknownFieldCode ?? "unknown_field"],
      ];
      for (const [what, headers, body, code] of cases) {
        expectRefused(await send(e.path, { method: e.method, headers: { ...e.headers, ...headers }, body }), `${e.method} ${e.path}: ${what}`, code, 400);
      }
    }
    expect(await stateDigest()).to.equal(before);
  });

  it("a wrong API key, another merchant's key, a merchant key where the admin token is needed", async function () {
    const before = await stateDigest();
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    for (const [what, headers] of [
      ["no header", {}],
      ["wrong key", { authorization: `Bearer ok_live_${"0".repeat(32)}` }],
      ["key of the wrong shape", { authorization: "Bearer ok_live_xyz" }],
      ["admin token as a merchant key", { authorization: `Bearer ${ADMIN}` }],
      ["basic auth", { authorization: `Basic ${Buffer.from(`x:${keyA}`).toString("base64")}` }],
      ["empty bearer", { authorization: "Bearer " }],
      ["key with a suffix", { authorization: `Bearer ${keyA}x` }],
      ["key upper-cased", { authorization: `Bearer ${keyA.toUpperCase()}` }],
      ["huge header", { authorization: `Bearer ${"k".repeat(8000)}` }],
    ] as [string, Record<string, string>][]) {
      for (const p of ["/v1/merchants/me", "/v1/refunds", `/v1/refunds/rfd_${"0".repeat(16)}`, "/v1/merchants/me/reports/daily?date=2030-01-01"]) {
        const res = await send(p, { headers });
        expectRefused(res, `${what} ${p}`, "unauthorized", 401);
        expect(res.headers.get("www-authenticate"), what).to.match(/^Bearer/);
      }
      const post = await send("/v1/refunds", { method: "POST", headers: { ...headers, "content-type": "application/json", "idempotency-key": "k" }, body: JSON.stringify({ payment: `0x${"11".repeat(32)}:0`, amount: "1" }) });
      expectRefused(post, `${what} POST /v1/refunds`, "unauthorized", 401);
    }
    expectRefused(await send(`/v1/merchants/${idA}`, as(keyB)), "B reads A", "forbidden", 403);
    expectRefused(await send(`/v1/merchants/${idB}`, as(keyA)), "A reads B", "forbidden", 403);
    expectRefused(await send(`/v1/merchants/mer_${"0".repeat(16)}`, as(keyA)), "A probes an unknown id", "forbidden", 403);
    expectRefused(await send(`/v1/merchants/mer_${"0".repeat(16)}`, as(ADMIN)), "admin: unknown id", "merchant_not_found", 404);
    expectRefused(await send("/v1/merchants/nope", as(ADMIN)), "admin: malformed id", "invalid_merchant_id", 400);
    expectRefused(await send("/v1/merchants", as(keyA)), "a merchant lists merchants", "forbidden", 403);
    expectRefused(
      await send("/v1/merchants", { method: "POST", headers: { authorization: `Bearer ${keyA}`, "content-type": "application/json" }, body: JSON.stringify({ name: "x", payout: ACCOUNTS[2] }) }),
      "a merchant creates a merchant",
      "forbidden",
      403,
    );
    expectRefused(
      await send("/v1/merchants", { method: "POST", headers: { authorization: `Bearer ${ADMIN}x`, "content-type": "application/json" }, body: JSON.stringify({ name: "x", payout: ACCOUNTS[2] }) }),
      "a wrong admin token",
      "unauthorized",
      401,
    );
    // Their own, still.
    expect((await send(`/v1/merchants/${idA}`, as(keyA))).status).to.equal(200);
    expect(await stateDigest()).to.equal(before);
  });

  it("invoices: idempotency key, amount, currency, expiry, unknown fields, status, cursor, ownership", async function () {
    const before = await stateDigest();
    const post = (body: unknown, key: string | null, token = keyA) =>
      send("/v1/invoices", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(key === null ? {} : { "idempotency-key": key }) }, body: JSON.stringify(body) });
    const ok = { amount: "100", currency: "USD", description: "x", expiresInSec: 60 };
    const cases: [string, unknown, string | null, string][] = [
      ["no idempotency key", ok, null, "idempotency_key_required"],
      ["an empty idempotency key", ok, "", "idempotency_key_required"],
      ["a key with spaces", ok, "a b", "invalid_idempotency_key"],
      ["a huge key", ok, "k".repeat(256), "invalid_idempotency_key"],
      ...["1.5", "-1", "0", "1e6", "", " 1", "0x10", "01", "9".repeat(60)].map((amount): [string, unknown, string | null, string] => [`amount ${amount}`, { ...ok, amount }, "k-1", "invalid_amount"]),
      ["amount as a number", { ...ok, amount: 100 }, "k-1", "invalid_request"],
      ["unknown currency", { ...ok, currency: "GBP" }, "k-1", "invalid_currency"],
      ["lowercase currency", { ...ok, currency: "usd" }, "k-1", "invalid_currency"],
      ["zero expiry", { ...ok, expiresInSec: 0 }, "k-1", "invalid_expiry"],
      ["fractional expiry", { ...ok, expiresInSec: 1.5 }, "k-1", "invalid_expiry"],
      ["expiry too far", { ...ok, expiresInSec: 2_592_001 }, "k-1", "invalid_expiry"],
      ["both expiries", { ...ok, expiresAt: "2099-01-01T00:00:00Z" }, "k-1", "invalid_expiry"],
      ["past expiresAt", { amount: "1", currency: "USD", description: "x", expiresAt: "2000-01-01T00:00:00Z" }, "k-1", "invalid_expiry"],
      ["expiresAt without zone", { amount: "1", currency: "USD", description: "x", expiresAt: "2099-01-01T00:00:00" }, "k-1", "invalid_expiry"],
      ["unknown field", { ...ok, payee: ACCOUNTS[0] }, "k-1", "unknown_field"],
      ["control chars", { ...ok, description: "a\u0000b" }, "k-1", "invalid_request"],
      ["empty order id", { ...ok, orderId: "" }, "k-1", "invalid_request"],
      ["missing description", { amount: "1", currency: "USD" }, "k-1", "invalid_request"],
      ["array body", [], "k-1", "invalid_request"],
    ];
    for (const [what, body, key, code] of cases) expectRefused(await post(body, key), what, code, 400);
    expectRefused(await post(ok, "k-1", ADMIN), "the admin token", "unauthorized", 401);
    const auth = { headers: { authorization: `Bearer ${keyA}` } };
    expectRefused(await send("/v1/invoices?status=done", auth), "bad status", "invalid_status", 400);
    for (const c of ["x/y", Buffer.from(`v1:${idB}!0000000000000001`).toString("base64url"), encodeCursor({ blockNumber: 1, logIndex: 0 }), Buffer.from("v1:nope").toString("base64url")]) {
      expectRefused(await send(`/v1/invoices?cursor=${encodeURIComponent(c)}`, auth), `cursor ${c}`, "invalid_cursor", 400);
    }
    expectRefused(await send("/v1/invoices/nope", auth), "malformed id", "invalid_invoice_id", 400);
    expectRefused(await send(`/v1/invoices/inv_${"0".repeat(16)}`, auth), "unknown id", "invoice_not_found", 404);
    expectRefused(await send(`/v1/invoices/inv_${"0".repeat(16)}/qr?format=gif`, auth), "bad format", "invalid_format", 400);
    expectRefused(await send(`/v1/invoices/inv_${"0".repeat(16)}/qr?format=png&size=5000`, auth), "bad size", "invalid_size", 400);
    expect(await stateDigest()).to.equal(before);
    // An invoice of A is invisible to B; the same key with another body is a 409, and neither changes anything.
    const created = await post(ok, "k-owned");
    expect(created.status).to.equal(201);
    const id = (JSON.parse(created.text) as { id: string }).id;
    const afterCreate = await stateDigest();
    expectRefused(await post({ ...ok, amount: "101" }, "k-owned"), "reused key", "idempotency_conflict", 409);
    for (const p of [`/v1/invoices/${id}`, `/v1/invoices/${id}/qr?format=png`, `/v1/invoices/${id}/ndef`]) expectRefused(await send(p, { headers: { authorization: `Bearer ${keyB}` } }), `B reads ${p}`, "invoice_not_found", 404);
    expect(await stateDigest()).to.equal(afterCreate);
  });

  it("scans every route of the OpenAPI document with garbage: never a 5xx, every refusal a coded 4xx", async function () {
    const before = await stateDigest();
    const garbageSegments = ["x", "%00", "%ff", "..", "%2e%2e%2f", "0x" + "z".repeat(40), "a".repeat(2000), "mer_%20", "%E2%80%AE", "-1", "null"];
    const garbageQueries = ["", "?limit=-1", "?cursor=%ff", "?reference=0x", "?a[b]=1", "?limit=1&limit=1", "?" + "x=1&".repeat(500), "?%=%", "?cursor=" + "A".repeat(5000)];
    const bodies: (string | undefined)[] = [undefined, "{", '{"a":1}', "[]", "x".repeat(20_000)];
    const headerSets: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${keyA}` },
      { authorization: `Bearer ${ADMIN}` },
      { authorization: "Bearer \u00ff" },
      { "content-type": "application/json" },
      { "content-type": "application/json; charset=utf-16" },
      { "x-request-id": "x".repeat(500) },
      { "last-event-id": "-1" },
      { origin: "https://evil.example" },
    ];
    const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
    let requests = 0;
    const templates = Object.keys(paths);
    expect(templates).to.include.members(["/v1/merchants", "/v1/merchants/me", "/v1/accounts/{address}/balances", "/v1/intents"]);
    for (const tmpl of templates) {
      const concrete = [...garbageSegments.map((g) => tmpl.replace(/\{[^}]+\}/g, g)), tmpl.replace(/\{address\}/g, ACCOUNTS[1]).replace(/\{id\}/g, idA)];
      for (const [i, p] of [...new Set(concrete)].entries()) {
        for (const method of methods) {
          const q = garbageQueries[(i + method.length) % garbageQueries.length] ?? "";
          const headers = headerSets[(i * 7 + method.length) % headerSets.length] ?? {};
          const body = method === "GET" || method === "HEAD" ? undefined : bodies[(i + method.length) % bodies.length];
          const res = await send(`${p}${q}`, { method, headers, ...(body === undefined ? {} : { body }) });
          requests++;
          const what = `${method} ${p.slice(0, 80)}${q.slice(0, 40)} ${JSON.stringify(headers).slice(0, 60)}`;
          expect(res.status, `${what}: ${res.text.slice(0, 200)}`).to.be.below(500);
          if (res.status >= 400 && method !== "HEAD") expectRefused(res, what);
        }
      }
    }
    expect(requests).to.be.greaterThan(400);
    expect(await stateDigest()).to.equal(before);
  });
});
