import { expect } from "chai";
import { expectedWebhookEvents, expectWebhooksExactlyOnce, startReceiver } from "../helpers/notify.ts";
import { childNodeSuite } from "../helpers/childNodeSuite.ts";
import { ACCOUNTS, getJson } from "./fixtures.ts";
import { createMerchant, setWebhook } from "../helpers/merchants.ts";

const ADMIN = "crash-admin-token-0123456789";
const PAYOUT = ACCOUNTS[2];
const PAYMENTS = 60;
const KILLS = 10;

/**
 * kill -9 of a node process while it delivers webhooks, ten times, while
 * payments keep coming: afterwards every event for the merchant reached the
 * receiver, under the event's one id, and nothing else did.
 */
describe("node: webhooks survive kill -9 (child process, hardhat node)", function () {
  this.timeout(300_000);
  const suite = childNodeSuite({ prefix: "oriole-whk-crash-", fund: [ACCOUNTS[0]], args: ["--allow-private-webhooks"], env: { ORIOLE_ADMIN_TOKEN: ADMIN } });

  it("loses no webhook and never delivers one event under two ids", async function () {
    const { devnet, dir } = suite;
    let open = 0;
    // Answers after 0-40 ms, so kills often land while requests are in flight.
    const receiver = await startReceiver(async () => {
      open++;
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      open--;
      return 200;
    });
    try {
      let child = await suite.start();
      await child.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber());
      const merchant = await createMerchant(child.url, ADMIN, "Shop", PAYOUT);
      const secret = await setWebhook(child.url, merchant.apiKey, receiver.url);

      const usd = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await devnet.connection.ethers.getSigner(ACCOUNTS[0]));
      const paid: string[] = [];
      const paying = (async () => {
        for (let i = 0; i < PAYMENTS; i++) {
          const tx = await usd.transfer(PAYOUT, 1000n + BigInt(i));
          await tx.wait();
          paid.push(tx.hash);
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
        }
      })();

      let inFlightAtKill = 0;
      for (let k = 0; k < KILLS; k++) {
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
        // Every other kill waits for a request to be open at the receiver: a kill between sending and recording.
        for (let w = 0; k % 2 === 0 && open === 0 && w < 200; w++) await new Promise((r) => setTimeout(r, 5));
        if (open > 0) inFlightAtKill++;
        const exit = await child.kill("SIGKILL");
        expect(exit.signal).to.equal("SIGKILL");
        child = await suite.start();
      }
      await paying;
      const head = await devnet.connection.ethers.provider.getBlockNumber();
      await child.waitForIndexed(head);
      // Every delivery done (the log is newest first; all must read delivered).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await getJson(`${child.url}/v1/merchants/me/webhook/deliveries?limit=100`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
        const items = (r.body as { items: { status: string }[] }).items;
        if (items.length >= PAYMENTS && items.every((d) => d.status === "delivered")) break;
        if (Date.now() > deadline) throw new Error(`deliveries not done: ${JSON.stringify(items.filter((d) => d.status !== "delivered").slice(0, 3))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const exit = await child.kill("SIGTERM");
      expect(exit.code).to.equal(0);

      // What should have been delivered: the outbox's events for this payout after the webhook was set.
      const expected = await expectedWebhookEvents(dir, merchant.id, PAYOUT);
      expect(expected.filter((e) => e.type === "payment.confirmed").map((e) => e.txHash)).to.deep.equal(paid);
      const { requests, resent } = expectWebhooksExactlyOnce(receiver.received, expected, secret);
      console.log(`      ${KILLS.toString()} kills (${inFlightAtKill.toString()} with a webhook in flight); ${expected.length.toString()} events, ${requests.toString()} requests: ${resent.toString()} re-sent under the same id, 0 lost, 0 under a second id`);
    } finally {
      await receiver.close();
    }
  });
});
