import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { spawnNode, type NodeProcess } from "../helpers/nodeProcess.ts";
import { startNode } from "../../node/src/app.ts";
import { configWith } from "../../node/src/config.ts";
import { silentLogger } from "../../node/src/log.ts";
import { NodeStore, type StateDump } from "../../node/src/store/store.ts";
import { ACCOUNTS, allPayments, chainBalances, chainTruth, getJson, recipients, spray } from "./fixtures.ts";

const TXS = 40;
const PER_TX = 100;

/**
 * kill -9 in the middle of a backfill, then restart: the store must end up
 * identical to a from-scratch index. Each commit (derived state + cursor)
 * is one atomic LevelDB batch, so there is nothing in between to lose or
 * to apply twice.
 */
describe("node: crash safety (child process, kill -9 during backfill)", function () {
  let devnet: Devnet;
  let dir: string;
  let head: number;
  let firstSprayBlock: number;
  let child: NodeProcess | undefined;
  const pool = recipients(300);

  before(async function () {
    devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-crash-"));
    const t0 = Date.now();
    firstSprayBlock = (await devnet.connection.ethers.provider.getBlockNumber()) + 3;
    head = await spray(devnet, { sender: ACCOUNTS[0], txs: TXS, perTx: PER_TX, to: pool });
    console.log(`      generated ${TXS * PER_TX} transfers in ${TXS} blocks in ${Date.now() - t0} ms`);
  });

  after(async function () {
    await child?.kill("SIGKILL");
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const args = (dataDir: string): string[] => [
    "--rpc", devnet.chain.rpcUrl,
    "--deployment", devnet.deploymentFile,
    "--data", dataDir,
    "--port", "0",
    "--poll-ms", "20",
    // One block per commit: many commits to crash between (and inside).
    "--max-block-range", "1",
  ];

  /** Polls /v1/network and kills -9 as soon as indexedBlock passes `after`. */
  async function killDuring(node: NodeProcess, after: number): Promise<void> {
    for (;;) {
      const { body } = await node.get("/v1/network");
      const indexed = (body as { indexedBlock: number }).indexedBlock;
      if (indexed >= head) throw new Error(`backfill finished (block ${indexed}) before the kill`);
      if (indexed > after) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const exit = await node.kill("SIGKILL");
    expect(exit.signal).to.equal("SIGKILL");
  }

  async function storedCursor(dataDir: string): Promise<number> {
    const store = await NodeStore.open(dataDir);
    try {
      return (await store.cursor())?.blockNumber ?? -1;
    } finally {
      await store.close();
    }
  }

  it("resumes after kill -9 with exactly the state of a from-scratch index", async function () {
    const crashDir = path.join(dir, "crashed");
    const stops: number[] = [];
    // Kill twice: once early in the spray blocks, once later.
    for (const fraction of [0.25, 0.6]) {
      child = await spawnNode({ args: args(crashDir) });
      await killDuring(child, firstSprayBlock + Math.floor(TXS * fraction));
      child = undefined;
      const at = await storedCursor(crashDir);
      expect(at, "killed strictly inside the backfill").to.be.greaterThan(firstSprayBlock).and.lessThan(head);
      stops.push(at);
    }
    expect(stops[1]).to.be.greaterThan(stops[0]!);

    const t0 = Date.now();
    child = await spawnNode({ args: args(crashDir) });
    await child.waitForIndexed(head);
    const resumeMs = Date.now() - t0;
    const resumed = child.logs().find((l) => l.msg === "indexer starting");
    expect(resumed).to.include({ resumed: true, fromBlock: stops[1]! + 1 });

    // Check the API against the chain while it runs.
    const t2 = Date.now();
    const truth = await chainTruth(devnet, devnet.deployment, head);
    const sample = [ACCOUNTS[0], ...[...truth.accounts].filter((a) => a !== ACCOUNTS[0]).slice(0, 9)];
    for (const account of sample) {
      const { body } = await getJson(`${child.url}/v1/accounts/${account}/balances`);
      expect((body as { balances: unknown }).balances).to.deep.equal(await chainBalances(devnet, devnet.deployment, account));
      expect(await allPayments(child.url, account, 100)).to.deep.equal(truth.payments.get(account));
    }

    const checkMs = Date.now() - t2;
    const exit = await child.kill("SIGTERM");
    expect(exit.code, child.output().slice(-2000)).to.equal(0);
    expect(child.logs().map((l) => l.msg)).to.include("stopped");
    child = undefined;

    // A fresh index of the same chain, in-process, into another folder.
    const freshDir = path.join(dir, "fresh");
    const t1 = Date.now();
    const fresh = await startNode(configWith({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, dataDir: freshDir, pollMs: 20 }), { log: silentLogger });
    await fresh.waitForIndexed(head);
    const freshMs = Date.now() - t1;
    await fresh.stop();
    console.log(`      killed at blocks ${stops.join(", ")} of ${head}; resume took ${resumeMs} ms; API checks ${checkMs} ms; fresh backfill (${TXS * PER_TX} transfers) ${freshMs} ms`);

    const dump = async (d: string): Promise<StateDump> => {
      const store = await NodeStore.open(d);
      try {
        return await store.dump();
      } finally {
        await store.close();
      }
    };
    const [crashed, clean] = await Promise.all([dump(crashDir), dump(freshDir)]);
    expect(Object.keys(clean.payments)).to.have.length.greaterThan(2 * TXS * PER_TX);
    expect(crashed.digest).to.equal(clean.digest);
    expect(crashed).to.deep.equal(clean);
  });
});
