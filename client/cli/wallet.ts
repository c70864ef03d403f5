import { hexlify, Wallet, type JsonRpcProvider } from "ethers";
import { deviceSigner, type PasskeySign } from "../sdk/account/erc1271.ts";
import { type AccountKey, passkeyAccountAddress, passkeyNetwork, type PasskeyNetwork } from "../sdk/account/passkeyPayment.ts";
import { type AssertOptions, SoftwareDevice } from "../sdk/account/softwareDevice.ts";
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

/** The CLI's software device answers as this relying party (the account checks the challenge and flags, not the origin). */
export const CLI_ASSERT: AssertOptions = { rpId: "oriole-cli", origin: "oriole-cli://wallet" };

export interface PasskeyWallet {
  net: PasskeyNetwork;
  key: AccountKey;
  account: string;
}

/** A passkey keystore's account key: its device's public key and its salt (also the account's deployment {qx, qy, salt} a relayed call sends). */
export function passkeyAccountKey(keystore: P256Keystore): AccountKey {
  return { qx: keystore.publicKey.qx, qy: keystore.publicKey.qy, salt: BigInt(keystore.accountSalt) };
}

/** A passkey keystore placed on the node's network: its account key and address. */
export async function passkeyWallet(ctx: CliContext, keystore: P256Keystore): Promise<PasskeyWallet> {
  const net = passkeyNetwork(await (await ctx.api()).getNetwork());
  const key = passkeyAccountKey(keystore);
  return { net, key, account: passkeyAccountAddress(net, key) };
}

/**
 * Asks for the PIN and unlocks an EOA keystore into its wallet (connected to
 * no provider). The private key bytes are wiped as soon as the wallet holds
 * the key.
 */
export async function unlockEoaWallet(ctx: CliContext, keystore: Secp256k1Keystore): Promise<Wallet> {
  const privateKey = await unlockKeystore({ keystore, pin: await readPin(ctx) });
  try {
    return new Wallet(hexlify(privateKey));
  } finally {
    privateKey.fill(0);
  }
}

/**
 * Asks for the PIN, unlocks an EOA keystore and runs `use` with its wallet on
 * the chain ({@link unlockEoaWallet}). The provider is closed afterwards (its
 * timers would keep the CLI alive).
 */
export async function withEoaWallet<T>(ctx: CliContext, keystore: Secp256k1Keystore, chainId: number, use: (wallet: Wallet, provider: JsonRpcProvider) => Promise<T>): Promise<T> {
  const wallet = await unlockEoaWallet(ctx, keystore);
  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    return await use(wallet.connect(provider), provider);
  } finally {
    provider.destroy();
  }
}

/**
 * Asks for the PIN and unlocks a passkey keystore into its software device.
 * The private key is wiped as soon as the device holds it.
 */
export async function unlockPasskeyDevice(ctx: CliContext, keystore: P256Keystore): Promise<SoftwareDevice> {
  const privateKey = await unlockKeystore({ keystore, pin: await readPin(ctx) });
  try {
    return SoftwareDevice.fromPrivateKey(privateKey);
  } finally {
    privateKey.fill(0);
  }
}

/** {@link unlockPasskeyDevice} as a signer of challenges (ERC-1271, payment intents), answering as the CLI ({@link CLI_ASSERT}). */
export async function unlockPasskeySigner(ctx: CliContext, keystore: P256Keystore): Promise<PasskeySign> {
  return deviceSigner(await unlockPasskeyDevice(ctx, keystore), CLI_ASSERT);
}
