import { type AccountKey, passkeyAccountAddress, passkeyNetwork, type PasskeyNetwork } from "../sdk/account/passkeyPayment.ts";
import type { Keystore, P256Keystore } from "../sdk/keystore.ts";
import type { CliContext } from "./context.ts";

/**
 * The wallet's on-chain address. An EOA keystore holds it in clear; a passkey
 * wallet's account address follows from its device key, its salt and the
 * network's account factory, so it needs the node (no PIN either way).
 */
export async function walletAddressOf(ctx: CliContext, keystore: Keystore): Promise<string> {
  if (keystore.keyType === "secp256k1") return keystore.address;
  return (await passkeyWallet(ctx, keystore)).account;
}

export interface PasskeyWallet {
  net: PasskeyNetwork;
  key: AccountKey;
  account: string;
}

/** A passkey keystore placed on the node's network: its account key and address. */
export async function passkeyWallet(ctx: CliContext, keystore: P256Keystore): Promise<PasskeyWallet> {
  const net = passkeyNetwork(await (await ctx.api()).getNetwork());
  const key: AccountKey = { qx: keystore.publicKey.qx, qy: keystore.publicKey.qy, salt: BigInt(keystore.accountSalt) };
  return { net, key, account: passkeyAccountAddress(net, key) };
}
