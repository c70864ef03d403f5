import { spawn } from "node:child_process";
import { nodeArgv } from "../../node/src/runtime.ts";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { getAddress, hexlify, Interface, randomBytes } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { writeDeployment } from "../../client/sdk/deployment.ts";
import { freePort } from "../devchain/hardhatNode.ts";
import type { Metrics } from "./results.ts";
import { waitReady } from "./ready.ts";

/** Unmeasured load before the measured run (see benchApiRead). */
const WARMUP_SECONDS = 10;

export interface ApiReadOptions {
  root: string;
  connection: NetworkConnection<"l1">;
  rpcUrl: string;
  deployment: Deployment;
  /** Requests per second, overall; 0 = as fast as the node answers (capacity). */
  rate: number;
  durationSec: number;
  log: (line: string) => void;
}

/**
 * API read latency: a node in its own process (rate limits off), seeded
 * with payments to 50 accounts, read at a fixed `rate` by autocannon (10
 * connections, coordinated omission corrected), half balances, half
 * payment pages of random accounts.
 */
export async function benchApiRead(opts: ApiReadOptions): Promise<Metrics> {
  const { deployment } = opts;
  const [signer] = await opts.connection.ethers.getSigners();
  if (!signer) throw new Error("no signer");
  const accounts = Array.from({ length: 50 }, () => getAddress(hexlify(randomBytes(20))));
  const mint = new Interface(["function mint(address to, uint256 amount)"]);
  let last;
  for (let i = 0; i < accounts.length * 4; i++) {
    const to = accounts[i % accounts.length] ?? "";
    last = await signer.sendTransaction({ to: deployment.contracts.tokens.USD, data: mint.encodeFunctionData("mint", [to, BigInt(1_000_000 + i)]) });
  }
  await last?.wait();

  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-api-"));
  const deploymentFile = path.join(scratch, "deployment.json");
  await writeDeployment(deploymentFile, deployment);
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port.toString()}`;
  const node = spawn(
    process.execPath,
    nodeArgv(["--rpc", opts.rpcUrl, "--deployment", deploymentFile, "--data", path.join(scratch, "data"), "--port", String(port), "--log-level", "warn", "--rate-limit-ip", "0"], process.env.ORIOLE_BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.ORIOLE_BENCH_PROF}`] : []),
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  try {
    await waitReady(apiUrl, 120_000);
    let i = 0;
    const nextPath = (): string => {
      i++;
      const a = accounts[Math.floor(Math.random() * accounts.length)] ?? "";
      return i % 2 === 0 ? `/v1/accounts/${a}/balances` : `/v1/accounts/${a}/payments?limit=20`;
    };
    // Warm-up, unmeasured: JIT, LevelDB caches, and the compaction LevelDB runs for a few seconds
    // after the 100,000-event backfill (a node's one-off start, not its steady state).
    const rate = opts.rate > 0 ? { overallRate: opts.rate } : {};
    await autocannon({ url: apiUrl, connections: 10, duration: WARMUP_SECONDS, ...rate, requests: [{ setupRequest: (req) => ({ ...req, path: nextPath() }) }] });
    const r = await autocannon({ url: apiUrl, connections: 10, duration: opts.durationSec, ...rate, requests: [{ setupRequest: (req) => ({ ...req, path: nextPath() }) }] });
    if (r.errors > 0 || r.timeouts > 0 || r.non2xx > 0) throw new Error(`api read bench: ${r.errors.toString()} errors, ${r.timeouts.toString()} timeouts, ${r.non2xx.toString()} non-2xx`);
    const metricsText = await (await fetch(`${apiUrl}/metrics`)).text();
    const serverP99 = serverP99Ms(metricsText);
    const loop = (q: string): string => (Number(new RegExp(`^oriole_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)$`, "m").exec(metricsText)?.[1] ?? NaN) * 1000).toFixed(1);
    // The machine is shared: the load says how much of the tail is other processes'.
    opts.log(`  server side (the node's /metrics histogram): p99 ≤ ${serverP99.toString()} ms; event loop delay p99 ${loop("0.99")} ms, max ${loop("1")} ms; load average ${os.loadavg()[0]?.toFixed(1) ?? "?"} on ${os.cpus().length.toString()} cores`);
    opts.log(
      `  ${r.requests.total.toString()} reads at ${Math.round(r.requests.average).toString()}/s: p50 ${r.latency.p50.toString()} ms, p90 ${r.latency.p90.toString()} ms, p99 ${r.latency.p99.toString()} ms, max ${r.latency.max.toString()} ms`,
    );
    return {
      "api.read.p99Ms": r.latency.p99,
      "api.read.p50Ms": r.latency.p50,
      "api.read.requestsPerSec": Math.round(r.requests.average),
      "api.read.serverP99Ms": serverP99,
    };
  } finally {
    node.kill("SIGTERM");
    await new Promise((resolve) => node.once("exit", resolve));
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The upper bound of the node's latency bucket holding the 99th percentile
 * of its GET 200s (balances and payments): time in the node, without the
 * client's and the OS's share.
 */
function serverP99Ms(text: string): number {
  const buckets = new Map<number, number>();
  const re = /^oriole_http_request_duration_seconds_bucket\{route="\/v1\/accounts\/:address\/(?:balances|payments)",method="GET",status="200",le="([^"]+)"\} (\d+)$/gm;
  for (const m of text.matchAll(re)) {
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  const total = buckets.get(Infinity) ?? 0;
  for (const [le, count] of [...buckets].sort(([a], [b]) => a - b)) if (count >= total * 0.99) return le * 1000;
  return Infinity;
}


// `node scripts/bench/apiRead.ts`: this bench alone, on a fresh hardhat node.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { default: hre } = await import("hardhat");
  const { startHardhatNode } = await import("../devchain/hardhatNode.ts");
  const { ensureDeployment } = await import("../deploy/ensureDeployment.ts");
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const chain = await startHardhatNode();
  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-"));
  try {
    const connection = await hre.network.create({ network: "localhost", chainType: "l1", override: { url: chain.rpcUrl } });
    const { deployment } = await ensureDeployment({ connection, deploymentsDir: scratch });
    const m = await benchApiRead({ root, connection, rpcUrl: chain.rpcUrl, deployment, rate: Number(process.env.ORIOLE_BENCH_API_RATE ?? 500), durationSec: Number(process.env.ORIOLE_BENCH_API_SECONDS ?? 20), log: (l) => { console.log(l); } });
    console.log(JSON.stringify(m));
    await connection.close();
  } finally {
    await chain.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
