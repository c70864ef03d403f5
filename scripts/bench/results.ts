import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export type Metrics = Record<string, number>;

export interface BenchMeta {
  date: string;
  node: string;
  commit: string;
}

function gitCommit(cwd: string): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

/** Writes bench/results.json: a flat object of metric → number plus `meta`. */
export async function writeResults(root: string, metrics: Metrics): Promise<string> {
  const meta: BenchMeta = { date: new Date().toISOString(), node: process.version, commit: gitCommit(root) };
  const file = path.join(root, "bench", "results.json");
  await mkdir(path.dirname(file), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(file, `${JSON.stringify({ ...sorted, meta }, null, 2)}\n`);
  return file;
}

export function formatTable(metrics: Metrics): string {
  const rows = Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(6, ...rows.map(([k]) => k.length));
  const fmt = (n: number): string =>
    Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 2 });
  const lines = [`${"metric".padEnd(w)}  ${"value".padStart(12)}`, `${"-".repeat(w)}  ${"-".repeat(12)}`];
  for (const [k, v] of rows) lines.push(`${k.padEnd(w)}  ${fmt(v).padStart(12)}`);
  return lines.join("\n");
}

/** The p-th percentile (0..100) of `values`, nearest-rank method. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of an empty set");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}
