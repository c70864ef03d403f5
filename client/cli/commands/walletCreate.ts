import { OrioleError } from "../../sdk/errors.ts";
import { createKeystore, generatePrivateKey, keystoreExists, SCRYPT_DEFAULT_N, scryptNFromEnv, writeKeystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { readNewPin } from "../secrets.ts";

/** `oriole wallet create [--force]`: a new secp256k1 key, encrypted with a PIN. */
export async function walletCreate(ctx: CliContext, opts: { force: boolean }): Promise<CommandResult> {
  const file = ctx.keystorePath;
  // Refuse before asking for anything.
  if (!opts.force && (await keystoreExists(file))) throw new OrioleError("wallet_exists", `a wallet already exists at ${file}`, { file });
  const n = scryptNFromEnv(ctx.env);
  if (n !== undefined && n < SCRYPT_DEFAULT_N) ctx.progress("warn.weakScrypt", { n, default: SCRYPT_DEFAULT_N });
  const pin = await readNewPin(ctx);
  const privateKey = generatePrivateKey();
  try {
    const keystore = await createKeystore({ privateKey, pin, n });
    await writeKeystore({ file, keystore, force: opts.force });
    return {
      json: { address: keystore.address, keystore: file },
      text: ctx.t("wallet.created", { address: keystore.address, file }),
    };
  } finally {
    privateKey.fill(0);
  }
}
