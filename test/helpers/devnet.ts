import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { startHardhatNode, type LocalChain } from "../../scripts/devchain/hardhatNode.ts";
import { ensureDeployment } from "../../scripts/deploy/ensureDeployment.ts";
import { startAnvil } from "./anvil.ts";
import type { Deployment } from "../../client/sdk/deployment.ts";

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
