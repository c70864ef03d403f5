import { readFile } from "node:fs/promises";
import path from "node:path";
import { OrioleError } from "../../sdk/errors.ts";
import type { CliContext } from "../context.ts";

/**
 * The merchant API key of every merchant command (invoice, refund, report):
 * from --merchant-key-file, else ORIOLE_API_KEY. Never the key itself as an
 * argument: arguments end up in shell history and `ps`.
 */
export async function merchantKey(ctx: CliContext, file: string | undefined): Promise<string> {
  if (file === undefined) {
    const fromEnv = ctx.env.ORIOLE_API_KEY?.trim();
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    throw new OrioleError("api_key_missing", "no merchant API key: set ORIOLE_API_KEY or pass --merchant-key-file", { file: "-" });
  }
  const f = path.resolve(file);
  let key: string;
  try {
    key = (await readFile(f, "utf8")).trim();
  } catch (e) {
    throw new OrioleError("api_key_missing", `no merchant API key readable at ${f}`, { file: f }, { cause: e });
  }
  if (key === "") throw new OrioleError("api_key_missing", `the merchant key file ${f} is empty`, { file: f });
  return key;
}
