import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
// jsqr is CommonJS whose types declare `export default`: under NodeNext that is `.default` of module.exports (which it sets too).
import jsqr from "jsqr";
import { PNG } from "pngjs";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { openSse, startReceiver, type SseClient } from "../helpers/notify.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { paymentProvider, sendPayment } from "../../client/sdk/payments.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { ADMIN, createInvoice, getInvoice, waitForInvoice, waitForMessage, type InvoiceBody } from "./helpers.ts";
import { createMerchant, setWebhook } from "../helpers/merchants.ts";

/** Hardhat's dev keys of ACCOUNTS[0] and ACCOUNTS[1] (public test keys). */
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PAYER2_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const PAYOUT = ACCOUNTS[2];
const OTHER_PAYOUT = ACCOUNTS[3];

describe("invoices: payment requests end to end (in-process node, hardhat node)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: RunningNode;
  let merchant: { id: string; apiKey: string };
  let other: { id: string; apiKey: string };
  let stream: SseClient;
  let payer: Wallet;
  let payer2: Wallet;
  const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0], ACCOUNTS[1]] });
    node = await startDevnetNode(devnet, { adminToken: ADMIN, allowPrivateWebhooks: true });
    const provider = paymentProvider(devnet.chain.rpcUrl, node.chainId);
    payer = new Wallet(PAYER_KEY, provider);
    payer2 = new Wallet(PAYER2_KEY, provider);
    merchant = await createMerchant(node.url, ADMIN, "Shop", PAYOUT);
    other = await createMerchant(node.url, ADMIN, "Other", OTHER_PAYOUT);
    await node.waitForIndexed(await provider.getBlockNumber());
    stream = await openSse(`${node.url}/v1/merchants/me/events`, auth(merchant.apiKey));
    expect(stream.status).to.equal(200);
  });

  after(async function () {
    stream.close();
    await node.stop();
    await devnet.stop();
  });

  /** Pays an invoice URI the way the wallets do (parsePaymentUri + the token's pay with the reference). */
  async function payUri(uri: string, wallet: Wallet = payer, amount?: bigint): Promise<number> {
    const req = parsePaymentUri(uri);
    await sendPayment({ signer: wallet, tokenAddress: req.token, to: req.to, amount: amount ?? req.amount, ...(req.reference === undefined ? {} : { reference: req.reference }) });
    return performance.now();
  }

  it("invoice → QR PNG decoded by jsQR → pay → the merchant's SSE says invoice.paid within 1 s of the receipt", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "12500000", currency: "USD", description: "Coffee and cake", expiresInSec: 600, orderId: "order-1" });
    expect(invoice.id).to.match(/^inv_[0-9a-f]{16}$/);
    expect(invoice.reference).to.match(/^0x[0-9a-f]{64}$/);
    expect(invoice.status).to.equal("open");
    expect(invoice.orderId).to.equal("order-1");
    expect(Date.parse(invoice.expiresAt) - Date.now()).to.be.within(590_000, 600_000);
    const req = parsePaymentUri(invoice.uri);
    expect(req).to.deep.equal({ chainId: node.chainId, token: devnet.deployment.contracts.tokens.USD, to: PAYOUT, amount: 12_500_000n, reference: invoice.reference });

    const png = await fetch(`${node.url}/v1/invoices/${invoice.id}/qr?format=png&size=400`, { headers: auth(merchant.apiKey) });
    expect(png.status).to.equal(200);
    expect(png.headers.get("content-type")).to.equal("image/png");
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    expect(image.width).to.equal(400);
    const decoded = jsqr.default(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded?.data).to.equal(invoice.uri);
    const svg = await fetch(`${node.url}/v1/invoices/${invoice.id}/qr`, { headers: auth(merchant.apiKey) });
    expect(svg.headers.get("content-type")).to.match(/^image\/svg\+xml/);
    expect(await svg.text()).to.match(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    const from = stream.messages.length;
    const paidAt = await payUri(decoded?.data ?? "");
    const { event, at } = await waitForMessage(stream, (e) => e.type === "invoice.paid" && e.invoice?.id === invoice.id, 5000, from);
    const ms = at - paidAt;
    console.log(`      invoice.paid on the merchant's SSE ${ms.toFixed(1)} ms after the payment's receipt`);
    expect(ms).to.be.below(1000);
    expect(event.merchantId).to.equal(merchant.id);
    expect(event.accounts).to.deep.equal([]);
    expect(event.invoice).to.include({ status: "paid", amountReceived: "12500000", excess: "0", refundable: "0" });
    const after = await getInvoice(node.url, merchant.apiKey, invoice.id);
    expect(after.status).to.equal("paid");
    expect(after.payments.map((p) => p.amount)).to.deep.equal(["12500000"]);
  });

  it("an independent payer (plain ethers, its own URI parsing, hand-written ABI) marks the invoice paid", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "7000000", currency: "EUR", description: "Independent", expiresInSec: 600 });
    // ethereum:<token>@<chainId>/transfer?address=<to>&uint256=<amount>&reference=<bytes32>, parsed here by hand.
    const m = /^ethereum:(0x[0-9a-fA-F]{40})@(\d+)\/transfer\?(.*)$/.exec(invoice.uri);
    expect(m, invoice.uri).to.not.equal(null);
    const params = new URLSearchParams(m?.[3] ?? "");
    const provider = new JsonRpcProvider(devnet.chain.rpcUrl);
    expect(Number((await provider.getNetwork()).chainId)).to.equal(Number(m?.[2]));
    const wallet = new Wallet(PAYER2_KEY, provider);
    const tokenContract = new Contract(m?.[1] ?? "", ["function pay(address,uint256,bytes32) returns (bool)"], wallet);
    const pay = tokenContract.getFunction("pay");
    const tx = (await pay(params.get("address"), BigInt(params.get("uint256") ?? "0"), params.get("reference"))) as { wait(): Promise<unknown> };
    await tx.wait();
    provider.destroy();
    const paid = await waitForInvoice(node.url, merchant.apiKey, invoice.id, (i) => i.status === "paid");
    expect(paid.amountReceived).to.equal("7000000");
  });

  it("underpayment: partially_paid with the amount received (pushed), then a top-up makes it paid", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "5000000", currency: "CNY", description: "Noodles", expiresInSec: 600 });
    const from = stream.messages.length;
    await payUri(invoice.uri, payer, 2_000_000n);
    const partial = await waitForMessage(stream, (e) => e.invoice?.id === invoice.id, 5000, from);
    expect(partial.event.type).to.equal("invoice.partially_paid");
    expect(partial.event.invoice).to.include({ status: "partially_paid", amountReceived: "2000000", refundable: "0" });
    expect((await getInvoice(node.url, merchant.apiKey, invoice.id)).status).to.equal("partially_paid");
    await payUri(invoice.uri, payer2, 3_000_000n);
    const paid = await waitForMessage(stream, (e) => e.invoice?.id === invoice.id && e.type === "invoice.paid", 5000, from);
    expect(paid.event.invoice).to.include({ amountReceived: "5000000", excess: "0" });
    expect(paid.event.invoice?.payments).to.have.length(2);
  });

  it("overpayment: paid, the excess recorded as refundable", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "1000000", currency: "HKD", description: "Tea", expiresInSec: 600 });
    await payUri(invoice.uri, payer, 1_250_000n);
    const paid = await waitForInvoice(node.url, merchant.apiKey, invoice.id, (i) => i.status === "paid");
    expect(paid).to.include({ amountReceived: "1250000", excess: "250000", refundable: "250000", late: "0" });
  });

  it("a payer's wallet looks an invoice up by its reference (public): merchant, amount, expiry; the description only while payable", async function () {
    // The other merchant's: the list test below counts this merchant's invoices.
    const invoice = await createInvoice(node.url, other.apiKey, { amount: "2000000", currency: "EUR", description: "Coffee beans", expiresInSec: 600 });
    const open = await getJson(`${node.url}/v1/payment-requests/${invoice.reference}`);
    expect(open.status).to.equal(200);
    expect(open.body).to.deep.equal({ reference: invoice.reference, merchant: { name: "Other" }, payee: invoice.payee, currency: "EUR", amount: "2000000", description: "Coffee beans", expiresAt: invoice.expiresAt, status: "open" });
    // Upper-case hex is the same reference.
    expect((await getJson(`${node.url}/v1/payment-requests/0x${invoice.reference.slice(2).toUpperCase()}`)).status).to.equal(200);
    await payUri(invoice.uri);
    await waitForInvoice(node.url, other.apiKey, invoice.id, (i) => i.status === "paid");
    // Paid: the reference is on-chain for anyone to read, so the description is no longer shown.
    const paid = await getJson(`${node.url}/v1/payment-requests/${invoice.reference}`);
    expect(paid.body).to.include({ status: "paid", description: null });
    const unknown = await getJson(`${node.url}/v1/payment-requests/0x${"ab".repeat(32)}`);
    expect(unknown.status).to.equal(404);
    expect((unknown.body as { error: { code: string } }).error.code).to.equal("payment_request_not_found");
    for (const bad of ["0x1234", `0x${"g".repeat(64)}`, "inv_0123456789abcdef"]) {
      const r = await getJson(`${node.url}/v1/payment-requests/${bad}`);
      expect(r.status, bad).to.equal(400);
      expect((r.body as { error: { code: string } }).error.code).to.equal("invalid_reference");
    }
    expect((await getJson(`${node.url}/v1/payment-requests/${invoice.reference}?x=1`)).status).to.equal(400);
  });

  it("expiry is pushed by the timer (invoice.expired); a late payment is recorded, refundable, and keeps it expired", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "3000000", currency: "USD", description: "Late", expiresInSec: 1 });
    const from = stream.messages.length;
    const expired = await waitForMessage(stream, (e) => e.invoice?.id === invoice.id, 5000, from);
    expect(expired.event.type).to.equal("invoice.expired");
    expect(Date.now()).to.be.greaterThan(Date.parse(invoice.expiresAt));
    await payUri(invoice.uri, payer);
    const late = await waitForMessage(stream, (e) => e.invoice?.id === invoice.id && e.invoice.amountReceived === "3000000", 5000, from);
    expect(late.event.type).to.equal("invoice.expired");
    expect(late.event.invoice).to.include({ status: "expired", late: "3000000", refundable: "3000000" });
    expect(late.event.invoice?.payments[0]?.late).to.equal(true);
  });

  it("wrong currency and wrong payee do not count, even with the invoice's reference", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "1000000", currency: "USD", description: "Strict", expiresInSec: 600 });
    const req = parsePaymentUri(invoice.uri);
    await sendPayment({ signer: payer, tokenAddress: devnet.deployment.contracts.tokens.EUR, to: req.to, amount: req.amount, reference: invoice.reference });
    await sendPayment({ signer: payer, tokenAddress: req.token, to: OTHER_PAYOUT, amount: req.amount, reference: invoice.reference });
    await node.waitForIndexed(await payer.provider?.getBlockNumber() ?? 0);
    const byRef = await getJson(`${node.url}/v1/payments?reference=${invoice.reference}`);
    expect((byRef.body as { items: unknown[] }).items).to.have.length(2);
    const still = await getInvoice(node.url, merchant.apiKey, invoice.id);
    expect(still).to.include({ status: "open", amountReceived: "0" });
  });

  it("idempotency: the same key and body give the same invoice (200), another body a 409; another merchant's invoice is 404", async function () {
    const headers = { ...auth(merchant.apiKey), "content-type": "application/json", "idempotency-key": "order-42-attempt" };
    const body = JSON.stringify({ amount: "100", currency: "USD", description: "Once", expiresInSec: 60 });
    const first = await getJson(`${node.url}/v1/invoices`, { method: "POST", headers, body });
    expect(first.status).to.equal(201);
    const again = await getJson(`${node.url}/v1/invoices`, { method: "POST", headers, body });
    expect(again.status).to.equal(200);
    expect((again.body as InvoiceBody).id).to.equal((first.body as InvoiceBody).id);
    const conflict = await getJson(`${node.url}/v1/invoices`, { method: "POST", headers, body: JSON.stringify({ amount: "101", currency: "USD", description: "Once", expiresInSec: 60 }) });
    expect(conflict.status).to.equal(409);
    expect((conflict.body as { error: { code: string } }).error.code).to.equal("idempotency_conflict");
    // The same key from another merchant is another key.
    const theirs = await getJson(`${node.url}/v1/invoices`, { method: "POST", headers: { ...headers, ...auth(other.apiKey) }, body });
    expect(theirs.status).to.equal(201);
    const id = (first.body as InvoiceBody).id;
    for (const p of [`/v1/invoices/${id}`, `/v1/invoices/${id}/qr`, `/v1/invoices/${id}/ndef`]) {
      const r = await getJson(`${node.url}${p}`, { headers: auth(other.apiKey) });
      expect(r.status, p).to.equal(404);
      expect((r.body as { error: { code: string } }).error.code).to.equal("invoice_not_found");
    }
  });

  it("lists the merchant's invoices newest first, by status, page by page", async function () {
    const all: InvoiceBody[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor === null ? "limit=2" : `limit=2&cursor=${cursor}`;
      const r = await getJson(`${node.url}/v1/invoices?${q}`, { headers: auth(merchant.apiKey) });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      const page = r.body as { items: InvoiceBody[]; nextCursor: string | null };
      expect(page.items.length).to.be.at.most(2);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(all.length).to.equal(7);
    expect(new Set(all.map((i) => i.id)).size).to.equal(7);
    expect(all.every((i) => i.merchantId === merchant.id)).to.equal(true);
    const created = all.map((i) => Date.parse((i as InvoiceBody & { createdAt: string }).createdAt));
    expect([...created].sort((a, b) => b - a)).to.deep.equal(created);
    const paid = await getJson(`${node.url}/v1/invoices?status=paid`, { headers: auth(merchant.apiKey) });
    const paidItems = (paid.body as { items: InvoiceBody[] }).items;
    expect(paidItems.length).to.equal(4);
    expect(paidItems.every((i) => i.status === "paid")).to.equal(true);
    const expired = await getJson(`${node.url}/v1/invoices?status=expired`, { headers: auth(merchant.apiKey) });
    expect((expired.body as { items: InvoiceBody[] }).items.map((i) => i.description)).to.deep.equal(["Late"]);
  });

  it("webhooks get invoice events too, signed, for their merchant only", async function () {
    const receiver = await startReceiver();
    try {
      await setWebhook(node.url, merchant.apiKey, receiver.url);
      const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "999", currency: "USD", description: "Hooked", expiresInSec: 600 });
      await payUri(invoice.uri);
      const deadline = Date.now() + 5000;
      const paidHook = (): unknown => receiver.received.find((h) => (JSON.parse(h.body) as NodeEvent).type === "invoice.paid");
      while (!paidHook() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const hook = receiver.received.map((h) => JSON.parse(h.body) as NodeEvent).find((e) => e.type === "invoice.paid");
      expect(hook?.invoice?.id).to.equal(invoice.id);
    } finally {
      await receiver.close();
    }
  });
});
