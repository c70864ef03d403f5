import net, { type AddressInfo } from "node:net";
import { expect } from "chai";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { parseConfig } from "../../node/src/config.ts";
import { createLogger } from "../../node/src/log.ts";
import { deriveWsUrl } from "../../node/src/chain/headSubscription.ts";
import { ACCOUNTS } from "./fixtures.ts";

/** Polling so slow that within a test only a head notification can make the node look at the chain. */
const SLOW_POLL_MS = 60_000;

/** A TCP relay in front of the chain's port whose connections can all be cut at once (a dropped WebSocket). */
async function startTcpRelay(targetPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cut = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    close: () => {
      cut();
      return new Promise((resolve) => server.close(() => { resolve(); }));
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("node: new heads over WebSocket wake the indexer (--rpc-ws)", function () {
  this.timeout(120_000);

  it("derives the WebSocket URL from the RPC URL and validates --rpc-ws", function () {
    expect(deriveWsUrl("http://127.0.0.1:8545")).to.equal("ws://127.0.0.1:8545/");
    expect(deriveWsUrl("https://rpc.example.com/v2/key")).to.equal("wss://rpc.example.com/v2/key");
    const parse = (v: string): string => {
      const r = parseConfig(["--rpc-ws", v], {});
      if (r.help) throw new Error("help");
      return r.config.rpcWs;
    };
    expect(parse("off")).to.equal("off");
    expect(parse("wss://x.example/ws")).to.equal("wss://x.example/ws");
    const r = parseConfig([], {});
    expect(!r.help && r.config.rpcWs).to.equal("auto");
    for (const bad of ["http://127.0.0.1:8545", "ftp://x", "yes", ""]) {
      expect(() => parse(bad), bad).to.throw(/--rpc-ws/);
    }
  });

  for (const chainKind of ["hardhat", "anvil"] as const) {
    describe(chainKind === "hardhat" ? "hardhat node" : "anvil", function () {
      let devnet: Devnet;
      const cleanup: (() => Promise<void>)[] = [];
      before(async function () {
        devnet = await startDevnet({ fund: [ACCOUNTS[0]], chain: chainKind });
      });
      afterEach(async function () {
        for (const fn of cleanup.splice(0).reverse()) await fn();
      });
      after(async function () {
        await devnet.stop();
      });

      const nodeWith = async (fields: { rpcWs: string; rpcUrl?: string }): Promise<{ node: RunningNode; lines: string[] }> => {
        const lines: string[] = [];
        const node = await startDevnetNode(devnet, { pollMs: SLOW_POLL_MS, ...fields }, { log: createLogger({ write: (l) => lines.push(l) }) });
        cleanup.push(() => node.stop());
        // The first round runs at start; after it the node sleeps SLOW_POLL_MS unless woken.
        await node.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber(), 30_000);
        return { node, lines };
      };
      const transfer = async (): Promise<number> => {
        const { ethers } = devnet.connection;
        const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await ethers.getSigner(ACCOUNTS[0]));
        const receipt = await (await usd.transfer(ACCOUNTS[1], 1n)).wait();
        if (!receipt) throw new Error("no receipt");
        return receipt.blockNumber;
      };
      const metric = async (node: RunningNode, name: string): Promise<number> => {
        const text = await (await fetch(`${node.url}/metrics`)).text();
        const line = text.split("\n").find((l) => l.startsWith(`${name} `));
        return Number(line?.split(" ")[1]);
      };

      it("with --rpc-ws auto, a new block is indexed long before the next poll", async function () {
        const { node, lines } = await nodeWith({ rpcWs: "auto" });
        await until("the subscription", () => node.status().headSubscription);
        expect(await metric(node, "oriole_head_subscription_up")).to.equal(1);
        const block = await transfer();
        await node.waitForIndexed(block, 10_000);
        expect(lines.some((l) => l.includes("following new heads over WebSocket"))).to.equal(true);
      });

      it("with --rpc-ws off, the same node only polls (the control: nothing else wakes it)", async function () {
        const { node } = await nodeWith({ rpcWs: "off" });
        const block = await transfer();
        await new Promise((r) => setTimeout(r, 1_500));
        expect(node.status().indexedBlock).to.be.lessThan(block);
        expect(node.status().headSubscription).to.equal(false);
        expect(await metric(node, "oriole_head_subscription_up")).to.equal(0);
      });

      it("resubscribes after the WebSocket drops, and is woken again", async function () {
        const relay = await startTcpRelay(Number(new URL(devnet.chain.rpcUrl).port));
        cleanup.push(() => relay.close());
        const { node, lines } = await nodeWith({ rpcWs: `ws://127.0.0.1:${relay.port.toString()}` });
        await until("the subscription", () => node.status().headSubscription);
        relay.cut();
        await until("the drop to be noticed", () => !node.status().headSubscription);
        await until("the subscription to come back", () => node.status().headSubscription, 15_000);
        const block = await transfer();
        await node.waitForIndexed(block, 10_000);
        expect(lines.some((l) => l.includes("head subscription lost"))).to.equal(true);
        expect(lines.some((l) => l.includes("head subscription restored"))).to.equal(true);
      });
    });
  }

  it("an RPC without WebSocket (auto) or an endpoint that is down (explicit URL) leaves the node polling, healthy", async function () {
    const devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    // An HTTP-only JSON-RPC front: the upgrade request gets no WebSocket.
    const { startRpcProxy } = await import("../helpers/rpcProxy.ts");
    const proxy = await startRpcProxy(devnet.chain.rpcUrl);
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const nodes: RunningNode[] = [];
    try {
      for (const [rpcUrl, rpcWs] of [
        [proxy.url, "auto"],
        [devnet.chain.rpcUrl, `ws://127.0.0.1:${deadPort.toString()}`],
      ] as const) {
        const lines: string[] = [];
        const node = await startDevnetNode(devnet, { rpcUrl, rpcWs }, { log: createLogger({ write: (l) => lines.push(l) }) });
        nodes.push(node);
        const { ethers } = devnet.connection;
        const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await ethers.getSigner(ACCOUNTS[0]));
        const receipt = await (await usd.transfer(ACCOUNTS[1], 2n)).wait();
        await node.waitForIndexed(receipt?.blockNumber ?? Infinity, 10_000);
        expect(node.status().headSubscription).to.equal(false);
        expect(node.status().failure).to.equal(null);
        if (rpcWs === "auto") await until("the auto probe to give up", () => lines.some((l) => l.includes("no WebSocket head subscription at the RPC")), 20_000);
        else await until("the explicit endpoint's warning", () => lines.some((l) => l.includes("head subscription unavailable; polling until it connects")));
      }
    } finally {
      for (const n of nodes) await n.stop();
      await proxy.close();
      await devnet.stop();
    }
  });
});
