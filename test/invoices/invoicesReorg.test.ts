import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { openSse, type SseClient } from "../helpers/notify.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { InvoiceStore } from "../../node/src/invoices/invoiceStore.ts";
import { ndefUriMessage } from "../../node/src/invoices/ndef.ts";
import { NodeStore } from "../../node/src/store/store.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { paymentProvider, sendPayment } from "../../client/sdk/payments.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { ADMIN, createInvoice, getInvoice, waitForInvoice } from "./helpers.ts";
import { createMerchant } from "../helpers/merchants.ts";

const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/**
 * An NDEF message decoded per the NFC Forum NDEF spec and URI RTD, written
 * here from the spec (not with the node's encoder): header flags, type
 * length, payload length (1 byte when SR, else 4), type, payload; the URI
 * payload is an identifier code then the rest of the URI.
 */
function decodeNdefUri(bytes: Uint8Array): { flags: { mb: boolean; me: boolean; sr: boolean; il: boolean }; tnf: number; type: string; uri: string; length: number } {
  const header = bytes[0] ?? 0;
  const flags = { mb: (header & 0x80) !== 0, me: (header & 0x40) !== 0, sr: (header & 0x10) !== 0, il: (header & 0x08) !== 0 };
  const typeLength = bytes[1] ?? 0;
  let i = 2;
  let payloadLength: number;
  if (flags.sr) payloadLength = bytes[i++] ?? 0;
  else {
    payloadLength = (((bytes[i] ?? 0) << 24) | ((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0)) >>> 0;
    i += 4;
  }
  if (flags.il) i += 1 + (bytes[i] ?? 0);
  const type = Buffer.from(bytes.subarray(i, i + typeLength)).toString("ascii");
  i += typeLength;
  const payload = bytes.subarray(i, i + payloadLength);
  const prefixes = ["", "http://www.", "https://www.", "http://", "https://"];
  const code = payload[0] ?? 255;
  const uri = (prefixes[code] ?? "?") + Buffer.from(payload.subarray(1)).toString("utf8");
  return { flags, tnf: header & 0x07, type, uri, length: i + payloadLength };
}

describe("invoices: pending payments, reorgs, NDEF, wipe (in-process node, anvil, 3 confirmations)", function () {
  this.timeout(120_000);
  let devnet: Devnet;
  let node: RunningNode;
  let merchant: { id: string; apiKey: string };
  let stream: SseClient;
  let payer: Wallet;
  const rpc = (method: string, params: unknown[] = []): Promise<unknown> => jsonRpcRequest(devnet.chain.rpcUrl, method, params);

  before(async function () {
    devnet = await startDevnet({ chain: "anvil", fund: [ACCOUNTS[0]] });
    node = await startDevnetNode(devnet, { confirmations: 3, adminToken: ADMIN });
    payer = new Wallet(PAYER_KEY, paymentProvider(devnet.chain.rpcUrl, node.chainId));
    merchant = await createMerchant(node.url, ADMIN, "Shop", ACCOUNTS[2]);
    stream = await openSse(`${node.url}/v1/merchants/me/events`, { authorization: `Bearer ${merchant.apiKey}` });
  });

  after(async function () {
    stream.close();
    await node.stop();
    await devnet.stop();
  });

  it("a pending payment does not count; once confirmed the invoice is paid; a reorg that removes it takes the status back", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "4000000", currency: "USD", description: "Reorg", expiresInSec: 600 });
    const req = parsePaymentUri(invoice.uri);
    const receipt = await sendPayment({ signer: payer, tokenAddress: req.token, to: req.to, amount: req.amount, reference: req.reference ?? "" });
    await node.waitForIndexed(receipt.blockNumber);
    const pending = await getJson(`${node.url}/v1/payments?reference=${invoice.reference}`);
    expect((pending.body as { items: { status: string }[] }).items.map((p) => p.status)).to.deep.equal(["pending"]);
    expect(await getInvoice(node.url, merchant.apiKey, invoice.id)).to.include({ status: "open", amountReceived: "0" });

    for (let i = 0; i < 2; i++) await rpc("evm_mine");
    await waitForInvoice(node.url, merchant.apiKey, invoice.id, (i) => i.status === "paid");
    // The block with the payment and the two on it are replaced by empty ones.
    await rpc("anvil_reorg", [3, []]);
    for (let i = 0; i < 4; i++) await rpc("evm_mine");
    const back = await waitForInvoice(node.url, merchant.apiKey, invoice.id, (i) => i.status === "open");
    expect(back.amountReceived).to.equal("0");
    await new Promise((r) => setTimeout(r, 300));
    const types = stream.messages.map((m) => JSON.parse(m.data) as NodeEvent).filter((e) => e.invoice?.id === invoice.id).map((e) => e.type);
    expect(types).to.deep.equal(["invoice.paid", "invoice.open"]);
  });

  it("NDEF: one short well-known URI record (TNF 1, type U, code 0 + the whole URI), decoded independently", async function () {
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "1", currency: "HKD", description: "Tag", expiresInSec: 600 });
    const res = await fetch(`${node.url}/v1/invoices/${invoice.id}/ndef`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.equal("application/octet-stream");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const rec = decodeNdefUri(bytes);
    expect(rec.flags).to.deep.equal({ mb: true, me: true, sr: true, il: false });
    expect(rec.tnf).to.equal(1);
    expect(rec.type).to.equal("U");
    expect(rec.uri).to.equal(invoice.uri);
    expect(rec.length).to.equal(bytes.length);
    // A payload over 255 bytes takes the long-record form (4-byte length, SR clear).
    const long = `ethereum:0x${"a".repeat(40)}@1/transfer?address=0x${"b".repeat(40)}&uint256=${"9".repeat(150)}`;
    const big = ndefUriMessage(long);
    const bigRec = decodeNdefUri(big);
    expect(bigRec.flags).to.deep.equal({ mb: true, me: true, sr: false, il: false });
    expect(bigRec.uri).to.equal(long);
    expect(bigRec.length).to.equal(big.length);
  });

  it("a chain-reset wipe keeps the invoices (sublevel inv) like the merchants", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-invoices-wipe-"));
    try {
      const store = await NodeStore.open(dir);
      const invoices = new InvoiceStore(store.invoiceSublevel());
      const { invoice } = (await invoices.create(
        { merchantId: "mer_0123456789abcdef", payout: ACCOUNTS[2], chainId: 31337, token: devnet.deployment.contracts.tokens.USD },
        { amount: 5n, currency: "USD", description: "kept", orderId: null, expiresAtMs: Date.now() + 60_000 },
        "k",
        "body",
      )) as { invoice: { id: string; reference: string } };
      await store.merchantSublevel().put("x", "y");
      await store.webhookSublevel().put("cur", "5");
      await store.wipe();
      expect(await invoices.get("mer_0123456789abcdef", invoice.id)).to.include({ id: invoice.id });
      expect((await invoices.byReference(invoice.reference))?.id).to.equal(invoice.id);
      expect(await store.merchantSublevel().get("x")).to.equal("y");
      expect(await store.webhookSublevel().get("cur")).to.equal(undefined);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
