import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitForRpc, type LocalChain } from "../../scripts/devchain/hardhatNode.ts";

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
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const rpcUrl = `http://${host}:${port}`;
  const early = exited.then(() => {
    throw new Error(`anvil exited before answering on ${rpcUrl}: ${stderr.trim()}`);
  });
  await Promise.race([waitForRpc(rpcUrl, 60_000), early]);
  early.catch(() => {});
  return {
    rpcUrl,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
