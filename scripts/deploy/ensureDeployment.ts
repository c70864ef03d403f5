import type { NetworkConnection } from "hardhat/types/network";
import { CURRENCIES, type Currency } from "../../client/sdk/currencies.ts";
import { readDeployment, writeDeployment, deploymentPath, type Deployment } from "../../client/sdk/deployment.ts";
import { OrioleError } from "../../client/sdk/errors.ts";
import { parseAmount } from "../../client/sdk/amount.ts";
import OrioleModule from "../ignition/modules/Oriole.ts";

/** What `npm start` gives every default account, per currency. */
export const DEV_FUNDING = parseAmount("1000000");

export interface EnsureDeploymentOptions {
  /** A Hardhat network connection (ethers + ignition) to the target chain. */
  connection: NetworkConnection<"l1">;
  /** Folder that holds `<chainId>.json`. */
  deploymentsDir: string;
  /** Accounts to fund with DEV_FUNDING of every currency after a fresh deployment. */
  fund?: readonly string[];
  /** Print progress. */
  log?: (line: string) => void;
}

export interface EnsureDeploymentResult {
  deployment: Deployment;
  reused: boolean;
  file: string;
}

/**
 * Makes sure Oriole's contracts exist on the connected chain, idempotently.
 * An existing `deployments/<chainId>.json` is reused when the chain still has
 * it: same genesis, same block at the deployment height, code at every
 * address. Otherwise (e.g. a restarted dev chain) it deploys afresh with
 * Ignition, under a deployment id bound to the chain's genesis.
 */
export async function ensureDeployment(opts: EnsureDeploymentOptions): Promise<EnsureDeploymentResult> {
  const log = opts.log ?? (() => {});
  const provider = opts.connection.ethers.provider;
  const chainId = Number((await provider.getNetwork()).chainId);
  const genesis = await provider.getBlock(0);
  if (!genesis?.hash) throw new Error("the chain did not return its genesis block");
  const file = deploymentPath(chainId, opts.deploymentsDir);

  const existing = await readExisting(file, log);
  if (existing && (await chainStillHas(opts.connection, existing, genesis.hash))) {
    log(`reusing the deployment in ${file}`);
    return { deployment: existing, reused: true, file };
  }

  const deploymentId = `oriole-${chainId}-${genesis.hash.slice(2, 14)}`;
  log(`deploying Oriole contracts (ignition deployment ${deploymentId})…`);
  const result = await opts.connection.ignition.deploy(OrioleModule, { deploymentId, displayUi: false });

  const tokens = {} as Record<Currency, string>;
  for (const code of CURRENCIES) {
    tokens[code] = await result[`StableToken_${code}`].getAddress();
  }
  const accounts = {
    implementation: await result.PasskeyAccountImplementation.getAddress(),
    factory: await result.PasskeyAccountFactory.getAddress(),
    relay: await result.PaymentRelay.getAddress(),
  };
  const escrow = await result.OrioleEscrow.getAddress();
  const offlineVault = await result.OfflineVault.getAddress();
  const first = await firstBlockWithCode(opts.connection, [...Object.values(tokens), ...Object.values(accounts), escrow, offlineVault]);
  const firstBlock = await provider.getBlock(first);
  if (!firstBlock?.hash) throw new Error(`block ${first} not found`);

  const deployment: Deployment = {
    chainId,
    genesisHash: genesis.hash,
    deploymentId,
    deployedAt: { blockNumber: first, blockHash: firstBlock.hash },
    contracts: { tokens, accounts, escrow, offlineVault },
  };
  await writeDeployment(file, deployment);
  log(`deployment written to ${file}`);

  if (opts.fund && opts.fund.length > 0) await fundAccounts(opts.connection, deployment, opts.fund, log);
  return { deployment, reused: false, file };
}

async function chainStillHas(connection: NetworkConnection<"l1">, d: Deployment, genesisHash: string): Promise<boolean> {
  const provider = connection.ethers.provider;
  if (d.genesisHash !== genesisHash) return false;
  const block = await provider.getBlock(d.deployedAt.blockNumber);
  if (block?.hash !== d.deployedAt.blockHash) return false;
  for (const addr of [...Object.values(d.contracts.tokens), ...Object.values(d.contracts.accounts), d.contracts.escrow, d.contracts.offlineVault]) {
    if ((await provider.getCode(addr)) === "0x") return false;
  }
  return true;
}

/**
 * The deployment file, or undefined when there is none or it no longer fits the
 * schema (written before a contract was added): then the caller deploys afresh.
 */
async function readExisting(file: string, log: (line: string) => void): Promise<Deployment | undefined> {
  try {
    return await readDeployment(file);
  } catch (e) {
    if (e instanceof OrioleError && e.code === "invalid_deployment") {
      log(`${file} is outdated (${e.message}): deploying afresh`);
      return undefined;
    }
    throw e;
  }
}

/** Binary-searches the first block at which every address has code. */
async function firstBlockWithCode(connection: NetworkConnection<"l1">, addresses: readonly string[]): Promise<number> {
  const provider = connection.ethers.provider;
  const head = await provider.getBlockNumber();
  let earliest = head;
  for (const addr of addresses) {
    let lo = 0;
    let h = head;
    while (lo < h) {
      const mid = Math.floor((lo + h) / 2);
      if ((await provider.getCode(addr, mid)) === "0x") lo = mid + 1;
      else h = mid;
    }
    earliest = Math.min(earliest, lo);
  }
  return earliest;
}

async function fundAccounts(connection: NetworkConnection<"l1">, d: Deployment, accounts: readonly string[], log: (l: string) => void): Promise<void> {
  const [minter] = await connection.ethers.getSigners();
  if (!minter) throw new Error("no signer available to fund accounts");
  const total = accounts.length * CURRENCIES.length;
  log(`funding ${accounts.length} accounts with ${DEV_FUNDING / 10n ** 6n} of each currency (${total} mints)…`);
  let nonce = await minter.getNonce("pending");
  const pending = [];
  for (const code of CURRENCIES) {
    const token = await connection.ethers.getContractAt("StableToken", d.contracts.tokens[code], minter);
    for (const to of accounts) {
      pending.push(await token.mint(to, DEV_FUNDING, { nonce: nonce++ }));
    }
  }
  for (const tx of pending) await tx.wait();
  log(`funded ${total}/${total}`);
}
