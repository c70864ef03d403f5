import { expect } from "chai";
import { id, toQuantity, type Signer } from "ethers";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { sendPayment } from "../../client/sdk/payments.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { RefundView } from "../../node/src/refunds/refunds.ts";
import type { DailyReport } from "../../node/src/reports/daily.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { createMerchant } from "../helpers/merchants.ts";

const ADMIN = "reports-admin-token-0123456789abcdef";
const PAYOUT = ACCOUNTS[2];
const FEE_BPS = 250n;
/** 2030-01-01T00:00:00Z: the chain is moved to fixed days so the test never straddles a real midnight. */
const DAY1 = 1_893_456_000;
const DAY2 = DAY1 + 86_400;

/**
 * The daily settlement report against payments made on a real chain: a
 * merchant fee set by the admin, payments with and without references, in
 * two currencies, a refund paid back, traffic that is not settlement, and
 * payments on both sides of midnight. Net is checked against the payout's
 * on-chain balance change.
 */
describe("reports: daily settlement report (gross, fees, refunds, net; JSON and CSV)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: RunningNode;
  let key: string;
  let keyOther: string;
  let signer: (address: string) => Promise<Signer>;
  const usdBalance = async (a: string): Promise<bigint> => (await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD)).balanceOf(a);
  const at = async (t: number): Promise<void> => {
    await jsonRpcRequest(devnet.chain.rpcUrl, "evm_setNextBlockTimestamp", [toQuantity(t)]);
  };
  const pay = async (from: string, to: string, amount: bigint, currency: "USD" | "CNY", reference?: string) => {
    const r = await sendPayment({ signer: await signer(from), tokenAddress: devnet.deployment.contracts.tokens[currency], to, amount, ...(reference === undefined ? {} : { reference }) });
    return r;
  };
  const report = (q: string, k = key) => getJson(`${node.url}/v1/merchants/me/reports/daily?${q}`, { headers: { authorization: `Bearer ${k}` } });
  let balanceBefore: bigint;
  let unrelatedOut: bigint;
  let refund: RefundView;
  let cancelledRefundId: string;

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0], ACCOUNTS[1]] });
    signer = (a) => devnet.connection.ethers.getSigner(a);
    node = await startDevnetNode(devnet, { adminToken: ADMIN });
    const made = async (payout: string): Promise<string> => (await createMerchant(node.url, ADMIN, "Shop", payout)).apiKey;
    key = await made(PAYOUT);
    keyOther = await made(ACCOUNTS[3]);
    const [admin] = await devnet.connection.ethers.getSigners();
    const usd = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, admin);
    await (await usd.setMerchantFee(PAYOUT, FEE_BPS)).wait();

    // The day before: not in DAY1's report.
    await at(DAY1 - 10);
    await pay(ACCOUNTS[0], PAYOUT, 9_999n, "USD", id("yesterday"));
    balanceBefore = await usdBalance(PAYOUT);
    // DAY1, from its first second to its last.
    await at(DAY1);
    const p1 = await pay(ACCOUNTS[0], PAYOUT, 1_000_003n, "USD", id("order-1")); // fee floor(1_000_003 * 2.5%) = 25_000
    await pay(ACCOUNTS[1], PAYOUT, 2_000_000n, "USD", id("order-2")); // fee 50_000
    await pay(ACCOUNTS[1], PAYOUT, 777n, "USD"); // a plain transfer: no fee
    await pay(ACCOUNTS[1], PAYOUT, 5_000n, "CNY", id("order-3")); // no CNY fee
    await pay(ACCOUNTS[0], ACCOUNTS[4], 123n, "USD", id("elsewhere")); // not the merchant's
    unrelatedOut = 1_111n;
    await pay(PAYOUT, ACCOUNTS[4], unrelatedOut, "USD"); // the payout spending: not settlement
    await node.waitForIndexed(p1.blockNumber + 5, 20_000);
    const transfer = p1.logs.find((l) => l.topics[0] === id("Transfer(address,address,uint256)"));
    const created = await getJson(`${node.url}/v1/refunds`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": "r1" },
      body: JSON.stringify({ payment: `${p1.hash}:${String(transfer?.index)}`, amount: "300000" }),
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    refund = created.body as RefundView;
    const req = parsePaymentUri(refund.uri);
    await pay(PAYOUT, req.to, req.amount, "USD", req.reference);
    // A refund cancelled before it was paid: in no report.
    const withdrawn = await getJson(`${node.url}/v1/refunds`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": "r2" },
      body: JSON.stringify({ payment: `${p1.hash}:${String(transfer?.index)}`, amount: "100000" }),
    });
    cancelledRefundId = (withdrawn.body as RefundView).id;
    const cancelled = await getJson(`${node.url}/v1/refunds/${cancelledRefundId}/cancel`, { method: "POST", headers: { authorization: `Bearer ${key}` } });
    expect((cancelled.body as RefundView).status, JSON.stringify(cancelled.body)).to.equal("cancelled");
    await at(DAY2 - 1);
    await pay(ACCOUNTS[0], PAYOUT, 40n, "USD", id("last-second"));
    // DAY2: not in DAY1's report.
    await at(DAY2);
    const last = await pay(ACCOUNTS[0], PAYOUT, 60n, "USD", id("next-day"));
    await node.waitForIndexed(last.blockNumber, 20_000);
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  it("sums the day's confirmed payments, fees and refunds per currency; net matches the payout's balance change", async function () {
    const r = await report("date=2030-01-01");
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    const body = r.body as DailyReport;
    expect(body).to.include({ date: "2030-01-01", from: "2030-01-01T00:00:00.000Z", to: "2030-01-02T00:00:00.000Z", payout: PAYOUT });
    const gross = 1_000_003n + 2_000_000n + 777n + 40n;
    const fees = 25_000n + 50_000n + 1n; // 40 * 2.5% = 1
    expect(body.totals).to.deep.equal([
      { currency: "USD", gross: gross.toString(), fees: fees.toString(), refunds: "300000", net: (gross - fees - 300_000n).toString(), payments: 4, refundPayments: 1 },
      { currency: "CNY", gross: "5000", fees: "0", refunds: "0", net: "5000", payments: 1, refundPayments: 0 },
    ]);
    // The chain agrees: what the payout holds after DAY1 minus before it, plus its own unrelated spending.
    const after = await usdBalance(PAYOUT);
    const day2 = 60n - 1n; // DAY2's payment, net of its fee
    expect((after - day2 - balanceBefore + unrelatedOut).toString()).to.equal(body.totals[0]!.net);
    expect(body.items.map((l) => [l.type, l.currency, l.gross, l.fee, l.refund, l.net])).to.deep.equal([
      ["payment", "USD", "1000003", "25000", "0", "975003"],
      ["payment", "USD", "2000000", "50000", "0", "1950000"],
      ["payment", "USD", "777", "0", "0", "777"],
      ["payment", "CNY", "5000", "0", "0", "5000"],
      ["refund", "USD", "0", "0", "300000", "-300000"],
      ["payment", "USD", "40", "1", "0", "39"],
    ]);
    expect(body.items[4]).to.include({ refundId: refund.id, counterparty: ACCOUNTS[0] });
    expect(body.items.map((l) => l.refundId)).not.to.include(cancelledRefundId);
    expect(body.items[5]!.time).to.equal("2030-01-01T23:59:59.000Z");
  });

  it("filters by currency, and the next day has only its own payment", async function () {
    const cny = (await report("date=2030-01-01&currency=CNY")).body as DailyReport;
    expect(cny.totals).to.deep.equal([{ currency: "CNY", gross: "5000", fees: "0", refunds: "0", net: "5000", payments: 1, refundPayments: 0 }]);
    expect(cny.items).to.have.length(1);
    const day2 = (await report("date=2030-01-02&currency=USD")).body as DailyReport;
    expect(day2.totals).to.deep.equal([{ currency: "USD", gross: "60", fees: "1", refunds: "0", net: "59", payments: 1, refundPayments: 0 }]);
    const empty = (await report("date=2029-06-01&currency=EUR")).body as DailyReport;
    expect(empty.totals).to.deep.equal([{ currency: "EUR", gross: "0", fees: "0", refunds: "0", net: "0", payments: 0, refundPayments: 0 }]);
    expect(((await report("date=2030-01-01", keyOther)).body as DailyReport).items).to.deep.equal([]);
  });

  it("serves CSV: a header row, integer base units, totals equal to the column sums", async function () {
    const res = await fetch(`${node.url}/v1/merchants/me/reports/daily?date=2030-01-01&format=csv`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^text\/csv/);
    const rows = (await res.text()).trimEnd().split("\r\n").map((l) => l.split(","));
    expect(rows[0]).to.deep.equal(["type", "date", "time", "currency", "txHash", "logIndex", "counterparty", "gross", "fee", "refund", "net", "reference", "refundId"]);
    const lines = rows.slice(1).filter((r) => r[0] !== "total");
    const totals = rows.slice(1).filter((r) => r[0] === "total");
    expect(lines).to.have.length(6);
    expect(totals.map((t) => t[3])).to.deep.equal(["USD", "CNY"]);
    for (const t of totals) {
      for (const col of [7, 8, 9, 10]) {
        const sum = lines.filter((l) => l[3] === t[3]).reduce((s, l) => s + BigInt(l[col]!), 0n);
        expect(t[col]).to.equal(sum.toString());
      }
    }
    for (const r of rows.slice(1)) for (const col of [7, 8, 9, 10]) expect(r[col]).to.match(/^-?\d+$/);
  });

  it("refuses bad dates, currencies, formats, parameters and missing keys", async function () {
    const cases: [string, number, string][] = [
      ["", 400, "invalid_date"],
      ["date=2030-02-30", 400, "invalid_date"],
      ["date=2030-1-1", 400, "invalid_date"],
      ["date=2030-01-01&date=2030-01-02", 400, "invalid_date"],
      ["date=2030-01-01&currency=XYZ", 400, "invalid_currency"],
      ["date=2030-01-01&currency=usd", 400, "invalid_currency"],
      ["date=2030-01-01&format=xml", 400, "invalid_format"],
      ["date=2030-01-01&foo=1", 400, "unknown_parameter"],
    ];
    for (const [q, status, code] of cases) {
      const r = await report(q);
      expect([r.status, (r.body as { error: { code: string } }).error.code], q).to.deep.equal([status, code]);
    }
    expect((await getJson(`${node.url}/v1/merchants/me/reports/daily?date=2030-01-01`)).status).to.equal(401);
    expect((await report("date=2030-01-01", `ok_live_${"0".repeat(32)}`)).status).to.equal(401);
  });
});
