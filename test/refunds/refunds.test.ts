import { expect } from "chai";
import { id, type Signer } from "ethers";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { sendPayment } from "../../client/sdk/payments.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { RefundView } from "../../node/src/refunds/refunds.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { createInvoice } from "../invoices/helpers.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";

const ADMIN = "refunds-admin-token-0123456789abcdef";
const PAYER = ACCOUNTS[0];
const PAYOUT_A = ACCOUNTS[2];
const PAYOUT_B = ACCOUNTS[3];

interface ErrorBody {
  error: { code: string; message: string };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;

/**
 * Refunds against a real hardhat chain and an in-process node: a payment
 * with an invoice's reference is refunded in two parts, never beyond its
 * amount (also under concurrent requests), the merchant's wallet pays the
 * refund URIs, and both parties' histories link the payments.
 */
describe("refunds: create, over-refund, idempotency, completion from the chain, history links", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: RunningNode;
  let keyA: string;
  let keyB: string;
  let payment: string;
  let invoiceId: string;
  let paymentBlock: number;
  let signer: (address: string) => Promise<Signer>;

  const call = (p: string, init: RequestInit = {}) => getJson(`${node.url}${p}`, init);
  const post = (key: string, body: unknown, idem: string | null = `k-${Math.random().toString()}`) =>
    call("/v1/refunds", { method: "POST", body: JSON.stringify(body), headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(idem === null ? {} : { "idempotency-key": idem }) } });
  const get = (p: string, key: string) => call(p, { headers: { authorization: `Bearer ${key}` } });
  const waitIndexed = async (block: number): Promise<void> => node.waitForIndexed(block, 20_000);
  /** The merchant's wallet pays a refund's request (all of it, or `amount`); resolves once indexed. */
  const payRefund = async (uri: string, amount?: bigint) => {
    const req = parsePaymentUri(uri);
    const receipt = await sendPayment({ signer: await signer(PAYOUT_A), tokenAddress: req.token, to: req.to, amount: amount ?? req.amount, reference: req.reference! });
    await waitIndexed(receipt.blockNumber);
    return receipt;
  };

  before(async function () {
    devnet = await startDevnet({ fund: [PAYER] });
    signer = (a) => devnet.connection.ethers.getSigner(a);
    node = await startDevnetNode(devnet, { adminToken: ADMIN });
    const made = async (name: string, payout: string): Promise<string> => {
      const r = await call("/v1/merchants", { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ name, payout }) });
      expect(r.status).to.equal(201);
      return (r.body as { apiKey: string }).apiKey;
    };
    keyA = await made("A", PAYOUT_A);
    keyB = await made("B", PAYOUT_B);
    // The payment settles a real invoice of A's: refunds link to it.
    const invoice = await createInvoice(node.url, keyA, { amount: "1000", currency: "USD", description: "Refunded order", expiresInSec: 600 });
    invoiceId = invoice.id;
    const receipt = await sendPayment({ signer: await signer(PAYER), tokenAddress: devnet.deployment.contracts.tokens.USD, to: PAYOUT_A, amount: 1_000n, reference: invoice.reference });
    paymentBlock = receipt.blockNumber;
    // The Transfer to the payout comes right before the Payment event (no fee here).
    const transfer = receipt.logs.find((l) => l.address === devnet.deployment.contracts.tokens.USD && l.topics[0] === id("Transfer(address,address,uint256)"));
    payment = `${receipt.hash}:${String(transfer?.index)}`;
    await waitIndexed(paymentBlock);
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  let first: RefundView;
  let second: RefundView;

  it("creates an open refund with an EIP-681 request from the payout to the payer, linked to the payment and its invoice", async function () {
    const r = await post(keyA, { payment, amount: "400", reason: "damaged" }, "refund-1");
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    first = r.body as RefundView;
    expect(first).to.include({ status: "open", amount: "400", paid: "0", currency: "USD", from: PAYOUT_A, to: PAYER, invoiceId, reason: "damaged" });
    expect(first.id).to.match(/^rfd_[0-9a-f]{16}$/);
    expect(first.reference).to.match(/^0x[0-9a-f]{64}$/);
    expect(first.payment).to.deep.equal({ txHash: payment.split(":")[0], logIndex: Number(payment.split(":")[1]) });
    const req = parsePaymentUri(first.uri);
    expect(req).to.deep.equal({ chainId: 31337, token: devnet.deployment.contracts.tokens.USD, to: PAYER, amount: 400n, reference: first.reference });
  });

  it("answers a replay of the same Idempotency-Key with the same refund; another body with that key is 409", async function () {
    const again = await post(keyA, { payment, amount: "400", reason: "damaged" }, "refund-1");
    expect(again.status).to.equal(200);
    expect((again.body as RefundView).id).to.equal(first.id);
    const other = await post(keyA, { payment, amount: "300" }, "refund-1");
    expect(other.status).to.equal(409);
    // The same code as POST /v1/invoices: one Idempotency-Key behaviour for every POST that takes one.
    expect(codeOf(other.body)).to.equal("idempotency_conflict");
    expect((other.body as { error: { message: string } }).error.message).to.include(first.id);
  });

  it("never refunds more than was paid: open and completed refunds count, also under concurrent requests", async function () {
    const over = await post(keyA, { payment, amount: "601" });
    expect(over.status).to.equal(409);
    expect(codeOf(over.body)).to.equal("refund_exceeds_payment");
    // Five concurrent requests of 200 for the 600 left: exactly three pass.
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(keyA, { payment, amount: "200" })));
    expect(answers.map((a) => a.status).sort()).to.deep.equal([201, 201, 201, 409, 409]);
    second = answers.find((a) => a.status === 201)!.body as RefundView;
    const one = await post(keyA, { payment, amount: "1" });
    expect(codeOf(one.body)).to.equal("refund_exceeds_payment");
  });

  it("refuses other merchants, unknown or outgoing payments, bad input and missing keys (4xx with a code)", async function () {
    const otherMerchant = await post(keyB, { payment, amount: "1" });
    expect([otherMerchant.status, codeOf(otherMerchant.body)]).to.deep.equal([404, "payment_not_found"]);
    expect((await get(`/v1/refunds/${first.id}`, keyB)).status).to.equal(404);
    expect((await get("/v1/refunds", keyB)).body).to.deep.equal({ items: [], nextCursor: null });
    const unknown = await post(keyA, { payment: `${"0x" + "ab".repeat(32)}:0`, amount: "1" });
    expect([unknown.status, codeOf(unknown.body)]).to.deep.equal([404, "payment_not_found"]);
    const wrongLog = await post(keyA, { payment: `${payment.split(":")[0]!}:${String(Number(payment.split(":")[1]) + 1)}`, amount: "1" });
    expect([wrongLog.status, codeOf(wrongLog.body)]).to.deep.equal([404, "payment_not_found"]);
    const cases: [unknown, string][] = [
      [{ payment: "0x12:1", amount: "1" }, "invalid_request"],
      [{ payment, amount: "0" }, "invalid_request"],
      [{ payment, amount: "1.5" }, "invalid_request"],
      [{ payment, amount: 5 }, "invalid_request"],
      [{ payment, amount: "-1" }, "invalid_request"],
      [{ payment }, "invalid_request"],
      [{ payment, amount: "1", extra: true }, "unknown_field"],
      [[], "invalid_request"],
      [{ payment, amount: "1", reason: "a\u0000b" }, "invalid_request"],
    ];
    for (const [body, code] of cases) {
      const r = await post(keyA, body);
      expect([r.status, codeOf(r.body)], JSON.stringify(body)).to.deep.equal([400, code]);
    }
    const noKey = await post(keyA, { payment, amount: "1" }, null);
    expect([noKey.status, codeOf(noKey.body)]).to.deep.equal([400, "idempotency_key_required"]);
    const emptyKey = await post(keyA, { payment, amount: "1" }, "");
    expect([emptyKey.status, codeOf(emptyKey.body)]).to.deep.equal([400, "idempotency_key_required"]);
    const badKey = await post(keyA, { payment, amount: "1" }, "has space");
    expect([badKey.status, codeOf(badKey.body)]).to.deep.equal([400, "invalid_idempotency_key"]);
    const noAuth = await call("/v1/refunds", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(noAuth.status).to.equal(401);
    expect((await call("/v1/refunds")).status).to.equal(401);
    for (const bad of ["rfd_xyz", "rfd_" + "0".repeat(17), "x"]) {
      const r = await get(`/v1/refunds/${bad}`, keyA);
      expect([r.status, codeOf(r.body)]).to.deep.equal([400, "invalid_refund_id"]);
    }
    expect(codeOf((await get(`/v1/refunds/rfd_${"0".repeat(16)}`, keyA)).body)).to.equal("refund_not_found");
    expect(codeOf((await get("/v1/refunds?cursor=abc", keyA)).body)).to.equal("invalid_cursor");
    expect(codeOf((await get("/v1/refunds?limit=0", keyA)).body)).to.equal("invalid_limit");
    expect(codeOf((await get("/v1/refunds?x=1", keyA)).body)).to.equal("unknown_parameter");
  });

  it("a refund is completed once the merchant's wallet pays its URI (confirmed, full amount); a partial payment leaves it open", async function () {
    const r1 = await payRefund(first.uri);
    const done = (await get(`/v1/refunds/${first.id}`, keyA)).body as RefundView;
    expect(done).to.include({ status: "completed", paid: "400" });
    expect(done.payments).to.deep.equal([{ txHash: r1.hash, logIndex: done.payments[0]!.logIndex, amount: "400", status: "confirmed" }]);
    await payRefund(second.uri, 150n);
    expect((await get(`/v1/refunds/${second.id}`, keyA)).body).to.include({ status: "open", paid: "150" });
    // Someone else paying with the refund's (public) reference does not complete it.
    await sendPayment({ signer: await signer(PAYER), tokenAddress: devnet.deployment.contracts.tokens.USD, to: ACCOUNTS[4], amount: 50n, reference: second.reference });
    expect((await get(`/v1/refunds/${second.id}`, keyA)).body).to.include({ status: "open", paid: "150" });
    await payRefund(second.uri, 50n);
    expect((await get(`/v1/refunds/${second.id}`, keyA)).body).to.include({ status: "completed", paid: "200" });
  });

  it("both parties' histories link the refund payments to the original payment and its invoice", async function () {
    for (const account of [PAYER, PAYOUT_A]) {
      const page = (await call(`/v1/accounts/${account}/payments?limit=100`)).body as { items: (RefundView & { kind: string; reference: string | null; txHash: string; logIndex: number; refund?: unknown; refunds?: { id: string; amount: string; status: string }[] })[] };
      const original = page.items.find((p) => `${p.txHash}:${String(p.logIndex)}` === payment);
      expect(original?.refunds?.map((x) => [x.amount, x.status]).sort()).to.deep.equal([
        ["200", "completed"],
        ["200", "open"],
        ["200", "open"],
        ["400", "completed"],
      ]);
      const refundPayments = page.items.filter((p) => p.refund !== undefined);
      expect(refundPayments).to.have.length(3);
      for (const p of refundPayments) {
        expect(p.refund).to.deep.include({ of: { txHash: payment.split(":")[0], logIndex: Number(payment.split(":")[1]) }, invoiceId });
        expect([first.id, second.id]).to.include((p.refund as { id: string }).id);
      }
    }
    // The stranger's copy of the reference is not a refund.
    const stranger = (await call(`/v1/accounts/${ACCOUNTS[4]}/payments`)).body as { items: { refund?: unknown }[] };
    expect(stranger.items.every((p) => p.refund === undefined)).to.equal(true);
  });

  it("lists the merchant's refunds newest first, a page at a time", async function () {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await get(`/v1/refunds?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`, keyA);
      expect(r.status).to.equal(200);
      const body = r.body as { items: RefundView[]; nextCursor: string | null };
      expect(body.items).to.have.length(1);
      seen.push(body.items[0]!.id);
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(seen).to.have.length(4);
    expect(new Set(seen).size).to.equal(4);
    expect(seen.at(-1)).to.equal(first.id);
  });

  describe("cancel (POST /v1/refunds/{id}/cancel)", function () {
    const cancel = (refundId: string, key: string) => call(`/v1/refunds/${refundId}/cancel`, { method: "POST", headers: { authorization: `Bearer ${key}` } });
    const openRefunds = async (): Promise<RefundView[]> => ((await get("/v1/refunds?limit=100", keyA)).body as { items: RefundView[] }).items.filter((x) => x.status === "open");
    let cancelled: RefundView;
    let replacement: RefundView;

    it("cancels an open refund: status cancelled, final; it no longer counts, so a new refund of the rest can be made", async function () {
      const [target] = await openRefunds();
      expect(target?.paid).to.equal("0");
      const r = await cancel(target!.id, keyA);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      cancelled = r.body as RefundView;
      expect(cancelled).to.include({ id: target!.id, status: "cancelled", amount: "200", paid: "0" });
      expect(Date.parse(cancelled.cancelledAt ?? "")).to.be.greaterThan(Date.parse(cancelled.createdAt) - 1);
      expect((await get(`/v1/refunds/${target!.id}`, keyA)).body).to.deep.equal(cancelled);
      // The 200 it held is free again, not more.
      expect(codeOf((await post(keyA, { payment, amount: "201" })).body)).to.equal("refund_exceeds_payment");
      const again = await post(keyA, { payment, amount: "200" });
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      replacement = again.body as RefundView;
    });

    it("cancelling twice answers the same cancelled refund", async function () {
      const r = await cancel(cancelled.id, keyA);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal(cancelled);
    });

    it("refuses another merchant (404, the refund stays open), bad and unknown ids, no key, other methods", async function () {
      const [open] = (await openRefunds()).filter((x) => x.id !== replacement.id);
      const other = await cancel(open!.id, keyB);
      expect([other.status, codeOf(other.body)]).to.deep.equal([404, "refund_not_found"]);
      expect(((await get(`/v1/refunds/${open!.id}`, keyA)).body as RefundView).status).to.equal("open");
      for (const bad of ["rfd_xyz", "rfd_" + "0".repeat(17), "x"]) {
        const r = await cancel(bad, keyA);
        expect([r.status, codeOf(r.body)], bad).to.deep.equal([400, "invalid_refund_id"]);
      }
      expect(codeOf((await cancel(`rfd_${"0".repeat(16)}`, keyA)).body)).to.equal("refund_not_found");
      expect((await call(`/v1/refunds/${open!.id}/cancel`, { method: "POST" })).status).to.equal(401);
      expect(codeOf((await call(`/v1/refunds/${open!.id}/cancel?x=1`, { method: "POST", headers: { authorization: `Bearer ${keyA}` } })).body)).to.equal("unknown_parameter");
      expect((await get(`/v1/refunds/${open!.id}/cancel`, keyA)).status).to.equal(405);
    });

    it("refuses a refund paid or partly paid on the chain (409 refund_already_paid); it stays as it was", async function () {
      const paid = await cancel(first.id, keyA);
      expect([paid.status, codeOf(paid.body)]).to.deep.equal([409, "refund_already_paid"]);
      await payRefund(replacement.uri, 50n);
      const partly = await cancel(replacement.id, keyA);
      expect([partly.status, codeOf(partly.body)]).to.deep.equal([409, "refund_already_paid"]);
      expect((await get(`/v1/refunds/${replacement.id}`, keyA)).body).to.include({ status: "open", paid: "50", cancelledAt: null });
    });

    it("a payment made to a cancelled refund's request anyway still counts, as what it paid", async function () {
      const [open] = (await openRefunds()).filter((x) => x.id !== replacement.id);
      expect((await cancel(open!.id, keyA)).status).to.equal(200);
      await payRefund(open!.uri, 120n);
      expect((await get(`/v1/refunds/${open!.id}`, keyA)).body).to.include({ status: "cancelled", paid: "120" });
      // 1000 paid: 400 + 200 + 200 (open, 50 paid) + 120 (cancelled, paid anyway) counted; cancelled unpaid 200: not.
      expect(codeOf((await post(keyA, { payment, amount: "81" })).body)).to.equal("refund_exceeds_payment");
      expect((await post(keyA, { payment, amount: "80" })).status).to.equal(201);
    });

    it("the payment's refund links in both histories show the cancelled refunds as cancelled", async function () {
      for (const account of [PAYER, PAYOUT_A]) {
        const page = (await call(`/v1/accounts/${account}/payments?limit=100`)).body as { items: { txHash: string; logIndex: number; refunds?: { id: string; status: string }[] }[] };
        const original = page.items.find((p) => `${p.txHash}:${String(p.logIndex)}` === payment);
        const statusOf = new Map(original?.refunds?.map((x) => [x.id, x.status]));
        expect(statusOf.get(cancelled.id), account).to.equal("cancelled");
        expect(statusOf.get(replacement.id), account).to.equal("open");
        expect([...statusOf.values()].filter((x) => x === "cancelled"), account).to.have.length(2);
      }
    });
  });
});
