import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { freePort } from "../../scripts/devchain/hardhatNode.ts";
import { deploymentSchema } from "../../client/sdk/deployment.ts";
import { CURRENCIES } from "../../client/sdk/currencies.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";

/** `npm start` as a user runs it: one command, a chain, contracts, a node; Ctrl-C stops it all. */
describe("npm start (scripts/start.ts)", function () {
  this.timeout(180_000);
  let dir: string;
  let chainPort: number;
  let apiPort: number;
  let proc: ChildProcess | undefined;
  let output = "";

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-start-"));
    chainPort = await freePort();
    apiPort = await freePort();
  });
  after(async function () {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  function start(): ChildProcess {
    output = "";
    const child = spawn(
      process.execPath,
      ["scripts/start.ts", "--chain-port", String(chainPort), "--port", String(apiPort), "--home", path.join(dir, "home"), "--deployments", path.join(dir, "deployments")],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    return child;
  }

  interface NetworkBody {
    chainId: number;
    indexedBlock: number;
    contracts: { tokens: Record<string, string> };
    relayer: { address: string } | null;
  }

  async function waitForNetwork(ms: number): Promise<NetworkBody> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${apiPort}/v1/network`);
        if (res.ok) return (await res.json()) as NetworkBody;
      } catch {
        // not up yet
      }
      if (proc?.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no answer on /v1/network within ${ms} ms:\n${output}`);
  }

  async function interrupt(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
        resolve(code);
      }));
    child.kill("SIGINT");
    return exited;
  }

  it("answers on /v1/network within 60 s, with every currency deployed and the default accounts funded", async function () {
    const t0 = Date.now();
    proc = start();
    const net = await waitForNetwork(60_000);
    expect(Date.now() - t0).to.be.below(60_000);
    expect(net.chainId).to.equal(31337);
    expect(Object.keys(net.contracts.tokens).sort()).to.deep.equal([...CURRENCIES].sort());

    const deployment = deploymentSchema.parse(JSON.parse(await readFile(path.join(dir, "deployments", "31337.json"), "utf8")));
    expect(deployment.contracts.tokens).to.deep.equal(net.contracts.tokens);
    // The banner follows the node's first answer by up to one health poll.
    for (const until = Date.now() + 10_000; !output.includes("Press Ctrl-C to stop.") && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    expect(output).to.include(`http://127.0.0.1:${apiPort}`);
    // The web wallet is served (and printed with localhost, the host passkeys accept).
    expect(output).to.include(`http://localhost:${apiPort}/wallet/`);
    const page = await fetch(`http://127.0.0.1:${apiPort}/wallet/`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include('<script type="module" src="main.js"></script>');
    // The relayer runs with Hardhat's dev account #19; its key is never printed.
    expect(net.relayer?.address).to.equal("0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199");
    expect(output).to.include("0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199");
    expect(output.toLowerCase()).to.not.include("df57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e");

    const accounts = (await jsonRpcRequest(`http://127.0.0.1:${chainPort}`, "eth_accounts")) as string[];
    expect(accounts).to.have.length(20);
    const last = accounts[19]!;
    // The node indexes the funding; the last account holds 1,000,000 of each.
    const deadline = Date.now() + 10_000;
    let balances: Record<string, string> = {};
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/accounts/${last}/balances`);
      balances = ((await res.json()) as { balances: Record<string, string> }).balances;
      if (CURRENCIES.every((c) => balances[c] === "1000000000000")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const c of CURRENCIES) expect(balances[c], c).to.equal("1000000000000");
  });

  it("Ctrl-C (SIGINT) stops the chain and the node, and frees their ports", async function () {
    const code = await interrupt(proc!);
    expect(code).to.equal(0);
    await expectRefused(`http://127.0.0.1:${apiPort}/healthz`);
    await expectRefused(`http://127.0.0.1:${chainPort}`);
  });

  it("with --rpc, reuses a running chain and its deployment instead of starting one", async function () {
    // Start a chain through the first run, stop only the node half by using --rpc on a second start.
    proc = start();
    const first = await waitForNetwork(60_000);
    const chainUrl = `http://127.0.0.1:${chainPort}`;
    // A second start against the same chain on another API port reuses the contracts.
    const secondPort = await freePort();
    let out2 = "";
    const second = spawn(
      process.execPath,
      ["scripts/start.ts", "--rpc", chainUrl, "--port", String(secondPort), "--home", path.join(dir, "home2"), "--deployments", path.join(dir, "deployments")],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    second.stdout.on("data", (b: Buffer) => (out2 += b.toString()));
    second.stderr.on("data", (b: Buffer) => (out2 += b.toString()));
    try {
      const deadline = Date.now() + 60_000;
      let net: { contracts: { tokens: Record<string, string> } } | undefined;
      while (Date.now() < deadline && !net) {
        try {
          const res = await fetch(`http://127.0.0.1:${secondPort}/v1/network`);
          if (res.ok) net = (await res.json()) as { contracts: { tokens: Record<string, string> } };
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(net, out2).to.not.equal(undefined);
      expect(net!.contracts.tokens).to.deep.equal(first.contracts.tokens);
      expect(out2).to.include("reusing the deployment");
      expect(await interrupt(second)).to.equal(0);
      // Stopping the second run leaves the chain it did not start running.
      expect(await jsonRpcRequest(chainUrl, "eth_chainId")).to.equal("0x7a69");
    } finally {
      if (second.exitCode === null) second.kill("SIGKILL");
    }
    expect(await interrupt(proc)).to.equal(0);
  });
});

async function expectRefused(url: string): Promise<void> {
  let refused = false;
  try {
    await fetch(url, { method: "POST", body: "{}" });
  } catch {
    refused = true;
  }
  expect(refused, `${url} still answers`).to.equal(true);
}
