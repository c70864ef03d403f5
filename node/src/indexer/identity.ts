import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import type { Deployment } from "../../../client/sdk/deployment.ts";
import { OrioleError } from "../../../client/sdk/errors.ts";
import type { ChainClient } from "../chain/rpc.ts";
import type { Logger } from "../log.ts";
import { SCHEMA_VERSION, type ChainIdentity, type NodeStore } from "../store/store.ts";

/**
 * What the chain behind the RPC is, checked against the deployment file:
 * same chain id, same genesis, and the deployment block still there.
 * Throws `deployment_mismatch` otherwise (e.g. a stale deployments/<id>.json
 * after the dev chain restarted).
 */
export async function chainIdentity(client: ChainClient, deployment: Deployment): Promise<ChainIdentity> {
  if (deployment.chainId !== client.chainId) {
    throw new OrioleError("deployment_mismatch", `the deployment is for chain ${deployment.chainId} but the RPC serves chain ${client.chainId}`, {
      deploymentChainId: deployment.chainId,
      rpcChainId: client.chainId,
    });
  }
  const [genesis, deployedAt] = await Promise.all([client.header(0), client.header(deployment.deployedAt.blockNumber).catch(() => undefined)]);
  if (genesis.hash !== deployment.genesisHash.toLowerCase()) {
    throw new OrioleError(
      "deployment_mismatch",
      `the deployment was made on another chain history (genesis ${deployment.genesisHash}, the RPC's is ${genesis.hash}): redeploy (npm start) or pass the right --deployment`,
      { deploymentGenesis: deployment.genesisHash, rpcGenesis: genesis.hash },
    );
  }
  if (deployedAt?.hash !== deployment.deployedAt.blockHash.toLowerCase()) {
    throw new OrioleError("deployment_mismatch", `block ${deployment.deployedAt.blockNumber} of the chain is not the deployment block ${deployment.deployedAt.blockHash}`, {
      blockNumber: deployment.deployedAt.blockNumber,
    });
  }
  const tokens = Object.fromEntries(CURRENCIES.map((c) => [c, deployment.contracts.tokens[c].toLowerCase()])) as Record<Currency, string>;
  return {
    chainId: client.chainId,
    genesisHash: genesis.hash,
    tokens,
    deployedAt: { blockNumber: deployedAt.number, blockHash: deployedAt.hash },
  };
}

export function sameIdentity(a: ChainIdentity, b: ChainIdentity): boolean {
  return (
    a.chainId === b.chainId &&
    a.genesisHash === b.genesisHash &&
    a.deployedAt.blockNumber === b.deployedAt.blockNumber &&
    a.deployedAt.blockHash === b.deployedAt.blockHash &&
    CURRENCIES.every((c) => a.tokens[c] === b.tokens[c])
  );
}

/**
 * Binds the store to `expected`. A fresh store is stamped with it. A store
 * built from another chain (a restarted dev chain has the same chain id but
 * a new genesis) is refused with `chain_mismatch`, or wiped and re-indexed
 * when `reindexOnReset` is set. A store without identity but with data is
 * the trace of an interrupted wipe, and is wiped. A store of the same chain
 * derived with another SCHEMA_VERSION (an older node) is wiped and
 * re-indexed: everything in it comes from the chain.
 */
export async function bindStore(store: NodeStore, expected: ChainIdentity, opts: { reindexOnReset: boolean; dataDir: string; log: Logger }): Promise<{ wiped: boolean }> {
  const stored = await store.identity();
  if (stored && sameIdentity(stored, expected)) {
    const version = await store.schemaVersion();
    if (version === SCHEMA_VERSION) return { wiped: false };
    opts.log.warn("data dir was indexed by another node version: wiping it and re-indexing", { dataDir: opts.dataDir, schemaVersion: version, expected: SCHEMA_VERSION });
    await store.wipeDerived();
    await store.setIdentity(expected);
    return { wiped: true };
  }
  if (stored) {
    const details = {
      dataDir: opts.dataDir,
      stored: { chainId: stored.chainId, genesisHash: stored.genesisHash, tokens: stored.tokens },
      chain: { chainId: expected.chainId, genesisHash: expected.genesisHash, tokens: expected.tokens },
    };
    if (!opts.reindexOnReset) {
      throw new OrioleError(
        "chain_mismatch",
        `the data in ${opts.dataDir} was indexed from another chain or deployment (chain ${stored.chainId}, genesis ${stored.genesisHash}) than the RPC's (chain ${expected.chainId}, genesis ${expected.genesisHash}): use another --data folder, or pass --reindex-on-reset to wipe it and re-index`,
        details,
      );
    }
    opts.log.warn("chain reset detected: wiping the data dir and re-indexing", details);
    await store.wipe();
  } else if (!(await store.isEmpty())) {
    opts.log.warn("data dir has no chain identity (interrupted wipe?): wiping it", { dataDir: opts.dataDir });
    await store.wipe();
  }
  await store.setIdentity(expected);
  return { wiped: stored !== undefined };
}
