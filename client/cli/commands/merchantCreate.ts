import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { requestJson } from "../../sdk/apiClient.ts";
import { OrioleError } from "../../sdk/errors.ts";
import type { CliContext, CommandResult } from "../context.ts";
import { parseAddressArg } from "../validate.ts";

const createdSchema = z.object({
  merchant: z.object({ id: z.string(), name: z.string(), payout: z.string(), createdAt: z.string() }),
  apiKey: z.string().regex(/^ok_live_[0-9a-f]{32}$/),
});

/** Where `npm start` keeps the node's data (scripts/start.ts: <ORIOLE_HOME or .oriole>/node-data). */
export function defaultAdminTokenFile(env: Readonly<Record<string, string | undefined>>): string {
  const home = env.ORIOLE_HOME !== undefined && env.ORIOLE_HOME !== "" ? env.ORIOLE_HOME : ".oriole";
  return path.resolve(home, "node-data", "admin-token");
}

/** The admin token: ORIOLE_ADMIN_TOKEN, else the file (never from the command line: `ps` shows arguments). */
async function adminToken(ctx: CliContext, file: string | undefined): Promise<string> {
  const fromEnv = ctx.env.ORIOLE_ADMIN_TOKEN?.trim();
  if (file === undefined && fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const f = path.resolve(file ?? defaultAdminTokenFile(ctx.env));
  let token: string;
  try {
    token = (await readFile(f, "utf8")).trim();
  } catch (e) {
    throw new OrioleError("admin_token_missing", `no admin token: set ORIOLE_ADMIN_TOKEN or pass --admin-token-file (none readable at ${f})`, { file: f }, { cause: e });
  }
  if (token === "") throw new OrioleError("admin_token_missing", `the admin token file ${f} is empty`, { file: f });
  return token;
}

/** `oriole merchant create --name N --payout ADDRESS`: creates a merchant on the node; its API key is printed once. */
export async function merchantCreate(ctx: CliContext, args: { name: string; payout: string; adminTokenFile: string | undefined }): Promise<CommandResult> {
  const payout = parseAddressArg(args.payout);
  const token = await adminToken(ctx, args.adminTokenFile);
  const { merchant, apiKey } = await requestJson(ctx.apiUrl, "/v1/merchants", createdSchema, { method: "POST", body: { name: args.name, payout }, bearer: token });
  return {
    json: { merchant, apiKey },
    text: ctx.t("merchant.created", { id: merchant.id, name: merchant.name, payout: merchant.payout, apiKey }),
  };
}
