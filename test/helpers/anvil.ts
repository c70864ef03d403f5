import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, superviseChain, type LocalChain } from "../../scripts/devchain/hardhatNode.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";

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
  const child = spawn(ANVIL_BIN, ["--host", host, "--port", String(port)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: process.env });
  return superviseChain(child, "anvil", host, port);
}

export interface MinedReceipt {
  status: string;
  blockHash: string;
  blockNumber: string;
  logs: { topics: string[]; logIndex: string }[];
}

/**
 * Sends `tx` with `eth_sendTransaction` and resolves with its receipt once it
 * is mined. anvil answers with the hash before it mines, so a test that reads
 * the head right after the hash can see the block before: under CI load that
 * made a reorg test replace one block fewer than it meant to.
 */
export async function sendAndMine(rpcUrl: string, tx: Record<string, string>, opts: { expectSuccess?: boolean } = {}): Promise<{ hash: string; receipt: MinedReceipt }> {
  const hash = (await jsonRpcRequest(rpcUrl, "eth_sendTransaction", [tx])) as string;
  for (let i = 0; i < 2_400; i++) {
    const receipt = (await jsonRpcRequest(rpcUrl, "eth_getTransactionReceipt", [hash])) as MinedReceipt | null;
    if (receipt) {
      if ((opts.expectSuccess ?? true) && receipt.status !== "0x1") throw new Error(`transaction ${hash} reverted`);
      return { hash, receipt };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`transaction ${hash} was not mined within 60 s`);
}
