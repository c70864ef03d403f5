import type { ApiClient } from "../../sdk/apiClient.ts";
import { OrioleError } from "../../sdk/errors.ts";
import type { WalletNetwork } from "./payment.ts";

/** GET /v1/network, reduced to what the wallet needs; a node without passkey accounts cannot host this wallet. */
export async function loadNetwork(api: ApiClient): Promise<WalletNetwork> {
  const info = await api.getNetwork();
  if (!info.accounts) throw new OrioleError("no_accounts", "this node's deployment has no passkey account factory");
  return {
    chainId: info.chainId,
    tokens: info.contracts.tokens,
    factory: info.accounts.factory,
    implementation: info.accounts.implementation,
    relayerFees: info.relayer ? info.relayer.fees : null,
  };
}
