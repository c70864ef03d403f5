import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, superviseChain, type LocalChain } from "../../scripts/devchain/hardhatNode.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ANVIL_BIN = path.join(ROOT, "node_modules", ".bin", "anvil");

/**
 * Starts anvil (`@foundry-rs/anvil`) on 127.0.0.1 and a free port, and
 * resolves once it answers JSON-RPC. Same chain id (31337) and dev accounts
 * (the "test … junk" mnemonic) as `hardhat node`, so the same deploy and
 * test code runs on both; anvil adds `anvil_reorg` and `anvil_rollback`.
 */
export async function startAnvil(opts: { port?: number } = {}): Promise<LocalChain> {
  const host = "127.0.0.1";
  const port = opts.port ?? (await freePort());
  const child = spawn(ANVIL_BIN, ["--host", host, "--port", String(port), "--silent"], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: process.env });
  return superviseChain(child, "anvil", host, port);
}
