import { OrioleError } from "../../sdk/errors.ts";
import { createKeystore, keystoreExists, SCRYPT_DEFAULT_N, scryptNFromEnv, writeKeystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { readNewPin, readPrivateKey } from "../secrets.ts";

/**
 * `oriole wallet import [--force]`: stores an existing secp256k1 key (from
 * ORIOLE_PRIVATE_KEY or typed without echo, never from argv) under a PIN.
 */
export async function walletImport(ctx: CliContext, opts: { force: boolean }): Promise<CommandResult> {
  const file = ctx.keystorePath;
  if (!opts.force && (await keystoreExists(file))) throw new OrioleError("wallet_exists", `a wallet already exists at ${file}`, { file });
  const n = scryptNFromEnv(ctx.env);
  if (n !== undefined && n < SCRYPT_DEFAULT_N) ctx.progress("warn.weakScrypt", { n, default: SCRYPT_DEFAULT_N });
  const privateKey = await readPrivateKey(ctx);
  try {
    const pin = await readNewPin(ctx);
    const keystore = await createKeystore({ privateKey, pin, n });
    await writeKeystore({ file, keystore, force: opts.force });
    return {
      json: { address: keystore.address, keystore: file },
      text: ctx.t("wallet.imported", { address: keystore.address, file }),
    };
  } finally {
    privateKey.fill(0);
  }
}
