import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { openSse } from "../helpers/notify.ts";
import { spawnNode } from "../helpers/nodeProcess.ts";
import { startNode, type RunningNode } from "../../node/src/app.ts";
import { configWith, type NodeConfig } from "../../node/src/config.ts";
import { silentLogger } from "../../node/src/log.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { NodeStore, type SeenPayment, type StateDump } from "../../node/src/store/store.ts";
import { ACCOUNTS } from "./fixtures.ts";

async function dumpOf(dir: string): Promise<StateDump> {
  const store = await NodeStore.open(dir);
  try {
    return await store.dump();
  } finally {
    await store.close();
  }
}

async function indexed(config: NodeConfig, block: number): Promise<RunningNode> {
  const node = await startNode(config, { log: silentLogger });
  await node.waitForIndexed(block);
  return node;
}

/**
 * `npm start` restarts hardhat node each time: same chain id, new genesis,
 * new deployment. A data dir built from the old chain must never be mixed
 * with the new one.
 */
describe("node: chain identity (two hardhat nodes with the same chain id)", function () {
  let a: Devnet;
  let b: Devnet;
  let dir: string;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-identity-"));
    // Genesis hashes differ by the start time (in seconds): start B a little later.
    [a, b] = await Promise.all([
      startDevnet({ fund: [ACCOUNTS[0]] }),
      new Promise((r) => setTimeout(r, 2_000)).then(() => startDevnet({ fund: [ACCOUNTS[1], ACCOUNTS[2]] })),
    ]);
    expect(a.deployment.chainId).to.equal(b.deployment.chainId);
    expect(a.deployment.genesisHash).to.not.equal(b.deployment.genesisHash);
  });

  after(async function () {
    await Promise.all([a.stop(), b.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const cfg = (devnet: Devnet, dataDir: string, extra: Partial<NodeConfig> = {}): NodeConfig =>
    configWith({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, dataDir, pollMs: 20, ...extra });
  const headOf = async (devnet: Devnet): Promise<number> => devnet.connection.ethers.provider.getBlockNumber();

  it("refuses a data dir indexed from another chain with chain_mismatch, and leaves it untouched", async function () {
    const dataDir = path.join(dir, "a");
    const node = await indexed(cfg(a, dataDir), await headOf(a));
    await node.stop();
    const before = await dumpOf(dataDir);

    let error: unknown;
    try {
      await startNode(cfg(b, dataDir), { log: silentLogger });
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property("code", "chain_mismatch");
    expect((error as Error).message).to.match(/--reindex-on-reset/);
    expect(await dumpOf(dataDir)).to.deep.equal(before);
  });

  it("the CLI exits 1 with a clear chain_mismatch log line, and re-indexes with --reindex-on-reset", async function () {
    const dataDir = path.join(dir, "a"); // indexed from chain A by the previous test
    const args = ["--rpc", b.chain.rpcUrl, "--deployment", b.deploymentFile, "--data", dataDir, "--port", "0", "--poll-ms", "20"];

    const refused = await spawnNode({ args, waitUntilServing: false });
    const exit = await refused.exited;
    expect(exit.code, refused.output()).to.equal(1);
    const line = refused.logs().find((l) => l.level === "error");
    expect(line, refused.output()).to.include({ code: "chain_mismatch" });

    const node = await spawnNode({ args: [...args, "--reindex-on-reset"] });
    try {
      expect(node.logs().map((l) => l.msg)).to.include("chain reset detected: wiping the data dir and re-indexing");
      await node.waitForIndexed(await headOf(b));
    } finally {
      expect((await node.kill("SIGTERM")).code).to.equal(0);
    }

    // Now it holds exactly chain B's state: the same as a fresh index of B.
    const freshDir = path.join(dir, "b-fresh");
    const fresh = await indexed(cfg(b, freshDir), await headOf(b));
    await fresh.stop();
    const [reindexed, clean] = await Promise.all([dumpOf(dataDir), dumpOf(freshDir)]);
    expect(reindexed).to.deep.equal(clean);
    expect(Object.keys(clean.payments).some((k) => k.startsWith(ACCOUNTS[1].toLowerCase()))).to.equal(true);
    expect(Object.keys(clean.payments).some((k) => k.startsWith(ACCOUNTS[0].toLowerCase()))).to.equal(false);
  });

  it("refuses a deployment file made on another chain history with deployment_mismatch", async function () {
    const node = await spawnNode({
      args: ["--rpc", b.chain.rpcUrl, "--deployment", a.deploymentFile, "--data", path.join(dir, "never"), "--port", "0"],
      waitUntilServing: false,
    });
    expect((await node.exited).code).to.equal(1);
    expect(node.logs().find((l) => l.level === "error")).to.include({ code: "deployment_mismatch" });
  });

  it("wipes a data dir left without identity (an interrupted wipe) and indexes from scratch", async function () {
    const dataDir = path.join(dir, "half-wiped");
    const store = await NodeStore.open(dataDir);
    await store.commit({ balances: new Map([["x", { account: "0xjunk", currency: "USD", value: 5n }]]), supply: new Map(), payments: [] }, { blockNumber: 999, blockHash: "0xjunk" });
    await store.close();
    const node = await indexed(cfg(a, dataDir), await headOf(a));
    await node.stop();
    const dump = await dumpOf(dataDir);
    expect(Object.keys(dump.balances).some((k) => k.startsWith("0xjunk"))).to.equal(false);
    const cursorStore = await NodeStore.open(dataDir);
    try {
      expect((await cursorStore.cursor())?.blockNumber).to.equal(await headOf(a));
    } finally {
      await cursorStore.close();
    }
  });

  it("a --reindex-on-reset wipe never takes the outbox's seq back: clients resume by Last-Event-ID across it", async function () {
    const dataDir = path.join(dir, "seq");
    const onA = await indexed(cfg(a, dataDir), await headOf(a));
    const lastA = await onA.store.lastEventSeq();
    const eventsA = await onA.store.eventsAfter(0, 10_000);
    await onA.stop();
    expect(lastA).to.be.greaterThan(0);
    expect(eventsA.at(-1)?.seq).to.equal(lastA);

    const onB = await indexed(cfg(b, dataDir, { reindexOnReset: true }), await headOf(b));
    try {
      const eventsB = await onB.store.eventsAfter(0, 10_000);
      expect(eventsB.length).to.be.greaterThan(0);
      // Chain A's events are gone with its state; chain B's number on after them.
      expect(eventsB[0]?.seq).to.equal(lastA + 1);
      expect(eventsB.every((e, i) => e.seq === lastA + 1 + i)).to.equal(true);
      expect(eventsB.some((e) => eventsA.some((x) => x.id === e.id))).to.equal(false);
      // A client of chain A resumes with its last id and gets chain B's events, none skipped.
      const mine = eventsB.filter((e) => e.accounts.includes(ACCOUNTS[1].toLowerCase()));
      expect(mine.length).to.be.greaterThan(0);
      const sse = await openSse(`${onB.url}/v1/accounts/${ACCOUNTS[1]}/events`, { "last-event-id": String(lastA) });
      try {
        const got = await sse.waitFor(mine.length, 10_000);
        expect(got.map((m) => Number(m.id))).to.deep.equal(mine.map((e) => e.seq));
        expect(got.map((m) => (JSON.parse(m.data) as NodeEvent).id)).to.deep.equal(mine.map((e) => e.id));
      } finally {
        sse.close();
      }
    } finally {
      await onB.stop();
    }
  });

  it("the seq floor survives a wipe, a re-opened store, a repeated (interrupted) wipe and a schema re-index", async function () {
    const dataDir = path.join(dir, "seq-unit");
    const payment = (blockNumber: number): SeenPayment => ({
      blockHash: `0x${blockNumber.toString(16).padStart(64, "0")}`,
      accounts: [ACCOUNTS[0].toLowerCase(), ACCOUNTS[1].toLowerCase()],
      payment: { txHash: `0x${"ab".repeat(32)}`, logIndex: 0, blockNumber, timestamp: 1, from: ACCOUNTS[0], to: ACCOUNTS[1], currency: "USD", amount: "1", reference: null, fee: "0", kind: "transfer" },
    });
    const commit = async (store: NodeStore, blockNumber: number, n: number): Promise<void> => {
      const payments = Array.from({ length: n }, () => payment(blockNumber));
      const cursor = { blockNumber, blockHash: payments[0]!.blockHash };
      await store.commit({ balances: new Map(), supply: new Map(), payments: [] }, cursor, { chainId: 31337, confirmations: 1, prevCursor: { blockNumber: blockNumber - 1, blockHash: "0x" }, payments, admin: [], undo: false, pruneThrough: 0 });
    };
    let store = await NodeStore.open(dataDir);
    try {
      await commit(store, 1, 3);
      expect(await store.lastEventSeq()).to.equal(3);
      await store.wipe();
      expect(await store.isEmpty()).to.equal(false); // the floor
      expect(await store.eventsAfter(0, 100)).to.deep.equal([]);
      expect(await store.cursor()).to.equal(undefined);
      expect(await store.lastEventSeq()).to.equal(3);
      await store.close();
      store = await NodeStore.open(dataDir);
      expect(await store.lastEventSeq()).to.equal(3);
      // A second wipe (startup finds no identity after an interrupted one) keeps it too.
      await store.wipe();
      await store.close();
      store = await NodeStore.open(dataDir);
      await commit(store, 1, 2);
      expect((await store.eventsAfter(0, 100)).map((e) => e.seq)).to.deep.equal([4, 5]);
      // A re-index for a new schema keeps the outbox and the floor.
      await store.wipe();
      await store.wipeDerived();
      await store.close();
      store = await NodeStore.open(dataDir);
      expect(await store.lastEventSeq()).to.equal(5);
      await commit(store, 1, 1);
      expect((await store.eventsAfter(0, 100)).map((e) => e.seq)).to.deep.equal([6]);
    } finally {
      await store.close();
    }
  });
});
