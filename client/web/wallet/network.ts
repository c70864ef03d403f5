import { passkeyNetwork, type PasskeyNetwork } from "../../sdk/account/passkeyPayment.ts";
import { createApiClient } from "../../sdk/apiClient.ts";

/** GET /v1/network, reduced to what the wallet needs; a node without passkey accounts cannot host this wallet (`no_accounts`). */
export async function loadNetwork(baseUrl: string): Promise<PasskeyNetwork> {
  return passkeyNetwork(await createApiClient({ url: baseUrl }).getNetwork());
}
