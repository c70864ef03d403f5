import { passkeyNetwork, type PasskeyNetwork } from "../../sdk/account/passkeyPayment.ts";
import { createApiClient } from "../../sdk/apiClient.ts";

/** What the wallet needs of the node's network: passkey payments, and the escrow (null on a node without one). */
export interface WalletNetwork extends PasskeyNetwork {
  escrow: string | null;
}

/** GET /v1/network, reduced to what the wallet needs; a node without passkey accounts cannot host this wallet (`no_accounts`). */
export async function loadNetwork(baseUrl: string): Promise<WalletNetwork> {
  const info = await createApiClient({ url: baseUrl }).getNetwork();
  return { ...passkeyNetwork(info), escrow: info.contracts.escrow ?? null };
}
