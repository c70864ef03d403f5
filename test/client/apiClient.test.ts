import { expect } from "chai";
import { getAddress } from "ethers";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createApiClient } from "../../client/sdk/apiClient.ts";
import { OrioleError } from "../../client/sdk/errors.ts";

const A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const TOKENS = { USD: "0x5FbDB2315678afecb367f032d93F642f64180aa3", CNY: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", EUR: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", HKD: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9" };

/**
 * A canned HTTP server that answers with whatever the test sets: these tests
 * are about the client's parsing and error mapping, not about the node.
 */
describe("API client", function () {
  let server: http.Server;
  let url: string;
  let reply: { status: number; body: string } = { status: 200, body: "{}" };
  let lastPath = "";

  before(async function () {
    server = http.createServer((req, res) => {
      lastPath = req.url ?? "";
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(reply.body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    await new Promise((r) => server.close(r));
  });

  async function codeOf(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(OrioleError);
      return (e as OrioleError).code;
    }
    return "no error";
  }

  it("parses /v1/network", async function () {
    reply = { status: 200, body: JSON.stringify({ chainId: 31337, blockNumber: 12, indexedBlock: 11, contracts: { tokens: TOKENS } }) };
    const n = await createApiClient({ url: `${url}/` }).getNetwork();
    expect(lastPath).to.equal("/v1/network");
    expect(n.chainId).to.equal(31337);
    expect(n.contracts.tokens.HKD).to.equal(TOKENS.HKD);
    expect(n.contracts.escrow).to.equal(undefined); // an older node
    const escrow = "0x" + "e5".repeat(20);
    const vault = "0x" + "0f".repeat(20);
    reply = { status: 200, body: JSON.stringify({ chainId: 31337, blockNumber: 12, indexedBlock: 11, contracts: { tokens: TOKENS, escrow, offlineVault: vault } }) };
    const m = await createApiClient({ url }).getNetwork();
    expect([m.contracts.escrow, m.contracts.offlineVault]).to.deep.equal([getAddress(escrow), getAddress(vault)]);
    reply = { status: 200, body: JSON.stringify({ chainId: 31337, blockNumber: 12, indexedBlock: 11, contracts: { tokens: TOKENS, offlineVault: "0x1234" } }) };
    expect(await codeOf(createApiClient({ url }).getNetwork())).to.equal("invalid_response");
  });

  it("turns base-unit strings into bigint", async function () {
    reply = { status: 200, body: JSON.stringify({ address: A.toLowerCase(), indexedBlock: 5, balances: { USD: "1000000000000", CNY: "0", EUR: "1", HKD: "340282366920938463463374607431768211455" } }) };
    const b = await createApiClient({ url }).getBalances({ address: A });
    expect(lastPath).to.equal(`/v1/accounts/${A}/balances`);
    expect(b.address).to.equal(A);
    expect(b.balances.USD).to.equal(1_000_000_000_000n);
    expect(b.balances.HKD).to.equal((1n << 128n) - 1n);
  });

  it("pages payments with limit and cursor", async function () {
    const item = { txHash: `0x${"ab".repeat(32)}`, logIndex: 0, blockNumber: 7, timestamp: 1_700_000_000, from: A, to: B, currency: "USD", amount: "12500000" };
    reply = { status: 200, body: JSON.stringify({ items: [item, { ...item, logIndex: 1, timestamp: "2026-01-02T03:04:05Z" }], nextCursor: "abc" }) };
    const page = await createApiClient({ url }).getPayments({ address: B, limit: 2, cursor: "x/y" });
    expect(lastPath).to.equal(`/v1/accounts/${B}/payments?limit=2&cursor=x%2Fy`);
    expect(page.items[0]?.amount).to.equal(12_500_000n);
    expect(page.items[1]?.timestamp).to.equal(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000);
    expect(page.nextCursor).to.equal("abc");
  });

  it("reads a payment's reference, fee and kind, and defaults them for an older node", async function () {
    const item = { txHash: `0x${"ab".repeat(32)}`, logIndex: 0, blockNumber: 7, timestamp: 1_700_000_000, from: A, to: B, currency: "USD", amount: "975" };
    const ref = `0x${"CD".repeat(32)}`;
    reply = { status: 200, body: JSON.stringify({ items: [{ ...item, reference: ref, fee: "25", kind: "payment" }, { ...item, reference: null, fee: "0", kind: "transfer" }, item], nextCursor: null }) };
    const page = await createApiClient({ url }).getPayments({ address: B });
    expect(page.items.map((p) => [p.reference, p.fee, p.kind])).to.deep.equal([
      [ref.toLowerCase(), 25n, "payment"],
      [null, 0n, "transfer"],
      [null, 0n, "transfer"],
    ]);
    reply = { status: 200, body: JSON.stringify({ items: [{ ...item, reference: "0x12" }], nextCursor: null }) };
    expect(await codeOf(createApiClient({ url }).getPayments({ address: B }))).to.equal("invalid_response");
    reply = { status: 200, body: JSON.stringify({ items: [{ ...item, fee: "-1" }], nextCursor: null }) };
    expect(await codeOf(createApiClient({ url }).getPayments({ address: B }))).to.equal("invalid_response");
  });

  it("maps the node's error body to an OrioleError with the node's code", async function () {
    reply = { status: 404, body: JSON.stringify({ error: { code: "not_found", message: "no such thing" } }) };
    const code = await codeOf(createApiClient({ url }).getNetwork());
    expect(code).to.equal("not_found");
    reply = { status: 500, body: "<html>oops</html>" };
    expect(await codeOf(createApiClient({ url }).getNetwork())).to.equal("node_error");
  });

  it("rejects malformed responses: floats, negative amounts, bad addresses", async function () {
    const client = createApiClient({ url });
    for (const balances of [{ USD: 1.5, CNY: "0", EUR: "0", HKD: "0" }, { USD: "-1", CNY: "0", EUR: "0", HKD: "0" }, { USD: "1.5", CNY: "0", EUR: "0", HKD: "0" }, { USD: "1" }]) {
      reply = { status: 200, body: JSON.stringify({ address: A, indexedBlock: 1, balances }) };
      expect(await codeOf(client.getBalances({ address: A }))).to.equal("invalid_response");
    }
    reply = { status: 200, body: "not json" };
    expect(await codeOf(client.getNetwork())).to.equal("invalid_response");
    expect(await codeOf(client.getBalances({ address: "0x1234" }))).to.equal("invalid_address");
  });

  it("reports a node that does not answer as node_unreachable", async function () {
    expect(await codeOf(createApiClient({ url: "http://127.0.0.1:9" }).getNetwork())).to.equal("node_unreachable");
    // A server that accepts but never answers: the timeout applies.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const port = (silent.address() as AddressInfo).port;
      expect(await codeOf(createApiClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 200 }).getNetwork())).to.equal("node_unreachable");
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
