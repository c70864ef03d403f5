import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Interface, hexlify, randomBytes, toQuantity } from "ethers";
import { sendAndMine } from "../helpers/anvil.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { eventId, type NodeEvent } from "../../node/src/store/store.ts";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { ACCOUNTS, allPayments, chainTruth } from "./fixtures.ts";

const CONFIRMATIONS = 3;
const token = new Interface(STABLE_TOKEN_ABI);

/**
 * Reorganisations made by anvil (`anvil_reorg(depth, [[tx, blockOffset]…])`
 * replaces the last `depth` blocks): payments move to other blocks, some
 * vanish, new ones appear. Afterwards the store must equal a from-scratch
 * index of the canonical chain, and a vanished payment is reported
 * `payment.dropped`, never `payment.confirmed`.
 */
describe("node: chain reorganisations (anvil_reorg)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: RunningNode;
  const dirs: string[] = [];
  const rpc = (method: string, params: unknown[] = []): Promise<unknown> => jsonRpcRequest(devnet.chain.rpcUrl, method, params);
  /** Sends and waits for the block: anvil answers eth_sendTransaction before it mines. */
  const send = async (tx: Record<string, string>): Promise<string> => (await sendAndMine(devnet.chain.rpcUrl, tx)).hash;
  const tmp = async (): Promise<string> => {
    const d = await mkdtemp(path.join(os.tmpdir(), "oriole-reorg-"));
    dirs.push(d);
    return d;
  };
  const start = async (dir: string, extra: { reorgDepth?: number; maxBlockRange?: number } = {}): Promise<RunningNode> =>
    startDevnetNode(devnet, { dataDir: dir, confirmations: CONFIRMATIONS, ...extra });
  const payTx = (from: string, value: bigint): { from: string; to: string; data: string } => ({
    from,
    to: devnet.deployment.contracts.tokens.USD,
    data: token.encodeFunctionData("pay", [ACCOUNTS[3], value, hexlify(randomBytes(32))]),
  });
  const head = async (): Promise<{ number: number; hash: string }> => {
    const b = (await rpc("eth_getBlockByNumber", ["latest", false])) as { number: string; hash: string };
    return { number: Number(b.number), hash: b.hash };
  };
  /** Waits until `n` has indexed exactly the chain's head block (after a reorg: the new one). */
  const waitForHead = async (n: RunningNode): Promise<{ number: number; hash: string }> => {
    for (let i = 0; i < 600; i++) {
      const h = await head();
      const failure = n.status().failure;
      if (failure) throw failure;
      if ((await n.store.cursor())?.blockHash === h.hash) return h;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the node did not reach the chain head");
  };
  const allEvents = async (n: RunningNode): Promise<NodeEvent[]> => n.store.eventsAfter(0, 1_000_000);

  before(async function () {
    devnet = await startDevnet({ chain: "anvil", fund: ACCOUNTS.slice(0, 3) });
    node = await start(await tmp());
    await waitForHead(node);
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  for (const depth of [1, 5, 64]) {
    it(`rolls back a reorg of depth ${depth.toString()} with payments moving between blocks, vanishing and appearing`, async function () {
      const sent: { hash: string; raw: string }[] = [];
      for (let i = 0; i < depth; i++) {
        const hash = await send(payTx(ACCOUNTS[0], 100n + BigInt(i)));
        sent.push({ hash, raw: (await rpc("eth_getRawTransactionByHash", [hash])) as string });
      }
      const old = await waitForHead(node);
      const seqBefore = await node.store.lastEventSeq();
      const eventsBefore = await allEvents(node);
      const pendingBefore = new Set(eventsBefore.filter((e) => e.type === "payment.pending").map((e) => e.txHash));
      const confirmedBefore = new Set(eventsBefore.filter((e) => e.type === "payment.confirmed").map((e) => e.txHash));
      const wasPending = sent.filter((s) => pendingBefore.has(s.hash) && !confirmedBefore.has(s.hash)).map((s) => s.hash);
      expect(wasPending.length).to.equal(Math.min(depth, CONFIRMATIONS - 1));

      // The first half of the payments move one block later; the rest vanish; another account's payment appears.
      const keep = Math.floor(depth / 2);
      const moved = sent.slice(0, keep);
      const vanished = sent.slice(keep).map((s) => s.hash);
      await rpc("anvil_reorg", [depth, [...moved.map((s, i) => [s.raw, i + 1]), [payTx(ACCOUNTS[1], 7n), 0]]]);
      const now = await waitForHead(node);
      expect(now.number).to.equal(old.number);
      expect(now.hash).to.not.equal(old.hash);
      expect(node.status().reorgs).to.be.greaterThan(0);

      // Equal to a from-scratch index of the canonical chain.
      const fresh = await start(await tmp());
      try {
        await waitForHead(fresh);
        expect(await node.store.dump()).to.deep.equal(await fresh.store.dump());
      } finally {
        await fresh.stop();
      }
      const truth = await chainTruth(devnet, devnet.deployment, now.number);
      for (const account of [ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[3]]) {
        const expected = (truth.payments.get(account) ?? []).map((p) => ({ ...p, status: now.number - p.blockNumber + 1 >= CONFIRMATIONS ? "confirmed" : "pending" }));
        expect(await allPayments(node.url, account, 40)).to.deep.equal(expected);
      }

      const after = (await allEvents(node)).filter((e) => e.seq > seqBefore);
      const dropped = new Set(after.filter((e) => e.type === "payment.dropped").map((e) => e.txHash));
      for (const h of vanished) expect(dropped.has(h), `dropped ${h}`).to.equal(true);
      // Moved payments: dropped at their old block, reported again at the new one.
      for (const { hash } of moved) {
        expect(dropped.has(hash)).to.equal(true);
        const receipt = (await rpc("eth_getTransactionReceipt", [hash])) as { blockHash: string };
        expect(after.some((e) => e.txHash === hash && e.type !== "payment.dropped" && e.blockHash === receipt.blockHash)).to.equal(true);
      }
      // Sequence numbers only grow; ids are deterministic and unique.
      const all = await allEvents(node);
      expect(all.map((e) => e.seq)).to.deep.equal(all.map((_, i) => i + 1));
      expect(new Set(all.map((e) => e.id)).size).to.equal(all.length);
      for (const e of all) {
        expect(e.id).to.equal(eventId(e.type, 31337, e.blockHash, e.txHash, e.logIndex));
        if (e.type === "payment.pending" || e.type === "payment.confirmed") expect(e.payment?.status).to.equal(e.type.slice("payment.".length));
        if (e.payment) expect(e.accounts).to.deep.equal([e.payment.from.toLowerCase(), e.payment.to.toLowerCase()]);
      }

      // The chain moves on: what vanished is never confirmed; what moved and appeared is.
      await rpc("anvil_mine", [toQuantity(CONFIRMATIONS)]);
      await waitForHead(node);
      const final = await allEvents(node);
      for (const h of wasPending.filter((x) => vanished.includes(x))) {
        expect(final.some((e) => e.txHash === h && e.type === "payment.confirmed"), `confirmed ${h}`).to.equal(false);
      }
      for (const { hash } of moved) {
        const receipt = (await rpc("eth_getTransactionReceipt", [hash])) as { blockHash: string };
        expect(final.some((e) => e.txHash === hash && e.type === "payment.confirmed" && e.blockHash === receipt.blockHash)).to.equal(true);
      }
    });
  }

  it("rolls back to a shorter chain (anvil_rollback): a head below the cursor for a few polls is a reorganisation, not a lagging RPC", async function () {
    for (let i = 0; i < 3; i++) await send(payTx(ACCOUNTS[0], 1_000n + BigInt(i)));
    const old = await waitForHead(node);
    const reorgs = node.status().reorgs;
    await rpc("anvil_rollback", [3]);
    await send(payTx(ACCOUNTS[1], 5n));
    const now = await waitForHead(node);
    expect(now.number).to.equal(old.number - 2);
    expect(node.status().reorgs).to.equal(reorgs + 1);
    const fresh = await start(await tmp());
    try {
      await waitForHead(fresh);
      expect(await node.store.dump()).to.deep.equal(await fresh.store.dump());
    } finally {
      await fresh.stop();
    }
  });

  it("records and reports admin events (mint, burn, freeze, unfreeze, pause, unpause), rolled back with the rest", async function () {
    const usd = devnet.deployment.contracts.tokens.USD;
    const admin = ((await rpc("eth_accounts")) as string[])[0]!;
    // The full StableToken ABI (the SDK's holds only what wallets call).
    const full = new Interface((await devnet.connection.ethers.getContractAt("StableToken", usd)).interface.fragments);
    // Each call is mined and succeeded before the next is sent.
    const call = async (fn: string, args: unknown[]): Promise<void> => {
      await send({ from: admin, to: usd, data: full.encodeFunctionData(fn, args) });
    };
    const seq = await node.store.lastEventSeq();
    await call("mint", [admin, 500n]);
    await call("burn", [200n]);
    await call("freeze", [ACCOUNTS[4]]);
    await call("unfreeze", [ACCOUNTS[4]]);
    await call("pause", []);
    await call("unpause", []);
    await waitForHead(node);
    const events = (await node.store.eventsAfter(seq, 100)).filter((e) => e.type.startsWith("admin."));
    expect(events.map((e) => [e.type, e.admin?.amount ?? null])).to.deep.equal([
      ["admin.mint", "500"],
      ["admin.burn", "200"],
      ["admin.freeze", null],
      ["admin.unfreeze", null],
      ["admin.pause", null],
      ["admin.unpause", null],
    ]);
    expect(events[2]!.accounts).to.deep.equal([ACCOUNTS[4].toLowerCase()]);
    expect(events[0]!.accounts).to.deep.equal([admin.toLowerCase()]);
    const records = Object.values((await node.store.dump()).admin);
    expect(records.slice(-6).map((r) => r.kind)).to.deep.equal(["mint", "burn", "freeze", "unfreeze", "pause", "unpause"]);
    const supplyBefore = (await node.store.supplyOf()).USD;

    // The last five blocks (burn … unpause) leave the chain; a mint of 1 takes the burn's place.
    await rpc("anvil_reorg", [5, [[{ from: admin, to: usd, data: full.encodeFunctionData("mint", [admin, 1n]) }, 0]]]);
    await waitForHead(node);
    expect((await node.store.supplyOf()).USD).to.equal(supplyBefore + 200n + 1n);
    const fresh = await start(await tmp());
    try {
      await waitForHead(fresh);
      const [a, b] = [await node.store.dump(), await fresh.store.dump()];
      expect(a).to.deep.equal(b);
      expect(Object.values(a.admin).slice(-2).map((r) => [r.kind, r.amount])).to.deep.equal([
        ["mint", "500"],
        ["mint", "1"],
      ]);
    } finally {
      await fresh.stop();
    }
  });

  it("stops with reorg_too_deep, writing nothing, on a reorg deeper than --reorg-depth", async function () {
    const shallow = await start(await tmp(), { reorgDepth: 4, maxBlockRange: 1 });
    try {
      for (let i = 0; i < 6; i++) {
        await send(payTx(ACCOUNTS[2], 1n));
        await waitForHead(shallow);
      }
      const before = await shallow.store.dump();
      const seq = await shallow.store.lastEventSeq();
      await rpc("anvil_reorg", [5, [[payTx(ACCOUNTS[1], 3n), 0]]]);
      const error = await shallow.waitForIndexed(Number.MAX_SAFE_INTEGER, 60_000).catch((e: unknown) => e);
      expect(error).to.have.property("code", "reorg_too_deep");
      expect(shallow.status().failure?.code).to.equal("reorg_too_deep");
      expect(await shallow.store.dump()).to.deep.equal(before);
      expect(await shallow.store.lastEventSeq()).to.equal(seq);
    } finally {
      await shallow.stop();
    }
  });
});
