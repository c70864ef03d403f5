import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { StableToken } from "../../types/ethers-contracts/index.ts";

/** The role accounts a StableToken is initialized with (see `StableToken.InitialRoles`). */
export interface StableTokenRoles {
  admin: string;
  masterMinter: string;
  pauser: string;
  complianceOfficer: string;
  rescuer: string;
  feeCollector: string;
  /** A first minter (the zero address for none) and its minting allowance. */
  minter: string;
  minterAllowance: bigint;
}

export interface DeployStableTokenOptions {
  name: string;
  symbol: string;
  currency: string;
  roles: StableTokenRoles;
}

/**
 * Deploys a StableToken implementation and an ERC-1967 proxy initialized with
 * `opts`, outside Ignition (tests and bench). Returns the token at the proxy.
 */
export async function deployStableToken(ethers: HardhatEthers, opts: DeployStableTokenOptions): Promise<StableToken> {
  const implementation = await ethers.deployContract("StableToken");
  const data = implementation.interface.encodeFunctionData("initialize", [opts.name, opts.symbol, opts.currency, opts.roles]);
  const proxy = await ethers.deployContract("StableTokenProxy", [await implementation.getAddress(), data]);
  return ethers.getContractAt("StableToken", await proxy.getAddress());
}

/** Every role given to `account`, which is also a minter with a practically unlimited allowance. */
export function allRoles(account: string): StableTokenRoles {
  return {
    admin: account,
    masterMinter: account,
    pauser: account,
    complianceOfficer: account,
    rescuer: account,
    feeCollector: account,
    minter: account,
    minterAllowance: 2n ** 200n,
  };
}
