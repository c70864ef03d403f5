import os from "node:os";
import path from "node:path";
import type { ApiClient } from "../sdk/apiClient.ts";
import { t as translate, type Lang, type MessageId } from "../sdk/i18n.ts";
import { createPrompter, type PromptInput, type Prompter } from "./prompt.ts";

/** What the CLI touches of its process, so tests can run it in-process. */
export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  stdin: PromptInput;
  env: Readonly<Record<string, string | undefined>>;
}

export const DEFAULT_API_URL = "http://127.0.0.1:8787";
export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

export function defaultKeystorePath(env: Readonly<Record<string, string | undefined>>): string {
  return path.join(env.HOME ?? os.homedir(), ".oriole", "keystore.json");
}

/** Everything a command needs: resolved settings, messages, prompts, the API. */
export interface CliContext {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly lang: Lang;
  readonly json: boolean;
  readonly keystorePath: string;
  readonly apiUrl: string;
  readonly rpcUrl: string;
  readonly prompter: Prompter;
  t(id: MessageId, params?: Readonly<Record<string, string | number | bigint>>): string;
  /** A progress line for people (stderr; silent with --json). */
  progress(id: MessageId, params?: Readonly<Record<string, string | number | bigint>>): void;
  /** The node's API client (loaded on first use). */
  api(): Promise<ApiClient>;
}

export function createContext(settings: { io: CliIo; lang: Lang; json: boolean; keystorePath: string; apiUrl: string; rpcUrl: string }): CliContext {
  const { io, lang, json } = settings;
  let api: ApiClient | undefined;
  return {
    ...settings,
    env: io.env,
    prompter: createPrompter(io.stdin, io.stderr),
    t: (id, params) => translate(lang, id, params),
    progress(id, params) {
      if (!json) io.stderr.write(`${translate(lang, id, params)}\n`);
    },
    async api() {
      const { createApiClient } = await import("../sdk/apiClient.ts");
      api ??= createApiClient({ url: settings.apiUrl });
      return api;
    },
  };
}

/** What a command produced: a JSON value for --json, text for people. */
export interface CommandResult {
  json: unknown;
  text: string;
}
