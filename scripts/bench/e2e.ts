import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { writeDeployment } from "../../client/sdk/deployment.ts";
import { paymentProvider, sendPayment } from "../../client/sdk/payments.ts";
import { freePort } from "../devchain/hardhatNode.ts";
import { percentile, type Metrics } from "./results.ts";
import { waitReady } from "./ready.ts";

/** Hardhat's default account #1: a well-known dev key, never a real one. */
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

export interface E2eOptions {
  root: string;
  connection: NetworkConnection<"l1">;
  rpcUrl: string;
  deployment: Deployment;
  payments: number;
  log: (line: string) => void;
}

/**
 * Payment latency as a user sees it: from signing in the client, to mined,
 * to indexed, to visible in the payee's `/payments` on the node's API. The
 * node runs as its own process with its default settings, as `npm start` runs it.
 */
export async function benchE2e(opts: E2eOptions): Promise<Metrics> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-e2e-"));
  const deploymentFile = path.join(scratch, "deployment.json");
  await writeDeployment(deploymentFile, opts.deployment);
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const node = spawn(
    process.execPath,
    [path.join(opts.root, "node/src/main.ts"), "--rpc", opts.rpcUrl, "--deployment", deploymentFile, "--data", path.join(scratch, "data"), "--port", String(port), "--log-level", "warn"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const provider = paymentProvider(opts.rpcUrl, opts.deployment.chainId);
  try {
    const usd = opts.deployment.contracts.tokens.USD;
    const payer = new Wallet(PAYER_KEY, provider);
    const [minter] = await opts.connection.ethers.getSigners();
    if (!minter) throw new Error("no signer");
    const token = await opts.connection.ethers.getContractAt("StableToken", usd, minter);
    await (await token.mint(payer.address, 10n ** 12n)).wait();

    await waitReady(apiUrl);
    const total: number[] = [];
    const mined: number[] = [];
    for (let i = 0; i < opts.payments; i++) {
      const to = getAddress(hexlify(randomBytes(20)));
      const t0 = performance.now();
      const receipt = await sendPayment({ signer: payer, tokenAddress: usd, to, amount: 1_000_000n + BigInt(i) });
      const t1 = performance.now();
      await waitVisible(apiUrl, to, receipt.hash);
      const t2 = performance.now();
      mined.push(t1 - t0);
      total.push(t2 - t0);
      if ((i + 1) % 50 === 0) opts.log(`  ${i + 1}/${opts.payments} payments`);
    }
    const r = (n: number): number => Math.round(n * 10) / 10;
    return {
      "e2e.payment.count": total.length,
      "e2e.payment.p50Ms": r(percentile(total, 50)),
      "e2e.payment.p99Ms": r(percentile(total, 99)),
      "e2e.payment.minedP50Ms": r(percentile(mined, 50)),
    };
  } finally {
    provider.destroy();
    node.kill("SIGTERM");
    await new Promise((resolve) => node.once("exit", resolve));
    await rm(scratch, { recursive: true, force: true });
  }
}


/** Polls the payee's newest payment every 5 ms until it is `txHash`. */
async function waitVisible(apiUrl: string, account: string, txHash: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${apiUrl}/v1/accounts/${account}/payments?limit=1`);
    const body = (await res.json()) as { items?: { txHash?: string }[] };
    if (body.items?.[0]?.txHash === txHash) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`payment ${txHash} not visible in the API after 30 s`);
}
