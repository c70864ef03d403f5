/**
 * `npm run deploy -- --rpc URL`: deploys Oriole to any EVM chain (idempotent)
 * and writes deployments/<chainId>.json for the node and the client.
 *
 * With ORIOLE_DEPLOYER_KEY set, that key deploys and becomes admin and minter
 * (network `remote`); otherwise the chain's own unlocked account 0 does
 * (network `localhost`: hardhat node, anvil). `--fund-dev` funds every
 * unlocked account with 1,000,000 of each currency (local chains only).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import hre from "hardhat";
import { ensureDeployment } from "./deploy/ensureDeployment.ts";
import { waitForRpc } from "./devchain/hardhatNode.ts";
import { jsonRpcRequest } from "../client/sdk/jsonRpc.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    rpc: { type: "string", default: process.env.ORIOLE_RPC_URL ?? "http://127.0.0.1:8545" },
    "fund-dev": { type: "boolean", default: false },
    out: { type: "string", default: path.join(ROOT, "deployments") },
  },
});

await waitForRpc(args.rpc, 10_000);
await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
const useKey = Boolean(process.env.ORIOLE_DEPLOYER_KEY);
const connection = await hre.network.create({
  network: useKey ? "remote" : "localhost",
  chainType: "l1",
  override: { url: args.rpc },
});
const fund = args["fund-dev"] ? ((await jsonRpcRequest(args.rpc, "eth_accounts")) as string[]) : undefined;
const { file, reused, deployment } = await ensureDeployment({
  connection,
  deploymentsDir: args.out,
  fund,
  log: (l) => {
    console.log(l);
  },
});
await connection.close();
console.log(`${reused ? "already deployed" : "deployed"} on chain ${deployment.chainId}: ${path.relative(ROOT, file)}`);
