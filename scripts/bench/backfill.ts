import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getAddress, hexlify, randomBytes } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { CURRENCIES } from "../../client/sdk/currencies.ts";
import { writeDeployment, type Deployment } from "../../client/sdk/deployment.ts";
import { spawnNode, type LogLine, type NodeProcess } from "../../test/helpers/nodeProcess.ts";
import type { Metrics } from "./results.ts";

export interface BackfillOptions {
  connection: NetworkConnection<"l1">;
  rpcUrl: string;
  deployment: Deployment;
  /** Transfers to generate (issue 5 asks for at least 100,000). */
  transfers: number;
  log: (line: string) => void;
  /** Run the node with debug logs and print where the ranges' time went. */
  debugLog?: boolean;
  /** Index the same chain this many times, each into a fresh store; the median run counts (default 3: the machine is shared and noisy). */
  runs?: number;
}

const PER_TX = 250;
const RECIPIENTS = 2_000;

/**
 * Fills the chain with `transfers` real Transfer events (spread over every
 * currency, many per transaction through TransferSpray), then times a fresh
 * settlement node from an empty store until it has indexed the head.
 */
export async function benchBackfill(opts: BackfillOptions): Promise<Metrics> {
  const { ethers } = opts.connection;
  const [minter] = await ethers.getSigners();
  if (!minter) throw new Error("no signer");
  const spray = await ethers.deployContract("TransferSpray");
  const sprayAddress = await spray.getAddress();
  const pool = Array.from({ length: RECIPIENTS }, () => getAddress(hexlify(randomBytes(20))));

  const txCount = Math.ceil(opts.transfers / PER_TX);
  let sent = 0;
  let nonce = await minter.getNonce("pending");
  const pending = [];
  for (let i = 0; i < txCount; i++) {
    const code = CURRENCIES[i % CURRENCIES.length] ?? "USD";
    const token = await ethers.getContractAt("StableToken", opts.deployment.contracts.tokens[code], minter);
    const n = Math.min(PER_TX, opts.transfers - sent);
    const recipients = Array.from({ length: n }, (_, k) => pool[(sent + k) % pool.length] ?? minter.address);
    if (i < CURRENCIES.length) {
      pending.push(await token.mint(minter.address, 10n ** 15n, { nonce: nonce++ }));
      pending.push(await token.approve(sprayAddress, 2n ** 255n, { nonce: nonce++ }));
    }
    pending.push(await spray.spray(opts.deployment.contracts.tokens[code], recipients, 1_000_000n, { nonce: nonce++ }));
    sent += n;
    if (i % 10 === 9) opts.log(`  generated ${sent.toLocaleString("en-US")}/${opts.transfers.toLocaleString("en-US")} transfers`);
  }
  for (const tx of pending) {
    const r = await tx.wait();
    if (r?.status !== 1) throw new Error(`setup transaction ${tx.hash} failed`);
  }
  const head = await ethers.provider.getBlockNumber();
  const events = (await ethers.provider.send("eth_getLogs", [
    { fromBlock: `0x${opts.deployment.deployedAt.blockNumber.toString(16)}`, toBlock: `0x${head.toString(16)}`, address: Object.values(opts.deployment.contracts.tokens) },
  ])) as unknown[];
  opts.log(`  chain holds ${events.length.toLocaleString("en-US")} Transfer events up to block ${head}; indexing from an empty store…`);

  const runs: Metrics[] = [];
  for (let run = 0; run < (opts.runs ?? 3); run++) runs.push(await indexOnce(opts, head, events.length));
  const rate = (m: Metrics): number => m["indexer.backfill.eventsPerSec"] ?? 0;
  runs.sort((a, b) => rate(a) - rate(b));
  const median = runs[Math.floor((runs.length - 1) / 2)];
  if (!median) throw new Error("no run");
  opts.log(`  runs (events/s, slowest first): ${runs.map((m) => rate(m).toLocaleString("en-US")).join(", ")}; the median counts`);
  return { ...median, "indexer.backfill.runs": runs.length };
}

async function indexOnce(opts: BackfillOptions, head: number, events: number): Promise<Metrics> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-backfill-"));
  try {
    const deploymentFile = path.join(scratch, "deployment.json");
    await writeDeployment(deploymentFile, opts.deployment);
    // The node in its own process, as it runs in production (its own heap and V8 flags).
    const node = await spawnNode({
      args: ["--rpc", opts.rpcUrl, "--deployment", deploymentFile, "--data", path.join(scratch, "data"), "--port", "0", "--poll-ms", "20", "--log-level", opts.debugLog ? "debug" : "info"],
      timeoutMs: 60_000,
      // ORIOLE_BENCH_PROF=DIR: a CPU profile of the node (as for the API read bench).
      nodeFlags: process.env.ORIOLE_BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.ORIOLE_BENCH_PROF}`] : [],
    });
    try {
      // The indexer's own clock: from its start to the head (the process's boot is not backfill).
      const caughtUp = await waitForLog(node, (l) => l.msg === "caught up" && Number(l.indexedBlock) >= head, 600_000);
      const secs = Number(caughtUp.ms) / 1000;
      if (opts.debugLog) {
        const sums: Record<string, number> = {};
        for (const l of node.logs()) {
          if (l.msg !== "indexed range") continue;
          for (const k of ["fetchMs", "readMs", "deriveMs", "writeMs"]) sums[k] = (sums[k] ?? 0) + Number(l[k]);
          sums.ranges = (sums.ranges ?? 0) + 1;
        }
        opts.log(`  per-range totals (ms): ${JSON.stringify(sums)}`);
      }
      opts.log(`  indexed ${events.toLocaleString("en-US")} events in ${secs.toFixed(2)} s`);
      return {
        "indexer.backfill.events": events,
        "indexer.backfill.seconds": Number(secs.toFixed(3)),
        "indexer.backfill.eventsPerSec": Math.round(events / secs),
      };
    } finally {
      await node.kill("SIGTERM");
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function waitForLog(node: NodeProcess, match: (l: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = node.logs().find(match);
    if (found) return found;
    if (node.process.exitCode !== null || node.process.signalCode !== null) throw new Error(`node exited during the backfill:\n${node.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`backfill not done within ${timeoutMs.toString()} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
