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

/**
 * Signs a 32-byte WebAuthn challenge with a device of the account and returns the passkey signature:
 * a browser's authenticator (web wallet) or a SoftwareDevice (CLI, tests; see {@link deviceSigner}).
 */
export type PasskeySign = (challenge: string) => Promise<string>;

/** A SoftwareDevice as a {@link PasskeySign}. */
export function deviceSigner(device: SoftwareDevice, opts?: AssertOptions): PasskeySign {
  return (challenge) => Promise.resolve(device.sign(challenge, opts));
}

/** {@link passkeySignature} with any {@link PasskeySign}: the account's ERC-1271 signature of `digest`. */
export function signForAccount(sign: PasskeySign, chainId: bigint | number, account: string, digest: BytesLike): Promise<string> {
  return sign(replaySafeHash(chainId, account, digest));
}
