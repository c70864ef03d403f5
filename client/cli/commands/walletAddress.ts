import { readKeystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { walletAddressOf } from "../wallet.ts";

/** `oriole wallet address`: what is needed is in clear, so no PIN is asked (a passkey wallet asks the node for its factory). */
export async function walletAddress(ctx: CliContext): Promise<CommandResult> {
  const keystore = await readKeystore(ctx.keystorePath);
  const address = await walletAddressOf(ctx, keystore);
  const json = keystore.keyType === "p256" ? { address, keyType: keystore.keyType, publicKey: keystore.publicKey, accountSalt: keystore.accountSalt } : { address, keyType: keystore.keyType };
  return { json, text: address };
}
