import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { BASE_UNITS_RE } from "../../sdk/amount.ts";
import { requestJson } from "../../sdk/apiClient.ts";
import { CURRENCIES, type Currency } from "../../sdk/currencies.ts";
import type { WalletNetwork } from "./payment.ts";

const address = z
  .string()
  .refine((s) => isAddress(s), "not an address")
  .transform((s) => getAddress(s));
const baseUnits = z
  .string()
  .regex(BASE_UNITS_RE, "not a base-unit amount")
  .transform((s) => BigInt(s));

/** The parts of GET /v1/network the wallet needs: tokens, the passkey account factory, the relayer's fees. */
const walletNetworkSchema = z.object({
  chainId: z.number().int().positive(),
  contracts: z.object({
    tokens: z.object(Object.fromEntries(CURRENCIES.map((c) => [c, address])) as Record<Currency, typeof address>),
    accounts: z.object({ implementation: address, factory: address }),
  }),
  relayer: z.object({ address, fees: z.partialRecord(z.enum(CURRENCIES), baseUnits) }).nullable(),
});

/** GET /v1/network, reduced to what the wallet needs; a node without passkey accounts cannot host this wallet. */
export async function loadNetwork(baseUrl: string): Promise<WalletNetwork> {
  const info = await requestJson(baseUrl, "/v1/network", walletNetworkSchema);
  return {
    chainId: info.chainId,
    tokens: info.contracts.tokens,
    factory: info.contracts.accounts.factory,
    implementation: info.contracts.accounts.implementation,
    relayerFees: info.relayer ? info.relayer.fees : null,
    relayerAddress: info.relayer ? info.relayer.address : null,
  };
}
