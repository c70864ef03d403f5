import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { startNode, type RunningNode } from "../../node/src/app.ts";
import { configWith } from "../../node/src/config.ts";
import { createLogger, silentLogger } from "../../node/src/log.ts";
import { NodeStore } from "../../node/src/store/store.ts";
import { CURRENCIES } from "../../client/sdk/currencies.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { spawnNode } from "../helpers/nodeProcess.ts";
import { startRpcProxy } from "../helpers/rpcProxy.ts";
import { startHardhatNode } from "../../scripts/devchain/hardhatNode.ts";
import { ACCOUNTS, allPayments, chainBalances, chainTruth, getJson } from "./fixtures.ts";

// The same suite on both dev chains: the indexer must not depend on one client's quirks.
for (const chainKind of ["hardhat", "anvil"] as const) describe(`node: indexing transfers (in-process, ${chainKind === "hardhat" ? "hardhat node" : "anvil"})`, function () {
  let devnet: Devnet;
  let dataDir: string;
  let node: RunningNode | undefined;

  const start = async (dir: string): Promise<RunningNode> =>
    startDevnetNode(devnet, { dataDir: dir });

  before(async function () {
    devnet = await startDevnet({ fund: ACCOUNTS.slice(0, 3), chain: chainKind });
    dataDir = await mkdtemp(path.join(os.tmpdir(), "oriole-node-"));
    const { ethers } = devnet.connection;
    // Some traffic in every currency, a self-transfer and a burn.
    for (const [i, currency] of CURRENCIES.entries()) {
      const a = await ethers.getSigner(ACCOUNTS[i % 3]!);
      const token = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens[currency], a);
      await (await token.transfer(ACCOUNTS[3], 1_000_000n + BigInt(i))).wait();
      await (await token.transfer(ACCOUNTS[4], 7n)).wait();
      await (await token.transfer(a.address, 5n)).wait();
    }
    const [minter] = await ethers.getSigners();
    const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, minter);
    await (await usd.mint(minter!.address, 50n)).wait();
    await (await usd.burn(20n)).wait();
  });

  after(async function () {
    await node?.stop();
    await devnet.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("indexes balances, payments (newest first, paginated) and supply exactly as on chain", async function () {
    node = await start(dataDir);
    const head = await devnet.connection.ethers.provider.getBlockNumber();
    await node.waitForIndexed(head);
    const truth = await chainTruth(devnet, devnet.deployment, head);
    expect(truth.accounts.size).to.be.greaterThan(5);

    for (const account of truth.accounts) {
      const { status, body } = await getJson(`${node.url}/v1/accounts/${account.toLowerCase()}/balances`);
      expect(status).to.equal(200);
      expect(body).to.deep.equal({ address: account, indexedBlock: head, balances: await chainBalances(devnet, devnet.deployment, account) });

      const expected = truth.payments.get(account) ?? [];
      expect(await allPayments(node.url, account, 3)).to.deep.equal(expected);
      expect(await allPayments(node.url, account, 100)).to.deep.equal(expected);
    }
    // Mints appear, from the zero address.
    const first = await allPayments(node.url, ACCOUNTS[0], 100);
    expect(first.filter((p) => p.from === "0x0000000000000000000000000000000000000000")).to.have.length(CURRENCIES.length);

    const supply = await node.store.supplyOf();
    for (const currency of CURRENCIES) {
      const token = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens[currency]);
      expect(supply[currency]).to.equal(await token.totalSupply());
    }

    const net = await getJson(`${node.url}/v1/network`);
    expect(net.body).to.deep.equal({
      chainId: 31337,
      blockNumber: head,
      indexedBlock: head,
      contracts: { tokens: devnet.deployment.contracts.tokens, accounts: devnet.deployment.contracts.accounts, escrow: devnet.deployment.contracts.escrow, offlineVault: devnet.deployment.contracts.offlineVault },
      relayer: null, // started without a relayer key
      escrowRelayer: null,
    });
  });

  it("follows new blocks in real time", async function () {
    if (!node) this.skip();
    const a = await devnet.connection.ethers.getSigner(ACCOUNTS[1]);
    const eur = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.EUR, a);
    const receipt = await (await eur.transfer(ACCOUNTS[2], 123n)).wait();
    const t0 = Date.now();
    await node.waitForIndexed(receipt!.blockNumber, 5_000);
    const latencyMs = Date.now() - t0;
    const { body } = await getJson(`${node.url}/v1/accounts/${ACCOUNTS[2]}/payments?limit=1`);
    const top = (body as { items: { txHash: string; amount: string }[] }).items[0];
    expect(top).to.include({ txHash: receipt!.hash, amount: "123" });
    expect(latencyMs).to.be.lessThan(2_000);
  });

  it("resumes from its checkpoint after a restart, with no duplicates and no gaps", async function () {
    if (!node) this.skip();
    await node.stop();
    node = undefined;
    const { ethers } = devnet.connection;
    for (const who of ACCOUNTS.slice(0, 3)) {
      const token = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.HKD, await ethers.getSigner(who));
      await (await token.transfer(ACCOUNTS[4], 11n)).wait();
    }
    const head = await ethers.provider.getBlockNumber();
    node = await start(dataDir);
    await node.waitForIndexed(head);
    const truth = await chainTruth(devnet, devnet.deployment, head);
    for (const account of truth.accounts) {
      expect(await allPayments(node.url, account, 7)).to.deep.equal(truth.payments.get(account));
    }

    // Same derived state as a from-scratch index into a fresh data dir.
    const freshDir = await mkdtemp(path.join(os.tmpdir(), "oriole-node-fresh-"));
    const fresh = await start(freshDir);
    try {
      await fresh.waitForIndexed(head);
      const [a, b] = await Promise.all([node.store.dump(), fresh.store.dump()]);
      expect(a.digest).to.equal(b.digest);
      expect(a).to.deep.equal(b);
    } finally {
      await fresh.stop();
      await rm(freshDir, { recursive: true, force: true });
    }
  });

  it("refuses a data dir that another node holds", async function () {
    if (!node) this.skip();
    let error: unknown;
    try {
      await start(dataDir);
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property("code", "data_dir_locked");
    // Still healthy after the failed attempt.
    expect((await getJson(`${node.url}/healthz`)).status).to.equal(200);
    expect(await NodeStore.open(dataDir).catch((e: unknown) => e)).to.be.instanceOf(Error);
  });

  it("rides out an RPC that fails or stalls, resumes when it recovers, and stops promptly while it hangs", async function () {
    if (!node) this.skip();
    const proxy = await startRpcProxy(devnet.chain.rpcUrl);
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-node-proxy-"));
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const viaProxy = await startNode(configWith({ rpcUrl: proxy.url, deployment: devnet.deployment, dataDir: dir, pollMs: 20 }), { log });
    try {
      const { ethers } = devnet.connection;
      await viaProxy.waitForIndexed(await ethers.provider.getBlockNumber());
      const cny = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.CNY, await ethers.getSigner(ACCOUNTS[0]));

      proxy.mode = "fail";
      const r1 = await (await cny.transfer(ACCOUNTS[1], 3n)).wait();
      // Longer than the client's own retries (100 + 200 + 400 ms): the indexer sees the failure.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(viaProxy.status().indexedBlock).to.be.lessThan(r1!.blockNumber);
      expect(viaProxy.status().failure).to.equal(null);
      proxy.mode = "pass";
      await viaProxy.waitForIndexed(r1!.blockNumber, 10_000);
      expect(lines.some((l) => l.includes("indexer retrying after an error"))).to.equal(true);

      proxy.mode = "hang";
      await (await cny.transfer(ACCOUNTS[1], 4n)).wait();
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      await viaProxy.stop();
      expect(Date.now() - t0).to.be.lessThan(3_000);
    } finally {
      await viaProxy.stop();
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps indexing through --rpc-fallback while the first RPC fails, and never uses a fallback of another chain", async function () {
    if (!node) this.skip();
    const proxy = await startRpcProxy(devnet.chain.rpcUrl);
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-node-fallback-"));
    const viaFallback = await startNode(configWith({ rpcUrl: proxy.url, rpcFallbackUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, dataDir: dir, pollMs: 20 }), { log: silentLogger });
    try {
      const { ethers } = devnet.connection;
      await viaFallback.waitForIndexed(await ethers.provider.getBlockNumber());
      proxy.mode = "fail";
      const cny = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.CNY, await ethers.getSigner(ACCOUNTS[0]));
      const r = await (await cny.transfer(ACCOUNTS[1], 9n)).wait();
      await viaFallback.waitForIndexed(r!.blockNumber, 5_000);
      expect(viaFallback.status().failure).to.equal(null);
    } finally {
      await viaFallback.stop();
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    }

    // A fallback serving another chain (same chain id 31337, another genesis) is refused on first use: the node waits for its own chain.
    const other = await startHardhatNode();
    const proxy2 = await startRpcProxy(devnet.chain.rpcUrl);
    const dir2 = await mkdtemp(path.join(os.tmpdir(), "oriole-node-fallback-"));
    const lines: string[] = [];
    const wrong = await startNode(configWith({ rpcUrl: proxy2.url, rpcFallbackUrl: other.rpcUrl, deployment: devnet.deployment, dataDir: dir2, pollMs: 20 }), { log: createLogger({ write: (l) => lines.push(l) }) });
    try {
      await wrong.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber());
      const before = wrong.status().indexedBlock;
      proxy2.mode = "fail";
      const { ethers } = devnet.connection;
      const cny = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.CNY, await ethers.getSigner(ACCOUNTS[0]));
      await (await cny.transfer(ACCOUNTS[1], 10n)).wait();
      await new Promise((r) => setTimeout(r, 1_500));
      expect(wrong.status().indexedBlock).to.equal(before);
      expect(lines.some((l) => l.includes("rpc_fallback_mismatch"))).to.equal(true);
    } finally {
      await wrong.stop();
      await proxy2.close();
      await other.stop();
      await rm(dir2, { recursive: true, force: true });
    }
  });

  it("rolls back a replaced block (same height) and a longer fork, ending equal to a from-scratch index", async function () {
    if (!node) this.skip();
    const { ethers } = devnet.connection;
    const rpc = devnet.chain.rpcUrl;
    const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await ethers.getSigner(ACCOUNTS[0]));
    const snapshot = await jsonRpcRequest(rpc, "evm_snapshot");
    const r1 = await (await usd.transfer(ACCOUNTS[3], 1n)).wait();
    await node.waitForIndexed(r1!.blockNumber);
    const reorgs = node.status().reorgs;

    // Replace block r1 by another one at the same height.
    await jsonRpcRequest(rpc, "evm_revert", [snapshot]);
    const r2 = await (await usd.transfer(ACCOUNTS[4], 2n)).wait();
    expect(r2!.blockNumber).to.equal(r1!.blockNumber);
    const waitFor = async (cond: () => Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 25));
    };
    const topTx = async (account: string): Promise<string | undefined> =>
      ((await getJson(`${node!.url}/v1/accounts/${account}/payments?limit=1`)).body as { items: { txHash: string }[] }).items[0]?.txHash;
    await waitFor(async () => (await topTx(ACCOUNTS[4])) === r2!.hash);
    expect(node.status().failure).to.equal(null);
    expect(node.status().reorgs).to.be.greaterThan(reorgs);
    expect(await topTx(ACCOUNTS[4])).to.equal(r2!.hash);
    expect(await topTx(ACCOUNTS[3])).to.not.equal(r1!.hash);

    // A longer fork: two blocks replaced by three.
    const snap2 = await jsonRpcRequest(rpc, "evm_snapshot");
    await (await usd.transfer(ACCOUNTS[3], 5n)).wait();
    const r3 = await (await usd.transfer(ACCOUNTS[3], 6n)).wait();
    await node.waitForIndexed(r3!.blockNumber);
    await jsonRpcRequest(rpc, "evm_revert", [snap2]);
    for (const v of [7n, 8n, 9n]) await (await usd.transfer(ACCOUNTS[2], v)).wait();
    const head = await ethers.provider.getBlockNumber();
    await node.waitForIndexed(head);
    await waitFor(async () => (await node!.store.cursor())?.blockHash === (await ethers.provider.getBlock(head))?.hash);
    expect(node.status().failure).to.equal(null);

    const freshDir = await mkdtemp(path.join(os.tmpdir(), "oriole-node-fresh-"));
    const fresh = await start(freshDir);
    try {
      await fresh.waitForIndexed(head);
      const [a, b] = await Promise.all([node.store.dump(), fresh.store.dump()]);
      expect(a).to.deep.equal(b);
    } finally {
      await fresh.stop();
      await rm(freshDir, { recursive: true, force: true });
    }
    const truth = await chainTruth(devnet, devnet.deployment, head);
    for (const account of truth.accounts) expect(await allPayments(node.url, account, 50)).to.deep.equal(truth.payments.get(account));
  });

  it("stops with reorg_too_deep, without writing, when a reorganisation is deeper than --reorg-depth (CLI exits 2)", async function () {
    if (!node) this.skip();
    await node.stop();
    node = undefined;
    const { ethers } = devnet.connection;
    const rpc = devnet.chain.rpcUrl;
    const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await ethers.getSigner(ACCOUNTS[0]));
    const snapshot = await jsonRpcRequest(rpc, "evm_snapshot");
    for (const v of [11n, 12n, 13n]) await (await usd.transfer(ACCOUNTS[3], v)).wait();
    const args = ["--rpc", rpc, "--deployment", devnet.deploymentFile, "--data", dataDir, "--port", "0", "--poll-ms", "20", "--reorg-depth", "2", "--max-block-range", "1"];
    const first = await spawnNode({ args });
    const head = await ethers.provider.getBlockNumber();
    await first.waitForIndexed(head);
    await first.kill("SIGTERM");
    let store = await NodeStore.open(dataDir);
    const before = await store.dump();
    const beforeSeq = await store.lastEventSeq();
    await store.close();

    // Three blocks replaced: deeper than --reorg-depth 2.
    await jsonRpcRequest(rpc, "evm_revert", [snapshot]);
    for (const v of [21n, 22n, 23n, 24n]) await (await usd.transfer(ACCOUNTS[4], v)).wait();
    const cli = await spawnNode({ args, waitUntilServing: false });
    const exit = await cli.exited;
    expect(exit.code, cli.output()).to.equal(2);
    const line = cli.logs().find((l) => l.msg === "indexer stopped");
    expect(line?.error).to.include({ code: "reorg_too_deep" });
    store = await NodeStore.open(dataDir);
    try {
      expect(await store.dump()).to.deep.equal(before);
      expect(await store.lastEventSeq()).to.equal(beforeSeq);
    } finally {
      await store.close();
    }
  });
});
