/**
 * Dev tool: where the gas of one transaction goes, from `debug_traceTransaction`
 * struct logs. Each opcode's own cost is attributed to the contract running it
 * (by code address) and to an opcode class; a call's overhead (cold access,
 * value, memory) goes to the caller, a precompile's cost to the precompile.
 * ORIOLE_GAS_OPS=1 splits "other" by opcode; ORIOLE_GAS_DUMP=<file> writes the
 * raw steps (depth op gas cost).
 */
import { writeFileSync } from "node:fs";
import type { EthereumProvider } from "hardhat/types/providers";

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

export interface GasProfile {
  /** gasUsed minus the execution: intrinsic (21,000 + calldata + access list) less any refund. */
  intrinsic: number;
  /** `contract: class` → gas. */
  rows: Map<string, number>;
}

const CLASSES: Record<string, string> = {
  SLOAD: "SLOAD",
  SSTORE: "SSTORE",
  LOG0: "LOG",
  LOG1: "LOG",
  LOG2: "LOG",
  LOG3: "LOG",
  LOG4: "LOG",
  KECCAK256: "KECCAK256",
  SHA3: "KECCAK256",
  CALL: "CALL",
  STATICCALL: "CALL",
  DELEGATECALL: "CALL",
};

function hexWord(v: string): bigint {
  return BigInt(v.startsWith("0x") ? v : `0x${v}`);
}

export async function profileTx(provider: EthereumProvider, hash: string, names: Map<string, string>): Promise<GasProfile> {
  const receipt = (await provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as { gasUsed: string; to: string };
  const trace = (await provider.request({ method: "debug_traceTransaction", params: [hash, {}] })) as { gas: number; structLogs: StructLog[] };
  const logs = trace.structLogs;
  if (process.env.ORIOLE_GAS_DUMP) {
    writeFileSync(process.env.ORIOLE_GAS_DUMP, logs.map((l) => `${l.depth.toString()} ${l.op} ${l.gas.toString()} ${l.gasCost.toString()}`).join("\n"));
  }
  const name = (a: string): string => names.get(a.toLowerCase()) ?? a.toLowerCase();
  const rows = new Map<string, number>();
  const add = (k: string, g: number): void => {
    rows.set(k, (rows.get(k) ?? 0) + g);
  };
  // the code running at each depth (a DELEGATECALL runs its target's code)
  const code: string[] = [name(receipt.to)];
  let execution = 0;
  for (let i = 0; i < logs.length; ++i) {
    const s = logs[i];
    if (!s) continue;
    const here = code[s.depth - 1] ?? "?";
    const cls = CLASSES[s.op] ?? (process.env.ORIOLE_GAS_OPS === "1" ? s.op : "other");
    const next = logs[i + 1];
    if (CLASSES[s.op] === "CALL" && s.stack) {
      const target = `0x${hexWord(s.stack[s.stack.length - 2] ?? "0").toString(16).padStart(40, "0")}`;
      // the cost up to the next step at this depth, minus what the callee's frame used
      let j = i + 1;
      while (j < logs.length && (logs[j]?.depth ?? 0) > s.depth) ++j;
      const last = logs[j - 1];
      const inner = next && last && next.depth > s.depth ? next.gas - (last.gas - last.gasCost) : 0;
      const after = logs[j];
      const total = after ? s.gas - after.gas : s.gasCost;
      if (next && next.depth > s.depth) {
        code[s.depth] = name(target);
        add(`${here}: ${s.op} (call overhead)`, total - inner);
      } else {
        // precompile or empty code: all of it is the call
        add(`${name(target)}: precompile/empty call`, total);
      }
      continue;
    }
    if (next && next.depth === s.depth) add(`${here}: ${cls}`, s.gas - next.gas);
    else add(`${here}: ${cls}`, s.gasCost);
  }
  for (const v of rows.values()) execution += v;
  return { intrinsic: Number(BigInt(receipt.gasUsed)) - execution, rows };
}

export function formatProfile(p: GasProfile): string {
  const lines = [`intrinsic (base + calldata): ${p.intrinsic.toString()}`];
  const byContract = new Map<string, number>();
  for (const [k, v] of [...p.rows.entries()].sort()) {
    lines.push(`  ${k}: ${v.toString()}`);
    const c = k.split(":")[0] ?? k;
    byContract.set(c, (byContract.get(c) ?? 0) + v);
  }
  for (const [c, v] of byContract) lines.push(`total ${c}: ${v.toString()}`);
  return lines.join("\n");
}
