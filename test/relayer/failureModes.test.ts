import { expect } from "chai";
import { getAddress, hexlify, randomBytes, toQuantity, Wallet } from "ethers";
import { hashPaymentIntent } from "../../client/sdk/account/intent.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { NodeConfig } from "../../node/src/config.ts";
import { intentTuple } from "../../node/src/relayer/chainCalls.ts";
import { factoryInterface, relayInterface, tokenInterface } from "../../node/src/relayer/contracts.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { startRpcProxy } from "../helpers/rpcProxy.ts";
import {
  chainTime,
  devSend,
  fundedRelayerKey,
  getJsonBody,
  intentOf,
  mintData,
  passkeyWallet,
  paymentEvents,
  postIntent,
  submission,
  txCount,
  waitAllFinal,
  type IntentFields,
  type JsonResponse,
  type PasskeyWallet,
} from "./fixtures.ts";

/**
 * Failure modes of the passkey-payment relayer that relayer.test.ts and
 * crash.test.ts do not reach: an account drained between simulation and
 * inclusion, a relayer without ETH for gas, a flaky RPC while broadcasting,
 * a burst from one account, and what GET /v1/intents/{id} shows meanwhile.
 * The rule checked throughout: a failed or dropped transaction is retried or
 * reported, never duplicated; counted from the chain, not from the API.
 */

const FEE = 10_000n;
const FUNDS = 10_000_000n; // 10 of the currency
const GWEI = 1_000_000_000n;

type Body = JsonResponse["body"];

/** Watchers still running (a test failed before stopping its own): stopped before the node goes. */
const watchers: { stop(): Promise<void> }[] = [];

/** The order an intent's status moves in (the relayer goes back from submitted to queued only after a whole-transaction revert or a lost nonce). */
const STAGE = { queued: 0, submitted: 1, confirmed: 2, failed: 2 } as const;

/**
 * Polls GET /v1/intents/{id} for `ids` until stopped, and checks every answer
 * on the spot: a known status, txHash null iff queued, never leaving a final
 * status, never moving backwards (none of these tests reverts a whole
 * transaction, the one way back from submitted to queued).
 */
function watchIntents(nodeUrl: string, ids: readonly string[]): { seen: Map<string, Body[]>; stop(): Promise<void> } {
  const seen = new Map<string, Body[]>(ids.map((id) => [id, []]));
  // An object, not two lets: the loop reads what stop() and the checks write.
  const state: { stopped: boolean; problem: Error | undefined } = { stopped: false, problem: undefined };
  const loop = (async () => {
    while (!state.stopped && !state.problem) {
      let answers: JsonResponse[];
      try {
        answers = await Promise.all(ids.map((id) => getJsonBody(`${nodeUrl}/v1/intents/${id}`)));
      } catch (e) {
        state.problem = e as Error;
        break;
      }
      for (const [i, r] of answers.entries()) {
        const id = ids[i] ?? "";
        const history = seen.get(id) ?? [];
        const prev = history.at(-1);
        const s = String(r.body.status);
        try {
          expect(r.status, JSON.stringify(r.body)).to.equal(200);
          expect(s).to.be.oneOf(Object.keys(STAGE));
          expect(r.body.id).to.equal(id);
          if (s === "queued") expect(r.body.txHash, `queued with a txHash: ${JSON.stringify(r.body)}`).to.equal(null);
          else expect(r.body.txHash, `${s} without a txHash: ${JSON.stringify(r.body)}`).to.match(/^0x[0-9a-f]{64}$/);
          if (s === "failed") expect(r.body.error?.code, JSON.stringify(r.body)).to.be.a("string");
          if (prev) {
            const p = String(prev.status) as keyof typeof STAGE;
            if (p === "confirmed" || p === "failed") expect(r.body, "a final intent changed").to.deep.equal(prev);
            else expect(STAGE[s as keyof typeof STAGE], `${p} → ${s}`).to.be.at.least(STAGE[p]);
          }
        } catch (e) {
          state.problem = e as Error;
        }
        if (!prev || JSON.stringify(prev) !== JSON.stringify(r.body)) history.push(r.body);
        seen.set(id, history);
      }
      await new Promise((res) => setTimeout(res, 25));
    }
  })();
  const watcher = {
    seen,
    async stop() {
      state.stopped = true;
      await loop;
      if (state.problem) throw state.problem;
    },
  };
  watchers.push(watcher);
  return watcher;
}


describe("relayer: failure modes (drained accounts, no gas money, flaky RPC, bursts)", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let rpc: string;
  let chainId: number;
  let usd: string;
  let startBlock: number;
  const nodes: RunningNode[] = [];

  const rpcCall = (method: string, params: unknown[] = []): Promise<unknown> => jsonRpcRequest(rpc, method, params);

  const signerSend = (to: string, data: string): Promise<void> => devSend(devnet, to, data);

  async function balanceOf(who: string): Promise<bigint> {
    const ret = (await rpcCall("eth_call", [{ to: usd, data: tokenInterface.encodeFunctionData("balanceOf", [who]) }, "latest"])) as string;
    return tokenInterface.decodeFunctionResult("balanceOf", ret)[0] as bigint;
  }

  /** A funded passkey account, deployed unless `deployed: false`. */
  async function account(opts: { deployed?: boolean; funds?: bigint } = {}): Promise<PasskeyWallet> {
    const w = passkeyWallet(devnet.deployment, 0n);
    await signerSend(usd, mintData(w.account, opts.funds ?? FUNDS));
    if (opts.deployed ?? true) {
      await signerSend(devnet.deployment.contracts.accounts.factory, factoryInterface.encodeFunctionData("createAccount", [w.device.publicKey.qx, w.device.publicKey.qy, w.salt]));
    }
    return w;
  }

  async function fields(f: Partial<IntentFields> & { nonce: bigint }): Promise<IntentFields> {
    return { token: usd, to: getAddress(hexlify(randomBytes(20))), amount: 1_000_000n, deadline: (await chainTime(rpc)) + 900n, ...f };
  }

  /** A node with its own fresh relayer EOA (so its nonces and fees are this test's alone). */
  async function relayerNode(extra: Partial<NodeConfig> = {}): Promise<{ node: RunningNode; relayer: string; key: string }> {
    const key = await fundedRelayerKey(rpc);
    const node = await startDevnetNode(devnet, { relayerKey: key, relayerResendMs: 60_000, rateLimitPerIp: 0, ...extra });
    nodes.push(node);
    return { node, relayer: new Wallet(key).address, key };
  }

  async function intentView(node: RunningNode, id: string): Promise<Body> {
    const r = await getJsonBody(`${node.url}/v1/intents/${id}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body;
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The txHash once the intent is submitted. */
  const whenSubmitted = (node: RunningNode, id: string): Promise<string> =>
    waitFor(`${id} submitted`, async () => {
      const v = await intentView(node, id);
      return v.status === "submitted" && typeof v.txHash === "string" ? v.txHash : undefined;
    });

  /** Another payment of `w` (its own signature, nonce `nonce`) put on-chain by the devnet signer with a high tip, bypassing the relayer: it is mined before the relayer's transaction in the same block. */
  async function drain(w: PasskeyWallet, nonce: bigint, amount: bigint): Promise<{ hash: string; payee: string }> {
    const f = await fields({ nonce, amount, maxRelayerFee: 0n });
    const intent = intentOf(f);
    const body = submission(chainId, w, intent);
    const [signer] = await devnet.connection.ethers.getSigners();
    if (!signer) throw new Error("no signer");
    const data = relayInterface.encodeFunctionData("relay", [[], [[w.account, intentTuple(intent), 0n, body.signature]], signer.address]);
    const hash = (await rpcCall("eth_sendTransaction", [
      { from: signer.address, to: devnet.deployment.contracts.accounts.relay, data, gas: toQuantity(500_000n), maxFeePerGas: toQuantity(500n * GWEI), maxPriorityFeePerGas: toQuantity(200n * GWEI) },
    ])) as string;
    return { hash, payee: f.to };
  }

  async function receipt(hash: string): Promise<{ status: string; from: string; logs: { address: string; topics: string[]; data: string }[] } | null> {
    return (await rpcCall("eth_getTransactionReceipt", [hash])) as { status: string; from: string; logs: { address: string; topics: string[]; data: string }[] } | null;
  }

  async function eventsTo(payees: readonly string[]): Promise<{ payee: string; payer: string; amount: bigint; txHash: string }[]> {
    const set = new Set(payees.map((p) => getAddress(p)));
    return (await paymentEvents(rpc, usd, startBlock)).filter((e) => set.has(getAddress(e.payee)));
  }

  async function queueLength(node: RunningNode): Promise<number> {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const m = /^oriole_relayer_queue_length (\d+)$/m.exec(text);
    if (!m) throw new Error("no oriole_relayer_queue_length in /metrics");
    return Number(m[1]);
  }

  before(async function () {
    devnet = await startDevnet();
    rpc = devnet.chain.rpcUrl;
    chainId = devnet.deployment.chainId;
    usd = devnet.deployment.contracts.tokens.USD;
    startBlock = Number(await rpcCall("eth_blockNumber"));
  });

  afterEach(async function () {
    // A failed test's watcher: its own error was already reported by the test.
    while (watchers.length > 0) await watchers.pop()?.stop().catch(() => undefined);
    await rpcCall("evm_setAutomine", [true]);
    while (nodes.length > 0) await nodes.pop()?.stop();
  });

  after(async function () {
    await (devnet as Devnet | undefined)?.stop();
  });

  it("1a. an account drained after simulation: its direct transaction reverts, the intent fails with insufficient_balance (not re-sent), the queue moves on", async function () {
    const { node, relayer } = await relayerNode();
    const x = await account();
    const other = await account();
    const nonceBefore = await txCount(rpc, relayer);
    await rpcCall("evm_setAutomine", [false]);
    const a = await fields({ nonce: 0n, amount: 6_000_000n });
    const ra = await postIntent(node.url, submission(chainId, x, intentOf(a)));
    expect(ra.status, JSON.stringify(ra.body)).to.equal(202);
    const id = String(ra.body.id);
    const relayed = await whenSubmitted(node, id);
    // The same account pays elsewhere (next nonce) first: the relayer's transaction, already broadcast, now reverts.
    const drained = await drain(x, 1n, 6_000_000n);
    await rpcCall("evm_mine");
    expect((await receipt(drained.hash))?.status).to.equal("0x1");
    expect((await receipt(relayed))?.status, "the relayer's transaction should have reverted").to.equal("0x0");
    await rpcCall("evm_setAutomine", [true]);

    const final = (await waitAllFinal(node.url, [id], 20_000)).get(id);
    expect(final?.status, JSON.stringify(final)).to.equal("failed");
    expect(final?.error?.code, JSON.stringify(final)).to.equal("insufficient_balance");
    // The record points at the transaction that reverted (the chain's trace of the attempt).
    expect(final?.txHash).to.equal(relayed);
    expect(final?.error?.message).to.include(relayed);
    // Only the reverted transaction: the intent was not put on-chain again.
    expect(await txCount(rpc, relayer)).to.equal(nonceBefore + 1);
    expect(await eventsTo([a.to])).to.have.length(0);
    expect(await eventsTo([drained.payee])).to.have.length(1);
    expect(await balanceOf(x.account)).to.equal(FUNDS - 6_000_000n);
    expect(await balanceOf(relayer)).to.equal(0n);
    // Its nonce is free again in the relayer (only the chain's bitmap has nonce 1).
    expect((await getJsonBody(`${node.url}/v1/accounts/${x.account}/next-nonce`)).body).to.deep.equal({ nonce: "0" });

    // Not stuck: another account's payment goes through.
    const b = await fields({ nonce: 0n });
    const rb = await postIntent(node.url, submission(chainId, other, intentOf(b)));
    expect(rb.status, JSON.stringify(rb.body)).to.equal(202);
    const fb = (await waitAllFinal(node.url, [String(rb.body.id)], 20_000)).get(String(rb.body.id));
    expect(fb?.status).to.equal("confirmed");
    const eb = await eventsTo([b.to]);
    expect(eb).to.have.length(1);
    expect(eb[0]?.txHash).to.equal(fb?.txHash);
    expect(await queueLength(node)).to.equal(0);
  });

  it("1b. drained while its batch is in flight: that payment fails in the mined relay transaction, the other payment of the batch is confirmed", async function () {
    const { node, relayer } = await relayerNode();
    const [y, z, w] = [await account(), await account(), await account({ deployed: false })];
    await rpcCall("evm_setAutomine", [false]);
    // A first transaction in flight holds the next ones in the queue, so both ride in one batch.
    const blocker = await fields({ nonce: 0n });
    const rBlock = await postIntent(node.url, submission(chainId, y, intentOf(blocker)));
    const blockerId = String(rBlock.body.id);
    await whenSubmitted(node, blockerId);
    const fz = await fields({ nonce: 0n, amount: 6_000_000n });
    const fw = await fields({ nonce: 0n, amount: 2_000_000n });
    const [rz, rw] = await Promise.all([postIntent(node.url, submission(chainId, z, intentOf(fz))), postIntent(node.url, submission(chainId, w, intentOf(fw), { deploy: true }))]);
    expect([rz.status, rw.status]).to.deep.equal([202, 202]);
    const [zid, wid] = [String(rz.body.id), String(rw.body.id)];
    const watch = watchIntents(node.url, [blockerId, zid, wid]);
    for (const id of [zid, wid]) expect((await intentView(node, id)).status).to.equal("queued");
    await rpcCall("evm_mine");
    const batchTx = await whenSubmitted(node, zid);
    expect(await whenSubmitted(node, wid)).to.equal(batchTx);
    const drained = await drain(z, 1n, 6_000_000n);
    await rpcCall("evm_mine");
    await rpcCall("evm_setAutomine", [true]);
    const final = await waitAllFinal(node.url, [blockerId, zid, wid], 20_000);
    await watch.stop();

    const mined = await receipt(batchTx);
    expect(mined?.status).to.equal("0x1");
    const failedLogs = (mined?.logs ?? []).map((l) => relayInterface.parseLog(l)).filter((e) => e?.name === "RelayedPaymentFailed");
    expect(failedLogs).to.have.length(1);
    expect(final.get(blockerId)?.status).to.equal("confirmed");
    expect(final.get(zid)).to.deep.include({ status: "failed", txHash: batchTx });
    expect(final.get(zid)?.error?.code, JSON.stringify(final.get(zid))).to.equal("insufficient_balance");
    expect(final.get(wid)).to.deep.include({ status: "confirmed", txHash: batchTx });
    expect(await eventsTo([fz.to])).to.have.length(0);
    const ew = await eventsTo([fw.to]);
    expect(ew.map((e) => [e.amount, e.txHash])).to.deep.equal([[2_000_000n, batchTx]]);
    expect(await eventsTo([drained.payee])).to.have.length(1);
    expect(await balanceOf(z.account)).to.equal(FUNDS - 6_000_000n);
    expect(await balanceOf(w.account)).to.equal(FUNDS - 2_000_000n - FEE);
    // Fees for the two payments made, none for the failed one.
    expect(await balanceOf(relayer)).to.equal(2n * FEE);
    expect(await queueLength(node)).to.equal(0);
  });

  it("2. a relayer without ETH for gas keeps the intents (never lost, nothing sent) and sends them once funded, without piling up fee bumps", async function () {
    // Replacements every 200 ms: a refused broadcast must not make each retry pricier (it would outgrow any later funding).
    const { node, relayer } = await relayerNode({ relayerResendMs: 200 });
    const ws = [await account(), await account(), await account({ deployed: false })];
    await rpcCall("hardhat_setBalance", [relayer, "0x0"]);
    const nonceBefore = await txCount(rpc, relayer, "pending");
    const fs = await Promise.all(ws.map((_, i) => fields({ nonce: 0n, amount: 1_000_000n + BigInt(i) })));
    const responses = await Promise.all(ws.map((w, i) => postIntent(node.url, submission(chainId, w, intentOf(fs[i]!), { deploy: i === 2 }))));
    for (const r of responses) expect(r.status, JSON.stringify(r.body)).to.equal(202);
    const ids = responses.map((r) => String(r.body.id));
    const watch = watchIntents(node.url, ids);
    await new Promise((r) => setTimeout(r, 4_000));
    for (const id of ids) expect((await intentView(node, id)).status).to.be.oneOf(["queued", "submitted"]);
    expect(await txCount(rpc, relayer, "pending")).to.equal(nonceBefore);
    expect(await eventsTo(fs.map((f) => f.to))).to.have.length(0);
    const unfundedGauge = async (): Promise<string | undefined> => /^oriole_relayer_unfunded (\d)$/m.exec(await (await fetch(`${node.url}/metrics`)).text())?.[1];
    expect(await unfundedGauge(), "the operator's alarm while the relayer cannot pay gas").to.equal("1");
    // Meanwhile a new intent is refused at once (the payer can pay another way), and nothing of it is kept.
    const late = await fields({ nonce: 1n, amount: 999n });
    const refused = await postIntent(node.url, submission(chainId, ws[0]!, intentOf(late)));
    expect([refused.status, refused.body.error?.code], JSON.stringify(refused.body)).to.deep.equal([503, "relayer_unfunded"]);
    expect((await getJsonBody(`${node.url}/v1/intents/${hashPaymentIntent(chainId, ws[0]!.account, intentOf(late)).toLowerCase()}`)).status).to.equal(404);
    // One accepted before is still its stored record, not a refusal.
    expect((await postIntent(node.url, submission(chainId, ws[0]!, intentOf(fs[0]!)))).status).to.equal(200);

    // Enough for a few times the gas of one such transaction at today's fees, not for 20 rounds of +25%.
    const block = (await rpcCall("eth_getBlockByNumber", ["latest", false])) as { baseFeePerGas: string };
    const maxFee = 2n * BigInt(block.baseFeePerGas) + 2n * GWEI;
    await rpcCall("hardhat_setBalance", [relayer, toQuantity(3_000_000n * maxFee)]);
    const final = await waitAllFinal(node.url, ids, 20_000);
    await watch.stop();
    for (const r of final.values()) expect(r.status, JSON.stringify(r)).to.equal("confirmed");
    const events = await eventsTo(fs.map((f) => f.to));
    expect(events).to.have.length(3);
    for (const [i, f] of fs.entries()) {
      const e = events.filter((x) => getAddress(x.payee) === f.to);
      expect(e.map((x) => [x.amount, x.txHash])).to.deep.equal([[f.amount, final.get(ids[i]!)?.txHash]]);
    }
    const txs = new Set([...final.values()].map((r) => String(r.txHash)));
    expect(await txCount(rpc, relayer)).to.equal(nonceBefore + txs.size);
    expect(await balanceOf(relayer)).to.equal(3n * FEE);
    expect(await unfundedGauge()).to.equal("0");
  });

  it("3. a flaky RPC (rate-limited calls and estimates, broadcasts refused, answers lost after the chain took them, a full outage): a 503 at admission, every accepted intent mined exactly once", async function () {
    const proxy = await startRpcProxy(rpc);
    try {
      const { node, relayer } = await relayerNode({ rpcUrl: proxy.url, relayerResendMs: 300, relayerBatchSize: 3 });
      const ws = [await account(), await account(), await account(), await account({ deployed: false })];
      const nonceBefore = await txCount(rpc, relayer);
      const fs: IntentFields[] = [];
      const bodies = [];
      for (const [i, w] of ws.entries()) {
        for (let n = 0n; n < 3n; n++) {
          const f = await fields({ nonce: n, amount: 1_000_000n + BigInt(i) * 10n + n });
          fs.push(f);
          bodies.push(submission(chainId, w, intentOf(f), { deploy: i === 3 }));
        }
      }
      // One batch goes out and waits; the other intents queue behind it.
      await rpcCall("evm_setAutomine", [false]);
      const responses = await Promise.all(bodies.map((b) => postIntent(node.url, b)));
      for (const r of responses) expect(r.status, JSON.stringify(r.body)).to.equal(202);
      const ids = responses.map((r) => String(r.body.id));
      const watch = watchIntents(node.url, ids);

      // A rate-limited RPC (JSON-RPC error answers) at admission: 503 chain_unavailable, not a 4xx about the intent.
      const lateFields = await fields({ nonce: 3n, amount: 1_000_099n });
      const lateBody = submission(chainId, ws[0]!, intentOf(lateFields));
      proxy.rule = () => "rpcError";
      const refused = await postIntent(node.url, lateBody);
      expect([refused.status, refused.body.error?.code], JSON.stringify(refused.body)).to.deep.equal([503, "chain_unavailable"]);

      // The sender's next calls: simulations and estimates rate-limited, then broadcasts refused, then answers lost.
      let sends = 0;
      let limited = 0;
      proxy.rule = (methods) => {
        if ((methods.includes("eth_estimateGas") || methods.includes("eth_call")) && ++limited <= 6) return "rpcError";
        if (methods.includes("eth_sendRawTransaction")) {
          sends++;
          if (sends <= 3) return "fail";
          if (sends <= 6) return "lose";
        }
        return "pass";
      };
      await rpcCall("evm_setAutomine", [true]);
      await rpcCall("evm_mine");
      // Once a broadcast was tried, cut the RPC off entirely for a while.
      await waitFor("a broadcast through the proxy", () => Promise.resolve(sends > 0 ? true : undefined));
      const rule = proxy.rule;
      proxy.rule = () => "fail";
      await new Promise((r) => setTimeout(r, 1_500));
      proxy.rule = rule;
      // The client retries the refused intent while it gets 503 (the RPC may still be rate-limited): accepted once it recovers.
      const retried = await waitFor("the retried intent accepted", async () => {
        const r = await postIntent(node.url, lateBody);
        if (r.status === 503 && r.body.error?.code === "chain_unavailable") return undefined;
        return r;
      });
      expect(retried.status, JSON.stringify(retried.body)).to.equal(202);
      ids.push(String(retried.body.id));
      fs.push(lateFields);
      const final = await waitAllFinal(node.url, ids, 60_000);
      await watch.stop();
      proxy.rule = () => "pass";
      for (const r of final.values()) expect(r.status, JSON.stringify(r)).to.equal("confirmed");
      expect(limited, "the proxy should have rate-limited the sender").to.be.greaterThan(6);
      expect(sends, "the proxy should have failed some broadcasts").to.be.greaterThan(6);

      const events = await eventsTo(fs.map((f) => f.to));
      expect(events).to.have.length(13);
      for (const [i, f] of fs.entries()) {
        const e = events.filter((x) => getAddress(x.payee) === f.to);
        expect(e.map((x) => [x.amount, x.txHash])).to.deep.equal([[f.amount, final.get(ids[i]!)?.txHash]]);
      }
      const txs = new Set([...final.values()].map((r) => String(r.txHash)));
      expect(await txCount(rpc, relayer)).to.equal(nonceBefore + txs.size);
      for (const h of txs) expect((await receipt(h))?.status).to.equal("0x1");
      expect(await balanceOf(relayer)).to.equal(13n * FEE);
    } finally {
      await proxy.close();
    }
  });

  it("4+5. 30 concurrent intents from ONE counterfactual account (nonces across a bitmap word): each mined once; GET shows queued → submitted → confirmed with the receipt's txHash", async function () {
    const { node, relayer } = await relayerNode({ relayerBatchSize: 8 });
    const w = await account({ deployed: false, funds: 100_000_000n });
    const nonceBefore = await txCount(rpc, relayer);
    const fs = await Promise.all(Array.from({ length: 30 }, (_, i) => fields({ nonce: 240n + BigInt(i), amount: 1_000_000n + BigInt(i) })));
    // Blocks only on demand at first: the queue builds up while the first transaction waits.
    await rpcCall("evm_setAutomine", [false]);
    const responses = await Promise.all(fs.map((f) => postIntent(node.url, submission(chainId, w, intentOf(f), { deploy: true }))));
    for (const r of responses) expect(r.status, JSON.stringify(r.body)).to.equal(202);
    const ids = responses.map((r) => String(r.body.id));
    expect(new Set(ids).size).to.equal(30);
    const watch = watchIntents(node.url, ids);
    // A second copy of one of them is the same intent, not a second payment; another intent on a held nonce is refused.
    const again = await postIntent(node.url, submission(chainId, w, intentOf(fs[5]!), { deploy: true }));
    expect([again.status, again.body.id]).to.deep.equal([200, ids[5]]);
    const clash = await postIntent(node.url, submission(chainId, w, intentOf({ ...fs[5]!, amount: 7n }), { deploy: true }));
    expect([clash.status, clash.body.error?.code]).to.deep.equal([409, "nonce_conflict"]);
    await new Promise((r) => setTimeout(r, 300));
    await rpcCall("evm_setAutomine", [true]);
    await rpcCall("evm_mine");
    const final = await waitAllFinal(node.url, ids, 60_000);
    await watch.stop();
    for (const r of final.values()) expect(r.status, JSON.stringify(r)).to.equal("confirmed");

    // Every intent was seen queued and/or submitted before it was confirmed; confirmed carries the mined hash.
    for (const id of ids) {
      const history = watch.seen.get(id) ?? [];
      const open = history.filter((h) => h.status === "queued" || h.status === "submitted");
      expect(open.length, `${id}: only ever seen ${JSON.stringify(history)}`).to.be.greaterThan(0);
      for (const h of history.filter((x) => !open.includes(x))) expect(h).to.deep.equal(final.get(id));
    }
    const events = (await eventsTo(fs.map((f) => f.to))).filter((e) => getAddress(e.payer) === w.account);
    expect(events).to.have.length(30);
    for (const [i, f] of fs.entries()) {
      const e = events.filter((x) => getAddress(x.payee) === f.to);
      expect(e.map((x) => [x.amount, x.txHash])).to.deep.equal([[f.amount, final.get(ids[i]!)?.txHash]]);
      const r = await receipt(String(final.get(ids[i]!)?.txHash));
      expect(r?.status).to.equal("0x1");
      expect(getAddress(r?.from ?? "")).to.equal(relayer);
    }
    const txs = new Set([...final.values()].map((r) => String(r.txHash)));
    expect(txs.size).to.be.at.least(4); // 30 payments in batches of at most 8
    expect(await txCount(rpc, relayer)).to.equal(nonceBefore + txs.size);
    const paid = fs.reduce((sum, f) => sum + f.amount + FEE, 0n);
    expect(await balanceOf(w.account)).to.equal(100_000_000n - paid);
    expect(await balanceOf(relayer)).to.equal(30n * FEE);
    // Each nonce is spent on-chain: a resubmission is now the stored result, and a new intent on it is refused.
    const replay = await postIntent(node.url, submission(chainId, w, intentOf({ ...fs[0]!, amount: 9n }), { deploy: true }));
    expect([replay.status, replay.body.error?.code]).to.deep.equal([409, "nonce_used"]);
    expect(await queueLength(node)).to.equal(0);
  });
});
