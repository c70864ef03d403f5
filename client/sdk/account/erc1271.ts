import type { BytesLike } from "ethers";
import { replaySafeHash } from "./intent.ts";
import type { AssertOptions, SoftwareDevice } from "./softwareDevice.ts";

/**
 * A passkey account's ERC-1271 signature of `digest` (any EIP-712 digest another
 * contract checks with `isValidSignature`): the device asserts over the account's
 * `replaySafeHash(digest)`, so the signature counts for this account and chain only.
 */
export function passkeySignature(device: SoftwareDevice, chainId: bigint | number, account: string, digest: BytesLike, opts?: AssertOptions): string {
  return device.sign(replaySafeHash(chainId, account, digest), opts);
}
