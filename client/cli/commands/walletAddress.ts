import { readKeystore } from "../../sdk/keystore.ts";
import type { CliContext, CommandResult } from "../context.ts";

/** `oriole wallet address`: the address is stored in clear, so no PIN is needed. */
export async function walletAddress(ctx: CliContext): Promise<CommandResult> {
  const keystore = await readKeystore(ctx.keystorePath);
  return { json: { address: keystore.address, keyType: keystore.keyType }, text: keystore.address };
}
