import { expect } from "chai";
import { id, Interface } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { RefundView } from "../../node/src/refunds/refunds.ts";
import type { DailyReport } from "../../node/src/reports/daily.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { sendAndMine } from "../helpers/anvil.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { openSse, type SseClient } from "../helpers/notify.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { createMerchant } from "../helpers/merchants.ts";

const ADMIN = "refunds-reorg-admin-token-0123456789";
const PAYER = ACCOUNTS[0];
const PAYOUT = ACCOUNTS[2];
const token = new Interface(STABLE_TOKEN_ABI);

/**
 * Refund status is read from the indexed payments, never stored: on anvil, a
 * payment is refundable only once confirmed (2 blocks here), and a refund
 * payment that a reorg removes turns the refund open again, in the refund,
 * the histories and the daily report alike.
 */
describe("refunds: confirmations and reorgs (anvil)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: RunningNode;
  let key: string;
  let stream: SseClient;
  const rpc = (method: string, params: unknown[] = []): Promise<unknown> => jsonRpcRequest(devnet.chain.rpcUrl, method, params);
  const head = async (): Promise<{ number: number; hash: string; timestamp: number }> => {
    const b = (await rpc("eth_getBlockByNumber", ["latest", false])) as { number: string; hash: string; timestamp: string };
    return { number: Number(b.number), hash: b.hash, timestamp: Number(b.timestamp) };
  };
  const waitForHead = async (): Promise<void> => {
    for (let i = 0; i < 600; i++) {
      if ((await node.store.cursor())?.blockHash === (await head()).hash) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the node did not reach the chain head");
  };
  const send = async (from: string, to: string, value: bigint, ref: string): Promise<{ hash: string; logIndex: number }> => {
    const { hash, receipt } = await sendAndMine(devnet.chain.rpcUrl, { from, to: devnet.deployment.contracts.tokens.USD, data: token.encodeFunctionData("pay", [to, value, ref]) });
    const transfer = receipt.logs.find((l) => l.topics[0] === id("Transfer(address,address,uint256)"));
    return { hash, logIndex: Number(transfer?.logIndex) };
  };
  const post = (body: unknown) => getJson(`${node.url}/v1/refunds`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": `k-${Math.random().toString()}` }, body: JSON.stringify(body) });
  const get = (p: string) => getJson(`${node.url}${p}`, { headers: { authorization: `Bearer ${key}` } });

  before(async function () {
    devnet = await startDevnet({ chain: "anvil", fund: [PAYER] });
    node = await startDevnetNode(devnet, { confirmations: 2, adminToken: ADMIN });
    key = (await createMerchant(node.url, ADMIN, "Shop", PAYOUT)).apiKey;
    stream = await openSse(`${node.url}/v1/merchants/me/events`, { authorization: `Bearer ${key}` });
  });

  after(async function () {
    stream.close();
    await node.stop();
    await devnet.stop();
  });

  it("refuses to refund a payment before it is confirmed; a reorg that drops the refund payment reopens the refund", async function () {
    const paid = await send(PAYER, PAYOUT, 1_000n, id("order"));
    await waitForHead();
    const early = await post({ payment: `${paid.hash}:${paid.logIndex.toString()}`, amount: "400" });
    expect([early.status, (early.body as { error: { code: string } }).error.code]).to.deep.equal([409, "payment_not_confirmed"]);
    await rpc("evm_mine");
    await waitForHead();
    const created = await post({ payment: `${paid.hash}:${paid.logIndex.toString()}`, amount: "400" });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const refund = created.body as RefundView;

    const req = parsePaymentUri(refund.uri);
    const refundTx = await send(PAYOUT, req.to, req.amount, req.reference!);
    await waitForHead();
    // One block deep: the refund payment is pending, the refund still open.
    let r = (await get(`/v1/refunds/${refund.id}`)).body as RefundView;
    expect(r).to.include({ status: "open", paid: "0" });
    expect(r.payments).to.deep.equal([{ txHash: refundTx.hash, logIndex: refundTx.logIndex, amount: "400", status: "pending" }]);
    await rpc("evm_mine");
    await waitForHead();
    r = (await get(`/v1/refunds/${refund.id}`)).body as RefundView;
    expect(r).to.include({ status: "completed", paid: "400" });
    const date = new Date((await head()).timestamp * 1000).toISOString().slice(0, 10);
    expect(((await get(`/v1/merchants/me/reports/daily?date=${date}`)).body as DailyReport).totals[0]).to.include({ refunds: "400", refundPayments: 1 });

    // Replace the refund's block and the one after it with empty blocks: its payment is gone.
    await rpc("anvil_reorg", [2, []]);
    await waitForHead();
    expect((await rpc("eth_getTransactionReceipt", [refundTx.hash])) ?? null).to.equal(null);
    r = (await get(`/v1/refunds/${refund.id}`)).body as RefundView;
    expect(r).to.include({ status: "open", paid: "0" });
    expect(r.payments).to.deep.equal([]);
    const history = (await getJson(`${node.url}/v1/accounts/${PAYER}/payments`)).body as { items: { txHash: string; refund?: unknown; refunds?: { status: string }[] }[] };
    expect(history.items.some((p) => p.txHash === refundTx.hash)).to.equal(false);
    expect(history.items.find((p) => p.txHash === paid.hash)?.refunds).to.deep.equal([{ id: refund.id, amount: "400", status: "open" }]);
    expect(((await get(`/v1/merchants/me/reports/daily?date=${date}`)).body as DailyReport).totals[0]).to.include({ refunds: "0", refundPayments: 0 });

    // Pushed as it went: created, completed, reopened by the reorg. The reopening is
    // another fact than the creation (it comes from completed): its own id, so webhooks deliver it too.
    const pushed = (): NodeEvent[] => stream.messages.map((x) => JSON.parse(x.data) as NodeEvent).filter((e) => e.refund?.id === refund.id);
    for (let i = 0; i < 200 && pushed().length < 3; i++) await new Promise((res) => setTimeout(res, 25));
    const events = pushed();
    expect(events.map((e) => [e.type, e.refund?.paid])).to.deep.equal([
      ["refund.open", "0"],
      ["refund.completed", "400"],
      ["refund.open", "0"],
    ]);
    expect(events[1]?.txHash).to.equal(refundTx.hash);
    expect(new Set(events.map((e) => e.id)).size).to.equal(3);
  });
});
