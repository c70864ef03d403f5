import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { startHardhatNode, type LocalChain } from "../../scripts/devchain/hardhatNode.ts";
import { ensureDeployment } from "../../scripts/deploy/ensureDeployment.ts";
import { startAnvil } from "./anvil.ts";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { startNode, type RunningNode, type StartOptions } from "../../node/src/app.ts";
import { configWith, type NodeConfig } from "../../node/src/config.ts";
import { silentLogger } from "../../node/src/log.ts";

export interface Devnet {
  chain: LocalChain;
  connection: NetworkConnection<"l1">;
  deployment: Deployment;
  deploymentFile: string;
  /** A scratch folder for this devnet's files (deployments, node data, keystores). */
  dir: string;
  stop(): Promise<void>;
}

/**
 * A real `hardhat node` on a free port with Oriole deployed through the same
 * code path as `npm start`. `fund` accounts get 1,000,000 of every currency.
 * `chain: "anvil"` runs anvil instead (same chain id and dev accounts).
 */
export async function startDevnet(opts: { fund?: readonly string[]; chain?: "hardhat" | "anvil" } = {}): Promise<Devnet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-devnet-"));
  const chain = opts.chain === "anvil" ? await startAnvil() : await startHardhatNode();
  const connection = await network.create({ network: "localhost", chainType: "l1", override: { url: chain.rpcUrl } });
  const { deployment, file } = await ensureDeployment({
    connection,
    deploymentsDir: path.join(dir, "deployments"),
    fund: opts.fund,
  });
  return {
    chain,
    connection,
    deployment,
    deploymentFile: file,
    dir,
    async stop() {
      await connection.close();
      await chain.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A settlement node in this process on `devnet`: its chain, its deployment, a
 * 20 ms poll and a fresh data folder under `devnet.dir` (removed by
 * `devnet.stop()`), unless `fields` say otherwise. Logs nothing unless
 * `opts.log` is given.
 */
export async function startDevnetNode(devnet: Devnet, fields: Partial<NodeConfig> = {}, opts: StartOptions = {}): Promise<RunningNode> {
  const dataDir = fields.dataDir ?? (await mkdtemp(path.join(devnet.dir, "node-")));
  const config = configWith({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, pollMs: 20, ...fields, dataDir });
  return startNode(config, { log: silentLogger, ...opts });
}
