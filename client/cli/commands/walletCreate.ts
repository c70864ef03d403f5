import { OrioleError } from "../../sdk/errors.ts";
import { createKeystore, generatePrivateKey, keystoreExists, SCRYPT_DEFAULT_N, scryptNFromEnv, writeKeystore, type Keystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { readNewPin } from "../secrets.ts";
import { walletAddressOf } from "../wallet.ts";

/**
 * `oriole wallet create [--passkey] [--force]`: a new key, encrypted with a PIN.
 * Without --passkey, a secp256k1 key (an EOA). With --passkey, a software
 * P-256 device key of a passkey smart account: the same account type as the
 * web wallet's, the PIN standing in for the phone's biometric check; the
 * account's address is known at once and it is deployed by its first payment.
 */
export async function walletCreate(ctx: CliContext, opts: { force: boolean; passkey: boolean }): Promise<CommandResult> {
  const file = ctx.keystorePath;
  // Refuse before asking for anything.
  if (!opts.force && (await keystoreExists(file))) throw new OrioleError("wallet_exists", `a wallet already exists at ${file}`, { file });
  const n = scryptNFromEnv(ctx.env);
  if (n !== undefined && n < SCRYPT_DEFAULT_N) ctx.progress("warn.weakScrypt", { n, default: SCRYPT_DEFAULT_N });
  const pin = await readNewPin(ctx);
  const keyType = opts.passkey ? "p256" : "secp256k1";
  const privateKey = generatePrivateKey(keyType);
  let keystore: Keystore;
  try {
    keystore = await createKeystore({ privateKey, pin, n, keyType });
    await writeKeystore({ file, keystore, force: opts.force });
  } finally {
    privateKey.fill(0);
  }
  if (keystore.keyType === "secp256k1") {
    return { json: { address: keystore.address, keyType, keystore: file }, text: ctx.t("wallet.created", { address: keystore.address, file }) };
  }
  // The wallet exists now; its address needs the node's factory, which may be unreachable (then `wallet address` tells it later).
  let address: string | null = null;
  try {
    address = await walletAddressOf(ctx, keystore);
  } catch (e) {
    if (!(e instanceof OrioleError)) throw e;
  }
  return {
    json: { address, keyType, publicKey: keystore.publicKey, accountSalt: keystore.accountSalt, keystore: file },
    text: address === null ? ctx.t("wallet.createdPasskeyOffline", { file }) : ctx.t("wallet.createdPasskey", { address, file }),
  };
}
