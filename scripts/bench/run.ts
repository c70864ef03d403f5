/**
 * `npm run bench`: measures Oriole and writes bench/results.json (a flat
 * metric → number object plus `meta`), then prints it as a table.
 * Baselines are measured in the same run: the machine is shared and noisy.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import hre from "hardhat";
import { benchGas } from "./gas.ts";
import { writeResults, formatTable, type Metrics } from "./results.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function step(line: string): void {
  console.log(`bench: ${line}`);
}

const metrics: Metrics = {};

step("compiling contracts…");
await hre.tasks.getTask("build").run({ quiet: true });

step("gas: StableToken vs OpenZeppelin ERC20 (in-process osaka chain)…");
const inProcess = await hre.network.create({ network: "default", chainType: "l1" });
Object.assign(metrics, await benchGas(inProcess));
await inProcess.close();

const file = await writeResults(ROOT, metrics);
console.log(`\n${formatTable(metrics)}\n\nwritten to ${path.relative(ROOT, file)}`);
