import { spawn } from "node:child_process";
import { nodeArgv } from "../../node/src/runtime.ts";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { writeDeployment } from "../../client/sdk/deployment.ts";
import { openSse } from "../../client/sdk/eventStream.ts";
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

/** Payments made before the timed ones (see benchE2e). */
const WARMUP_PAYMENTS = 10;

/** Admin token of the bench's own throwaway node. */
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

/**
 * Payment latency as a merchant sees it: from signing in the client, to
 * mined, to the payment event on the merchant's SSE stream
 * (/v1/merchants/me/events). The node runs as its own process with its
 * default settings, as `npm start` runs it.
 */
export async function benchE2e(opts: E2eOptions): Promise<Metrics> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-e2e-"));
  const deploymentFile = path.join(scratch, "deployment.json");
  await writeDeployment(deploymentFile, opts.deployment);
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const node = spawn(
    process.execPath,
    nodeArgv(["--rpc", opts.rpcUrl, "--deployment", deploymentFile, "--data", path.join(scratch, "data"), "--port", String(port), "--log-level", "warn"]),
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ORIOLE_ADMIN_TOKEN: ADMIN_TOKEN } },
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
    const payout = getAddress(hexlify(randomBytes(20)));
    const created = await fetch(`${apiUrl}/v1/merchants`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Bench shop", payout }),
    });
    if (created.status !== 201) throw new Error(`creating the bench merchant failed: ${created.status.toString()} ${await created.text()}`);
    const { apiKey } = (await created.json()) as { apiKey: string };
    const stream = await openSse(`${apiUrl}/v1/merchants/me/events`, { authorization: `Bearer ${apiKey}` });
    if (stream.status !== 200) throw new Error(`the merchant stream answered ${stream.status.toString()}`);
    const total: number[] = [];
    const mined: number[] = [];
    const notified: number[] = [];
    try {
      // The first payments after the node's start meet its one-off work (the compaction after the
      // backfill, the web bundle, JIT): warm-up, made and checked like the others but not timed.
      for (let i = 0; i < WARMUP_PAYMENTS + opts.payments; i++) {
        // Watched from before signing: the event may come before the client's own receipt poll returns.
        const seen = stream.waitFor(i + 1, 30_000).then((m) => ({ message: m[i], at: performance.now() }));
        seen.catch(() => undefined);
        const t0 = performance.now();
        const receipt = await sendPayment({ signer: payer, tokenAddress: usd, to: payout, amount: 1_000_000n + BigInt(i) });
        const t1 = performance.now();
        const { message, at: t2 } = await seen;
        const event = JSON.parse(message?.data ?? "{}") as { txHash?: string };
        if (event.txHash !== receipt.hash) throw new Error(`the merchant's event ${String(event.txHash)} is not payment ${receipt.hash}`);
        if (i < WARMUP_PAYMENTS) continue;
        mined.push(t1 - t0);
        notified.push(Math.max(0, t2 - t1));
        total.push(t2 - t0);
        const done = i + 1 - WARMUP_PAYMENTS;
        if (done % 50 === 0) opts.log(`  ${done.toString()}/${opts.payments.toString()} payments (after ${WARMUP_PAYMENTS.toString()} warm-up)`);
      }
    } finally {
      stream.close();
    }
    const r = (n: number): number => Math.round(n * 10) / 10;
    return {
      "e2e.payment.count": total.length,
      "e2e.payment.p50Ms": r(percentile(total, 50)),
      "e2e.payment.p99Ms": r(percentile(total, 99)),
      "e2e.payment.minedP50Ms": r(percentile(mined, 50)),
      "e2e.payment.minedP99Ms": r(percentile(mined, 99)),
      // From the receipt in the client to the event on the merchant's stream (0 when the event came first).
      "e2e.payment.notifyP99Ms": r(percentile(notified, 99)),
    };
  } finally {
    provider.destroy();
    node.kill("SIGTERM");
    await new Promise((resolve) => node.once("exit", resolve));
    await rm(scratch, { recursive: true, force: true });
  }
}

