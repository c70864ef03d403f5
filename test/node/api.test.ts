import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { encodeCursor } from "../../node/src/api/params.ts";
import { ACCOUNTS, getJson } from "./fixtures.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

describe("node: REST API (in-process, hardhat node)", function () {
  let devnet: Devnet;
  let node: RunningNode;
  let head: number;
  let earlyReadyz: { status: number; body: unknown };

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    const usd = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await devnet.connection.ethers.getSigner(ACCOUNTS[0]));
    for (let i = 0; i < 5; i++) await (await usd.transfer(ACCOUNTS[1], 100n + BigInt(i))).wait();
    // Thousands of empty blocks and small ranges: the node needs a moment to catch up.
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_mine", ["0xbb8"]);
    head = Number(await jsonRpcRequest(devnet.chain.rpcUrl, "eth_blockNumber"));
    node = await startDevnetNode(devnet, { maxBlockRange: 5 });
    earlyReadyz = await getJson(`${node.url}/readyz`);
    await node.waitForIndexed(head);
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  const get = (p: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> => getJson(`${node.url}${p}`, init);

  async function expectError(p: string, status: number, code: string, init?: RequestInit): Promise<void> {
    const res = await get(p, init);
    expect(res.status, `${p}: ${JSON.stringify(res.body)}`).to.equal(status);
    expect(res.headers.get("content-type")).to.match(/^application\/json/);
    const body = res.body as ErrorBody;
    expect(Object.keys(body)).to.deep.equal(["error"]);
    expect(body.error.code, p).to.equal(code);
    expect(body.error.message).to.be.a("string").and.not.equal("");
  }

  it("readyz answers 503 catching_up before the indexer reaches the head, 200 after", async function () {
    expect(earlyReadyz.status).to.equal(503);
    const early = earlyReadyz.body as { status: string; indexedBlock: number; headBlock: number | null };
    expect(early.status).to.equal("catching_up");
    expect(early.indexedBlock).to.be.lessThan(head);
    const res = await get("/readyz");
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: "ready", indexedBlock: head, headBlock: head });
    expect((await get("/healthz")).body).to.deep.equal({ status: "ok" });
  });

  it("serves network, balances and payments in their documented shapes", async function () {
    const net = await get("/v1/network");
    const { tokens, accounts, escrow, offlineVault } = devnet.deployment.contracts;
    expect(net.body).to.deep.equal({ chainId: 31337, blockNumber: head, indexedBlock: head, contracts: { tokens, accounts, escrow, offlineVault }, relayer: null, escrowRelayer: null });

    const bal = await get(`/v1/accounts/${ACCOUNTS[1].toLowerCase()}/balances`);
    expect(bal.body).to.deep.equal({ address: ACCOUNTS[1], indexedBlock: head, balances: { USD: "510", CNY: "0", EUR: "0", HKD: "0" } });

    const page = await get(`/v1/accounts/${ACCOUNTS[1].toUpperCase().replace("0X", "0x")}/payments?limit=2`);
    const body = page.body as { items: Record<string, unknown>[]; nextCursor: string | null };
    expect(body.items).to.have.length(2);
    expect(body.items[0]).to.have.all.keys("txHash", "logIndex", "blockNumber", "timestamp", "from", "to", "currency", "amount", "reference", "fee", "kind", "status");
    expect(body.items[0]).to.include({ from: ACCOUNTS[0], to: ACCOUNTS[1], currency: "USD", amount: "104", reference: null, fee: "0", kind: "transfer", status: "confirmed" });
    expect(body.items[0]!.timestamp).to.be.a("number").greaterThan(1_600_000_000);
    expect(body.nextCursor).to.be.a("string").and.match(/^[A-Za-z0-9_-]+$/);

    const unused = "0x000000000000000000000000000000000000dEaD";
    expect((await get(`/v1/accounts/${unused}/balances`)).body).to.deep.equal({ address: unused, indexedBlock: head, balances: { USD: "0", CNY: "0", EUR: "0", HKD: "0" } });
    expect((await get(`/v1/accounts/${unused}/payments`)).body).to.deep.equal({ items: [], nextCursor: null });
  });

  it("/v1/network names the escrow and the offline vault as deployed on the chain, as OpenAPI documents", async function () {
    const contracts = ((await get("/v1/network")).body as { contracts: Record<string, unknown> }).contracts;
    const { ethers } = devnet.connection;
    for (const key of ["escrow", "offlineVault"]) {
      expect(contracts[key], key).to.be.a("string").and.equal(ethers.getAddress(contracts[key] as string)); // checksummed
    }
    // Read back from the chain: the addresses hold the contracts their EIP-712 domains name.
    expect((await (await ethers.getContractAt("OrioleEscrow", contracts.escrow as string)).eip712Domain()).name).to.equal("Oriole Escrow");
    expect((await (await ethers.getContractAt("OfflineVault", contracts.offlineVault as string)).eip712Domain()).name).to.equal("Oriole OfflineVault");
    const doc = (await get("/openapi.json")).body as { components: { schemas: { Network: { properties: { contracts: { required: string[]; properties: Record<string, unknown> } } } } } };
    const documented = doc.components.schemas.Network.properties.contracts;
    expect(documented.required).to.have.members(Object.keys(contracts));
    expect(Object.keys(documented.properties)).to.have.members(Object.keys(contracts));
  });

  it("pages with limit bounds 1 and 100 and the default of 20", async function () {
    const one = (await get(`/v1/accounts/${ACCOUNTS[1]}/payments?limit=1`)).body as { items: unknown[] };
    expect(one.items).to.have.length(1);
    const all = (await get(`/v1/accounts/${ACCOUNTS[0]}/payments?limit=100`)).body as { items: unknown[]; nextCursor: string | null };
    expect(all.items).to.have.length(9); // 4 mints + 5 transfers
    expect(all.nextCursor).to.equal(null);
    const dflt = (await get(`/v1/accounts/${ACCOUNTS[0]}/payments`)).body as { items: unknown[] };
    expect(dflt.items).to.have.length(9);
  });

  it("rejects malformed addresses with 400 invalid_address", async function () {
    for (const bad of [
      "0x123",
      "not-an-address",
      ACCOUNTS[1].slice(2),
      `${ACCOUNTS[1]}00`,
      "0x70997970c51812dc3a010c7d01b50e0d17dc79cG",
      "0x70997970C51812DC3A010C7D01B50E0D17DC79c8", // mixed case with a wrong checksum
      "0x70997970C51812dc3A010C7d01b50e0d17dc79C9",
      "%20",
    ]) {
      await expectError(`/v1/accounts/${bad}/balances`, 400, "invalid_address");
      await expectError(`/v1/accounts/${bad}/payments`, 400, "invalid_address");
    }
  });

  it("rejects bad limits with 400 invalid_limit", async function () {
    for (const bad of ["0", "101", "abc", "1.5", "-1", "", "1e2", "0x10", " 5", "1000000000000000000000", "5&limit=6"]) {
      await expectError(`/v1/accounts/${ACCOUNTS[0]}/payments?limit=${bad}`, 400, "invalid_limit");
    }
  });

  it("rejects cursors it did not issue with 400 invalid_cursor", async function () {
    const good = encodeCursor({ blockNumber: 5, logIndex: 1 });
    expect((await get(`/v1/accounts/${ACCOUNTS[0]}/payments?cursor=${good}`)).status).to.equal(200);
    const b64 = (s: string): string => Buffer.from(s).toString("base64url");
    for (const bad of ["", "abc", "!!!", b64("p1:x:1"), b64("p1:1"), b64("p2:1:1"), b64("p1:01:1"), b64("p1:-1:1"), b64("p1:1:1:1"), `${good}=`, "A".repeat(65), "%00", b64("p1:1000000000000:0")]) {
      await expectError(`/v1/accounts/${ACCOUNTS[0]}/payments?cursor=${bad}`, 400, "invalid_cursor");
    }
    await expectError(`/v1/accounts/${ACCOUNTS[0]}/payments?cursor=${good}&cursor=${good}`, 400, "invalid_cursor");
  });

  it("rejects unknown query parameters with 400 unknown_parameter", async function () {
    await expectError("/v1/network?foo=1", 400, "unknown_parameter");
    await expectError("/healthz?x", 400, "unknown_parameter");
    await expectError(`/v1/accounts/${ACCOUNTS[0]}/balances?limit=5`, 400, "unknown_parameter");
    await expectError(`/v1/accounts/${ACCOUNTS[0]}/payments?limit=5&offset=3`, 400, "unknown_parameter");
    await expectError(`/v1/accounts/${ACCOUNTS[0]}/payments?Limit=5`, 400, "unknown_parameter");
  });

  it("answers unknown routes with 404 not_found, other methods with 405, never with HTML or a 5xx", async function () {
    for (const p of ["/", "/v1", "/v1/networks", "/V1/NETWORK", `/v1/accounts/${ACCOUNTS[0]}`, `/v1/accounts/${ACCOUNTS[0]}/balances/extra`, "/v2/network", "/.env", "/v1/accounts//balances"]) {
      await expectError(p, 404, "not_found");
    }
    await expectError("/v1/network", 405, "method_not_allowed", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    await expectError("/v1/nothing", 404, "not_found", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    await expectError("/healthz", 405, "method_not_allowed", { method: "DELETE" });
    await expectError("/v1/accounts/%E0%A4%A/balances", 400, "bad_request");
    const head = await fetch(`${node.url}/healthz`, { method: "HEAD" });
    expect(head.status).to.equal(200);
    // A 405 names the methods that are allowed (RFC 9110), on every endpoint.
    for (const [p, method, allow] of [["/healthz", "DELETE", "GET, HEAD"], ["/v1/network", "PUT", "GET, HEAD"], ["/v1/intents", "GET", "POST"]] as const) {
      const res = await fetch(`${node.url}${p}`, { method });
      expect(res.status, `${method} ${p}`).to.equal(405);
      expect(res.headers.get("allow"), `${method} ${p}`).to.equal(allow);
    }
  });

  it("survives a burst of junk requests with 4xx JSON errors only", async function () {
    const junk = ["/%", "/%%30", "/v1/accounts/%ff/payments", "/v1/accounts/0x/payments?limit=%ff", "/v1/accounts/0x0/payments?cursor=%", `/v1/accounts/${ACCOUNTS[0]}/payments?limit[]=1`, `/v1/accounts/${ACCOUNTS[0]}/payments?cursor[a]=1`, "/openapi.json?pretty", "/" + "a".repeat(5000)];
    for (const p of junk) {
      const res = await fetch(`${node.url}${p}`);
      const text = await res.text();
      expect(res.status, `${p} -> ${text.slice(0, 200)}`).to.be.within(400, 499);
      const body = JSON.parse(text) as ErrorBody;
      expect(body.error.code).to.be.a("string");
    }
  });

  it("sets x-request-id on every response and echoes a valid incoming one", async function () {
    const a = await get("/v1/network");
    expect(a.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    const b = await get("/v1/nothing", { headers: { "x-request-id": "req-123.abc" } });
    expect(b.headers.get("x-request-id")).to.equal("req-123.abc");
    const c = await get("/healthz", { headers: { "x-request-id": "bad id with spaces" } });
    expect(c.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
  });

  it("serves an OpenAPI 3.1 document describing every endpoint and the error schema", async function () {
    const { status, body } = await get("/openapi.json");
    expect(status).to.equal(200);
    const doc = body as { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).to.equal("3.1.0");
    expect(doc.info.version).to.be.a("string");
    expect(Object.keys(doc.paths)).to.have.members(["/v1/network", "/v1/accounts/{address}/balances", "/v1/accounts/{address}/payments", "/v1/payments", "/v1/intents", "/v1/intents/{id}", "/v1/accounts/{address}/next-nonce", "/healthz", "/readyz", "/openapi.json", "/docs", "/metrics", "/v1/merchants", "/v1/merchants/me", "/v1/merchants/{id}", "/v1/accounts/{address}/events", "/v1/merchants/me/events", "/v1/merchants/me/webhook", "/v1/merchants/me/webhook/deliveries", "/v1/invoices", "/v1/invoices/{id}", "/v1/invoices/{id}/qr", "/v1/invoices/{id}/ndef", "/v1/payment-requests/{reference}", "/v1/refunds", "/v1/refunds/{id}", "/v1/refunds/{id}/cancel", "/v1/merchants/me/reports/daily", "/v1/escrows/actions", "/v1/escrows/fundings", "/v1/escrows/fundings/{id}", "/v1/escrows/{id}", "/v1/accounts/{address}/escrows", "/v1/offline/reserves/{address}", "/v1/offline/reservations", "/v1/offline/reservations/{id}", "/v1/offline/withdrawals", "/v1/offline/withdrawals/complete", "/v1/offline/withdrawals/{id}"]);
    for (const [p, item] of Object.entries(doc.paths)) {
      const ops = Object.values(item);
      expect(ops.length, p).to.be.greaterThan(0);
      for (const op of ops) expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), p).to.equal(true);
    }
    expect(doc.paths["/v1/intents"]!.post!.responses).to.have.property("202");
    expect(doc.paths["/v1/merchants"]!.post!.responses).to.include.keys("201", "401", "403", "429");
    expect(doc.paths["/readyz"]!.get!.responses).to.have.property("503");
    expect(doc.paths["/v1/accounts/{address}/payments"]!.get!.responses).to.have.property("400");
    expect(doc.components.schemas).to.include.keys("Error", "Network", "Balances", "Payment", "PaymentPage", "IntentSubmission", "Intent");
    // Every $ref resolves inside the document.
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          if (k === "$ref" && typeof x === "string") refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(refs.length).to.be.greaterThan(5);
    for (const ref of refs) {
      expect(ref).to.match(/^#\/components\/schemas\//);
      expect(doc.components.schemas, ref).to.have.property(ref.split("/").at(-1)!);
    }
  });

  it("OpenAPI documents every field of the payments it serves, status (pending|confirmed) included, in pages and in events", async function () {
    const doc = (await get("/openapi.json")).body as { components: { schemas: Record<string, { required?: string[]; properties?: Record<string, { enum?: string[]; description?: string; $ref?: string }> }> } };
    const payment = doc.components.schemas.Payment!;
    expect(payment.required).to.include("status");
    expect(payment.properties?.status?.enum).to.deep.equal(["pending", "confirmed"]);
    expect(payment.properties?.status?.description).to.match(/--confirmations 1/);
    expect(doc.components.schemas.NodeEvent?.properties?.payment?.$ref).to.equal("#/components/schemas/Payment");
    // What the API serves has exactly the documented fields, each page of payments included.
    for (const p of [`/v1/accounts/${ACCOUNTS[1]}/payments?limit=2`, `/v1/accounts/${ACCOUNTS[0]}/payments?limit=1`]) {
      const { body } = await get(p);
      const items = (body as { items: Record<string, unknown>[] }).items;
      expect(items.length, p).to.be.greaterThan(0);
      for (const item of items) {
        // Every required field, and nothing undocumented (refund and refunds appear only on refund-related payments).
        expect(Object.keys(item), p).to.include.members(payment.required ?? []);
        expect(Object.keys(payment.properties ?? {}), p).to.include.members(Object.keys(item));
        expect(payment.required, p).to.have.members(Object.keys(payment.properties ?? {}).filter((k) => k !== "refund" && k !== "refunds"));
        expect(item.status).to.equal("confirmed"); // --confirmations 1: confirmed once in a block
      }
    }
  });
});
