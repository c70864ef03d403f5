import { hexlify, Wallet, type JsonRpcProvider } from "ethers";
import { type AccountKey, passkeyAccountAddress, passkeyNetwork, type PasskeyNetwork } from "../sdk/account/passkeyPayment.ts";
import { unlockKeystore, type Keystore, type P256Keystore, type Secp256k1Keystore } from "../sdk/keystore.ts";
import { paymentProvider } from "../sdk/payments.ts";
import type { CliContext } from "./context.ts";
import { readPin } from "./secrets.ts";

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

/**
 * Asks for the PIN, unlocks an EOA keystore and runs `use` with its wallet on
 * the chain. The private key is wiped as soon as the wallet holds it, and the
 * provider is closed afterwards (its timers would keep the CLI alive).
 */
export async function withEoaWallet<T>(ctx: CliContext, keystore: Secp256k1Keystore, chainId: number, use: (wallet: Wallet, provider: JsonRpcProvider) => Promise<T>): Promise<T> {
  const pin = await readPin(ctx);
  const privateKey = await unlockKeystore({ keystore, pin });
  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    const wallet = new Wallet(hexlify(privateKey), provider);
    privateKey.fill(0);
    return await use(wallet, provider);
  } finally {
    privateKey.fill(0);
    provider.destroy();
  }
}
