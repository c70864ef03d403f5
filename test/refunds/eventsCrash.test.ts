import { expect } from "chai";
import { id } from "ethers";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { sendPayment } from "../../client/sdk/payments.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import type { RefundView } from "../../node/src/refunds/refunds.ts";
import { NodeStore } from "../../node/src/store/store.ts";
import { expectedWebhookEvents, expectWebhooksExactlyOnce, startReceiver } from "../helpers/notify.ts";
import { childNodeSuite } from "../helpers/childNodeSuite.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { createMerchant, setWebhook } from "../helpers/merchants.ts";

const ADMIN = "refund-crash-admin-token-0123456789";
const PAYER = ACCOUNTS[0];
const PAYOUT = ACCOUNTS[2];
const KILLS = 4;

/**
 * kill -9 of the node process right after it answered POST /v1/refunds (the
 * record is on disk, its event may not be), or right after a refund payment
 * was mined: after the restarts, every refund has each of its events
 * exactly once in the outbox, and the webhook got each under one id.
 */
describe("refunds: events survive kill -9 (child process, hardhat node)", function () {
  this.timeout(300_000);
  const suite = childNodeSuite({ prefix: "oriole-refund-crash-", fund: [PAYER], args: ["--allow-private-webhooks"], env: { ORIOLE_ADMIN_TOKEN: ADMIN } });

  it("loses no refund event and never repeats one", async function () {
    const { devnet, dir } = suite;
    const receiver = await startReceiver();
    try {
      let child = await suite.start();
      await child.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber());
      const merchant = await createMerchant(child.url, ADMIN, "Shop", PAYOUT);
      const auth = { authorization: `Bearer ${merchant.apiKey}` };
      const secret = await setWebhook(child.url, merchant.apiKey, receiver.url);
      const receipt = await sendPayment({ signer: await devnet.connection.ethers.getSigner(PAYER), tokenAddress: devnet.deployment.contracts.tokens.USD, to: PAYOUT, amount: 1_000n, reference: id("order") });
      const transfer = receipt.logs.find((l) => l.topics[0] === id("Transfer(address,address,uint256)"));
      await child.waitForIndexed(receipt.blockNumber);

      const refunds: RefundView[] = [];
      for (let k = 0; k < KILLS; k++) {
        const r = await getJson(`${child.url}/v1/refunds`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json", "idempotency-key": `crash-${k.toString()}` },
          body: JSON.stringify({ payment: `${receipt.hash}:${String(transfer?.index)}`, amount: "100" }),
        });
        expect(r.status, JSON.stringify(r.body)).to.equal(201);
        const refund = r.body as RefundView;
        refunds.push(refund);
        // Even kills: at once after the answer; odd ones: after paying the refund (its completion may be pending).
        if (k % 2 === 1) {
          const req = parsePaymentUri(refund.uri);
          await sendPayment({ signer: await devnet.connection.ethers.getSigner(PAYOUT), tokenAddress: req.token, to: req.to, amount: req.amount, reference: req.reference! });
          await new Promise((res) => setTimeout(res, Math.random() * 60));
        }
        expect((await child.kill("SIGKILL")).signal).to.equal("SIGKILL");
        child = await suite.start();
      }
      await child.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber());
      const paid = Math.floor(KILLS / 2);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await getJson(`${child.url}/v1/merchants/me/webhook/deliveries?limit=100`, { headers: auth });
        const items = (r.body as { items: { status: string; type: string }[] }).items;
        const refundItems = items.filter((d) => d.type.startsWith("refund."));
        if (refundItems.filter((d) => d.type === "refund.completed").length >= paid && refundItems.length >= KILLS && items.every((d) => d.status === "delivered")) break;
        if (Date.now() > deadline) throw new Error(`deliveries not done: ${JSON.stringify(items.slice(0, 5))}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      expect((await child.kill("SIGTERM")).code).to.equal(0);

      const store = await NodeStore.open(dir);
      let events: NodeEvent[];
      try {
        events = (await store.eventsAfter(0, 1_000_000)).filter((e) => e.type.startsWith("refund."));
      } finally {
        await store.close();
      }
      // Unpaid: exactly its creation. Paid: its completion once (after its creation, unless the kill
      // came before the creation was pushed and the payment was confirmed by the time the node was back).
      refunds.forEach((x, k) => {
        const types = events.filter((e) => e.refund?.id === x.id).map((e) => e.type);
        if (k % 2 === 0) expect(types, x.id).to.deep.equal(["refund.open"]);
        else expect([["refund.open", "refund.completed"], ["refund.completed"]], x.id).to.deep.include(types);
      });
      expect(new Set(events.map((e) => e.id)).size).to.equal(events.length);
      const expected = await expectedWebhookEvents(dir, merchant.id, PAYOUT);
      expect(expected.filter((e) => e.type.startsWith("refund."))).to.deep.equal(events);
      const { requests, resent } = expectWebhooksExactlyOnce(receiver.received, expected, secret);
      console.log(`      ${KILLS.toString()} kills; ${events.length.toString()} refund events, ${requests.toString()} webhook requests (${resent.toString()} re-sent under the same id), 0 lost, 0 repeated`);
    } finally {
      await receiver.close();
    }
  });
});
