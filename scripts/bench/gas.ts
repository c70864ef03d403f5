import type { NetworkConnection } from "hardhat/types/network";
import type { Metrics } from "./results.ts";

/**
 * Gas of a plain ERC-20 transfer on StableToken and, as a baseline compiled
 * and deployed in the same run, on a plain OpenZeppelin ERC20.
 * `transfer`: the sender keeps a balance and the recipient already holds
 * some (the common case); `transferNewRecipient`: the recipient's first receipt.
 */
export async function benchGas(connection: NetworkConnection<"l1">): Promise<Metrics> {
  const { ethers } = connection;
  const [admin, alice, bob, carol] = await ethers.getSigners();
  if (!admin || !alice || !bob || !carol) throw new Error("need 4 signers");

  const stable = await ethers.deployContract("StableToken", ["Oriole US Dollar", "oUSD", "USD", admin.address]);
  await stable.grantRole(await stable.MINTER_ROLE(), admin.address);
  await stable.mint(alice.address, 1_000_000_000n);
  await stable.mint(bob.address, 1n);
  const oz = await ethers.deployContract("OZBaselineToken", [alice.address, 1_000_000_000n]);
  await oz.connect(alice).transfer(bob.address, 1n);

  async function gasOf(sent: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
    const receipt = await (await sent).wait();
    if (!receipt) throw new Error("no receipt");
    return Number(receipt.gasUsed);
  }

  return {
    "gas.token.transfer": await gasOf(stable.connect(alice).transfer(bob.address, 1_000_000n)),
    "gas.token.transferNewRecipient": await gasOf(stable.connect(alice).transfer(carol.address, 1_000_000n)),
    "gas.oz.transfer": await gasOf(oz.connect(alice).transfer(bob.address, 1_000_000n)),
    "gas.oz.transferNewRecipient": await gasOf(oz.connect(alice).transfer(carol.address, 1_000_000n)),
  };
}
