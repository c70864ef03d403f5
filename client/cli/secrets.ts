import { OrioleError } from "../sdk/errors.ts";
import { assertPinStrength, parsePrivateKey, PIN_MIN_LENGTH } from "../sdk/keystore.ts";
import type { CliContext } from "./context.ts";

/**
 * Secrets come from the environment (ORIOLE_PIN, ORIOLE_PRIVATE_KEY) or from
 * a prompt that does not echo; never from the command line.
 */

/** The PIN that unlocks an existing keystore. */
export async function readPin(ctx: CliContext): Promise<string> {
  const fromEnv = ctx.env.ORIOLE_PIN;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const pin = await ctx.prompter.secret(ctx.t("prompt.pin"));
  if (pin === null || pin === "") throw new OrioleError("pin_required", "no PIN given");
  return pin;
}

/** A new PIN: from ORIOLE_PIN, or typed twice. At least PIN_MIN_LENGTH characters. */
export async function readNewPin(ctx: CliContext): Promise<string> {
  const fromEnv = ctx.env.ORIOLE_PIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    assertPinStrength(fromEnv);
    return fromEnv;
  }
  const first = await ctx.prompter.secret(ctx.t("prompt.newPin", { min: PIN_MIN_LENGTH }));
  if (first === null || first === "") throw new OrioleError("pin_required", "no PIN given");
  assertPinStrength(first);
  const second = await ctx.prompter.secret(ctx.t("prompt.repeatPin"));
  if (second === null) throw new OrioleError("pin_required", "no PIN given");
  if (first.normalize("NFKC") !== second.normalize("NFKC")) throw new OrioleError("pin_mismatch", "the two PINs differ");
  return first;
}

/** A private key to import: from ORIOLE_PRIVATE_KEY or typed without echo. */
export async function readPrivateKey(ctx: CliContext): Promise<Uint8Array> {
  const fromEnv = ctx.env.ORIOLE_PRIVATE_KEY;
  if (fromEnv !== undefined && fromEnv !== "") return parsePrivateKey(fromEnv);
  const typed = await ctx.prompter.secret(ctx.t("prompt.privateKey"));
  if (typed === null || typed.trim() === "") throw new OrioleError("key_required", "no private key given");
  return parsePrivateKey(typed);
}
