/**
 * `node scripts/bench/backfillOnly.ts [transfers]`: only the indexer backfill
 * bench (default 100,000 Transfer events) on a fresh hardhat node (or anvil); prints
 * the metrics. For working on the indexer's hot path without the full bench.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { benchBackfill } from "./backfill.ts";
import { startHardhatNode } from "../devchain/hardhatNode.ts";
import { ensureDeployment } from "../deploy/ensureDeployment.ts";
import { startAnvil } from "../../test/helpers/anvil.ts";

const transfers = Number(process.argv[2] ?? 100_000);
// ORIOLE_BENCH_CHAIN=anvil: the same bench against anvil (how much of the time is the RPC's).
const chain = process.env.ORIOLE_BENCH_CHAIN === "anvil" ? await startAnvil() : await startHardhatNode();
const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-"));
try {
  const connection = await hre.network.create({ network: "localhost", chainType: "l1", override: { url: chain.rpcUrl } });
  const { deployment } = await ensureDeployment({ connection, deploymentsDir: scratch });
  console.log(await benchBackfill({ connection, rpcUrl: chain.rpcUrl, deployment, transfers, log: (l) => {
      console.log(l);
    }, debugLog: true, runs: Number(process.env.RUNS ?? 3) }));
  await connection.close();
} finally {
  await chain.stop();
  await rm(scratch, { recursive: true, force: true });
}
