import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { nodeArgv } from "../../node/src/runtime.ts";
import { getAddress, hexlify, Interface, randomBytes, toQuantity, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { predictAccountAddress } from "../../client/sdk/account/accountAddress.ts";
import { hashPaymentIntent, type PaymentIntent } from "../../client/sdk/account/intent.ts";
import { intentSubmissionToJson } from "../../client/sdk/account/relayerApi.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { writeDeployment } from "../../client/sdk/deployment.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { factoryInterface } from "../../node/src/relayer/contracts.ts";
import { freePort } from "../devchain/hardhatNode.ts";
import type { Metrics } from "./results.ts";
import { waitReady } from "./ready.ts";

export interface RelayerBenchOptions {
  root: string;
  connection: NetworkConnection<"l1">;
  rpcUrl: string;
  deployment: Deployment;
  intents: number;
  accounts: number;
  log: (line: string) => void;
}

/**
 * Relayer throughput: `intents` signed payment intents from `accounts`
 * deployed passkey accounts, POSTed all at once to a node running as its
 * own process (default settings: batches of 50), timed from the first POST
 * until the last intent is confirmed.
 */
export async function benchRelayer(opts: RelayerBenchOptions): Promise<Metrics> {
  const { deployment, rpcUrl } = opts;
  const usd = deployment.contracts.tokens.USD;
  const [signer] = await opts.connection.ethers.getSigners();
  if (!signer) throw new Error("no signer");
  const wallets = [];
  for (let i = 0; i < opts.accounts; i++) {
    const device = SoftwareDevice.generate();
    const { qx, qy } = device.publicKey;
    const account = predictAccountAddress({ ...deployment.contracts.accounts, qx, qy, salt: 0n });
    await (await signer.sendTransaction({ to: usd, data: new Interface(["function mint(address to, uint256 amount)"]).encodeFunctionData("mint", [account, 10n ** 12n]) })).wait();
    await (await signer.sendTransaction({ to: deployment.contracts.accounts.factory, data: factoryInterface.encodeFunctionData("createAccount", [qx, qy, 0n]) })).wait();
    wallets.push({ device, account });
  }
  const relayer = Wallet.createRandom();
  await jsonRpcRequest(rpcUrl, "hardhat_setBalance", [relayer.address, toQuantity(10n ** 20n)]);

  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-relayer-"));
  const deploymentFile = path.join(scratch, "deployment.json");
  await writeDeployment(deploymentFile, deployment);
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const node = spawn(
    process.execPath,
    // Rate limits off: 200 intents arrive at once from one address, and this measures the relayer, not the limiter.
    nodeArgv(["--rpc", rpcUrl, "--deployment", deploymentFile, "--data", path.join(scratch, "data"), "--port", String(port), "--log-level", "warn", "--rate-limit-ip", "0"]),
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ORIOLE_RELAYER_KEY: relayer.privateKey } },
  );
  try {
    await waitReady(apiUrl);
    const head = (await jsonRpcRequest(rpcUrl, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
    const deadline = BigInt(head.timestamp) + 3_600n;
    const bodies = [];
    for (let i = 0; i < opts.intents; i++) {
      const w = wallets[i % wallets.length];
      if (!w) throw new Error("no wallet");
      const nonce = BigInt(Math.floor(i / wallets.length));
      const intent: PaymentIntent = { token: usd, to: getAddress(hexlify(randomBytes(20))), amount: 1_000_000n, reference: hexlify(randomBytes(32)), nonce, deadline, maxRelayerFee: 10_000n };
      const signature = w.device.sign(hashPaymentIntent(deployment.chainId, w.account, intent));
      bodies.push(JSON.stringify(intentSubmissionToJson({ account: w.account, intent, signature })));
    }
    const t0 = performance.now();
    const ids = await Promise.all(
      bodies.map(async (body) => {
        const res = await fetch(`${apiUrl}/v1/intents`, { method: "POST", headers: { "content-type": "application/json" }, body });
        const json = (await res.json()) as { id?: string; error?: { code: string; message: string } };
        if (res.status !== 202 || json.id === undefined) throw new Error(`intent refused (${res.status}): ${JSON.stringify(json)}`);
        return json.id;
      }),
    );
    const accepted = performance.now();
    const txs = new Set<string>();
    let open = ids;
    const limit = Date.now() + 300_000;
    while (open.length > 0) {
      if (Date.now() > limit) throw new Error(`${open.length} intents not confirmed after 300 s`);
      const records = await Promise.all(open.map(async (id) => (await (await fetch(`${apiUrl}/v1/intents/${id}`)).json()) as { id: string; status: string; txHash: string | null }));
      for (const r of records) {
        if (r.status === "failed") throw new Error(`intent ${r.id} failed: ${JSON.stringify(r)}`);
        if (r.status === "confirmed" && r.txHash) txs.add(r.txHash);
      }
      open = records.filter((r) => r.status !== "confirmed").map((r) => r.id);
      if (open.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
    const done = performance.now();
    opts.log(`  ${opts.intents} intents accepted in ${Math.round(accepted - t0)} ms, all confirmed in ${Math.round(done - t0)} ms, ${txs.size} transactions`);
    return {
      "relayer.throughput.paymentsPerSec": Math.round((opts.intents * 1000 * 10) / (done - t0)) / 10,
      "relayer.throughput.intents": opts.intents,
      "relayer.throughput.transactions": txs.size,
    };
  } finally {
    node.kill("SIGTERM");
    await new Promise((resolve) => node.once("exit", resolve));
    await rm(scratch, { recursive: true, force: true });
  }
}

