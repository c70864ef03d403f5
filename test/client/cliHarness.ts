import { spawn } from "node:child_process";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCli } from "../../client/cli/main.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const NODE_BIN = path.join(ROOT, "node_modules", ".bin", "node");
export const CLI_BIN = path.join(ROOT, "client", "cli", "bin.ts");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** ms from start to exit */
  ms: number;
}

/** The JSON the CLI printed on stdout (with --json), parsed. */
export function jsonOf(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.trim().split("\n");
  if (lines.length !== 1) throw new Error(`expected one JSON line on stdout, got: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(lines[0] ?? "") as Record<string, unknown>;
}

export function errorCodeOf(run: CliRun): string | undefined {
  const j = jsonOf(run);
  const err = j.error as { code?: string } | undefined;
  return err?.code;
}

/** An environment without the caller's ORIOLE_* and locale settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("ORIOLE_") && !k.startsWith("LC_") && k !== "LANG" && k !== "LANGUAGE") env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the CLI in this process (fast; for validation and wallet commands). `stdin` lines feed prompts. */
export async function runInProcess(argv: readonly string[], opts: { env?: Record<string, string | undefined>; stdin?: string } = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const start = performance.now();
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
    env: cleanEnv(opts.env),
  });
  return { code, stdout, stderr, ms: performance.now() - start };
}

/** Runs the real `oriole` executable as a child process, as a user would. */
export function runProcess(argv: readonly string[], opts: { env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(NODE_BIN, [CLI_BIN, ...argv], { cwd: ROOT, env: cleanEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`oriole ${argv.join(" ")} did not exit within ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - start });
    });
    child.stdin.end(opts.stdin ?? "");
  });
}
