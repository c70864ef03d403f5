import { expect } from "chai";
import { Interface, hexlify, randomBytes } from "ethers";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { openSse, startReceiver, type SseClient } from "../helpers/notify.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { verifySignature } from "../../node/src/notify/signature.ts";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { ACCOUNTS } from "./fixtures.ts";
import { createMerchant, setWebhook } from "../helpers/merchants.ts";

const ADMIN = "reorg-admin-token-0123456789";
const PAYOUT = ACCOUNTS[3];
const token = new Interface(STABLE_TOKEN_ABI);

/** A payment that a reorg removes reaches the merchant as pending, then dropped: never confirmed. */
describe("node: notifications across a reorg (anvil_reorg)", function () {
  this.timeout(120_000);
  let devnet: Devnet;
  let node: RunningNode;
  let stream: SseClient | undefined;

  before(async function () {
    devnet = await startDevnet({ chain: "anvil", fund: [ACCOUNTS[0]] });
    node = await startDevnetNode(devnet, { confirmations: 3, adminToken: ADMIN, allowPrivateWebhooks: true });
  });

  after(async function () {
    stream?.close();
    await node.stop();
    await devnet.stop();
  });

  it("SSE and webhooks report the vanished payment as payment.dropped under its own id, and never confirm it", async function () {
    const rpc = (method: string, params: unknown[] = []): Promise<unknown> => jsonRpcRequest(devnet.chain.rpcUrl, method, params);
    const { apiKey } = await createMerchant(node.url, ADMIN, "Shop", PAYOUT);
    const auth = { authorization: `Bearer ${apiKey}` };
    const receiver = await startReceiver();
    try {
      const secret = await setWebhook(node.url, apiKey, receiver.url);
      stream = await openSse(`${node.url}/v1/merchants/me/events`, auth);
      const data = { from: ACCOUNTS[0], to: devnet.deployment.contracts.tokens.USD, data: token.encodeFunctionData("pay", [PAYOUT, 4242n, hexlify(randomBytes(32))]) };
      const txHash = (await rpc("eth_sendTransaction", [data])) as string;
      const [pending] = await stream.waitFor(1);
      expect(pending?.event).to.equal("payment.pending");
      // The block with the payment is replaced by an empty one; then the chain grows past the confirmation depth.
      await rpc("anvil_reorg", [1, []]);
      const [, dropped] = await stream.waitFor(2);
      for (let i = 0; i < 5; i++) await rpc("evm_mine");
      await new Promise((r) => setTimeout(r, 500));
      const events = stream.messages.map((m) => JSON.parse(m.data) as NodeEvent);
      expect(events.map((e) => e.type)).to.deep.equal(["payment.pending", "payment.dropped"]);
      expect(events.every((e) => e.txHash === txHash)).to.equal(true);
      expect(dropped?.id).to.not.equal(pending?.id);
      expect(events[0]?.id).to.not.equal(events[1]?.id);

      for (let i = 0; i < 200 && receiver.received.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 200));
      expect(receiver.received.map((h) => h.headers["oriole-event-id"])).to.deep.equal(events.map((e) => e.id));
      for (const h of receiver.received) expect(verifySignature({ secret, body: h.body, header: h.headers["oriole-signature"] as string }).ok).to.equal(true);
    } finally {
      await receiver.close();
    }
  });
});
