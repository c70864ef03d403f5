import { encodeBytes32String } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Metrics } from "./results.ts";
import { deployStableToken, allRoles } from "../deploy/stableToken.ts";
import type { EscrowTerms } from "../../client/sdk/escrow/actions.ts";

/**
 * Gas of OrioleEscrow's two everyday steps (receipt gasUsed), in steady state:
 * the escrow already holds funds of the token, the buyer approved it once
 * (an unlimited allowance, not spent down) and funded an escrow before, and
 * the merchant already holds a balance.
 * - `gas.escrow.fund`: the buyer's `fund` of a new order (three new storage slots
 *   and the transferFrom);
 * - `gas.escrow.release`: the buyer's `release` of a shipped escrow to the merchant.
 */
export async function benchEscrowGas(connection: NetworkConnection<"l1">): Promise<Metrics> {
  const { ethers } = connection;
  const [admin, buyer, merchant] = await ethers.getSigners();
  if (!admin || !buyer || !merchant) throw new Error("need 3 signers");
  const stable = await deployStableToken(ethers, { name: "Oriole US Dollar", symbol: "oUSD", currency: "USD", roles: allRoles(admin.address) });
  const token = await stable.getAddress();
  const escrow = await ethers.deployContract("OrioleEscrow", [admin.address, [admin.address], [token]]);
  const escrowAddress = await escrow.getAddress();
  for (const who of [buyer, merchant]) await (await stable.mint(who.address, 1_000_000_000n)).wait();
  await (await stable.connect(buyer).approve(escrowAddress, ethers.MaxUint256)).wait();

  async function gasOf(sent: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
    const receipt = await (await sent).wait();
    if (!receipt) throw new Error("no receipt");
    return Number(receipt.gasUsed);
  }
  const terms = (order: string): EscrowTerms => ({
    token,
    merchant: merchant.address,
    amount: 25_000_000n,
    orderId: encodeBytes32String(order),
    releaseTimeout: 14 * 86_400,
    disputeWindow: 7 * 86_400,
  });
  const asBuyer = escrow.connect(buyer);
  const idOf = (order: string): Promise<string> => escrow.escrowId(buyer.address, merchant.address, token, encodeBytes32String(order));

  // warm-up: a first escrow stays open, so the escrow's balance is never zero again
  await (await asBuyer.fund(terms("warm-up"))).wait();
  const fund = await gasOf(asBuyer.fund(terms("order-1")));
  const id = await idOf("order-1");
  await (await escrow.connect(merchant).markShipped(id)).wait();
  const release = await gasOf(asBuyer.release(id));
  if ((await escrow.getEscrow(id)).status !== 4n) throw new Error("the measured release did not release");
  return { "gas.escrow.fund": fund, "gas.escrow.release": release };
}
