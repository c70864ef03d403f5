/**
 * `npm run bench`: measures Oriole and writes bench/results.json (a flat
 * metric → number object plus `meta`), then prints it as a table.
 * Baselines are measured in the same run: the machine is shared and noisy.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import hre from "hardhat";
import { benchGas } from "./gas.ts";
import { benchPasskeyGas } from "./passkeyGas.ts";
import { benchBackfill } from "./backfill.ts";
import { benchE2e } from "./e2e.ts";
import { benchRelayer } from "./relayer.ts";
import { benchApiRead } from "./apiRead.ts";
import { startHardhatNode } from "../devchain/hardhatNode.ts";
import { ensureDeployment } from "../deploy/ensureDeployment.ts";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { writeResults, formatTable, type Metrics } from "./results.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function step(line: string): void {
  console.log(`bench: ${line}`);
}

const metrics: Metrics = {};

step("compiling contracts…");
await hre.tasks.getTask("build").run({ quiet: true, noTests: true });

step("gas: StableToken vs OpenZeppelin ERC20 (in-process osaka chain)…");
const inProcess = await hre.network.create({ network: "default", chainType: "l1" });
Object.assign(metrics, await benchGas(inProcess));
Object.assign(metrics, await (await import("./offlineGas.ts")).benchOfflineGas(inProcess));
Object.assign(metrics, await (await import("./escrowGas.ts")).benchEscrowGas(inProcess));
await inProcess.close();

step("gas: a passkey payment without the P-256 precompile (in-process prague chain)…");
const prague = await hre.network.create({ network: "prague", chainType: "l1" });
metrics["gas.passkey.payment.noPrecompile"] = (await benchPasskeyGas(prague, { paymentOnly: true })).payment;
await prague.close();

step("starting a hardhat node and deploying Oriole…");
const chain = await startHardhatNode({ inheritOutput: process.env.ORIOLE_BENCH_DEBUG === "1" });
const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-"));
try {
  const connection = await hre.network.create({ network: "localhost", chainType: "l1", override: { url: chain.rpcUrl } });
  const { deployment } = await ensureDeployment({ connection, deploymentsDir: scratch });
  const transfers = Number(process.env.ORIOLE_BENCH_TRANSFERS ?? 100_000);
  step(`indexer backfill: ${transfers.toLocaleString("en-US")} transfers…`);
  Object.assign(metrics, await benchBackfill({ connection, rpcUrl: chain.rpcUrl, deployment, transfers, log: step }));
  const payments = Number(process.env.ORIOLE_BENCH_PAYMENTS ?? 200);
  step(`end-to-end: ${payments} payments, signing → mined → indexed → on the merchant's SSE stream…`);
  Object.assign(metrics, await benchE2e({ root: ROOT, connection, rpcUrl: chain.rpcUrl, deployment, payments, log: step }));
  Object.assign(metrics, await (await import("./invoiceE2e.ts")).benchInvoiceE2e({ root: ROOT, connection, rpcUrl: chain.rpcUrl, deployment, invoices: Number(process.env.ORIOLE_BENCH_INVOICES ?? 100), log: step }));
  const intents = Number(process.env.ORIOLE_BENCH_INTENTS ?? 200);
  step(`relayer: ${intents} passkey intents from 20 accounts, submitted at once → all confirmed…`);
  Object.assign(metrics, await benchRelayer({ root: ROOT, connection, rpcUrl: chain.rpcUrl, deployment, intents, accounts: 20, log: step }));
  const rate = Number(process.env.ORIOLE_BENCH_API_RATE ?? 500);
  step(`API reads: balances and payment pages at ${rate.toString()} requests/s (autocannon)…`);
  Object.assign(metrics, await benchApiRead({ root: ROOT, connection, rpcUrl: chain.rpcUrl, deployment, rate, durationSec: Number(process.env.ORIOLE_BENCH_API_SECONDS ?? 20), log: step }));
  await connection.close();
} finally {
  await chain.stop();
  await rm(scratch, { recursive: true, force: true });
}

const file = await writeResults(ROOT, metrics);
console.log(`\n${formatTable(metrics)}\n\nwritten to ${path.relative(ROOT, file)}`);
