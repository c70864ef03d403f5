import { spawn, type ChildProcess } from "node:child_process";
import { nodeArgv } from "../../node/src/runtime.ts";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE_BIN = path.join(ROOT, "node_modules", ".bin", "node");

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A JSON log line of the node. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface NodeProcess {
  process: ChildProcess;
  /** API base URL, known once the node logged "listening". */
  url: string;
  /** Resolves when the process exits. */
  exited: Promise<ExitResult>;
  /** Everything the process wrote, stdout then stderr interleaved as received. */
  output(): string;
  /** The stdout lines that parse as JSON objects. */
  logs(): LogLine[];
  /** Sends `signal` and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ExitResult>;
  /** GET a JSON endpoint of the node. */
  get(pathAndQuery: string): Promise<{ status: number; body: unknown }>;
  /** Polls /v1/network until indexedBlock >= block. */
  waitForIndexed(block: number, timeoutMs?: number): Promise<void>;
}

export interface SpawnNodeOptions {
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for the "listening" log line and /healthz (default true). */
  waitUntilServing?: boolean;
  timeoutMs?: number;
  /** Extra flags for the Node binary (e.g. --cpu-prof). */
  nodeFlags?: readonly string[];
}

/**
 * Runs the node as `node_modules/.bin/node node/src/main.ts ...args` (add
 * `--port 0` to get any free port: the URL is read from the "listening" log).
 */
export async function spawnNode(opts: SpawnNodeOptions): Promise<NodeProcess> {
  const child = spawn(NODE_BIN, nodeArgv(opts.args, opts.nodeFlags), {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdoutRest = "";
  const logs: LogLine[] = [];
  let onListening: ((url: string) => void) | undefined;
  child.stdout.on("data", (b: Buffer) => {
    const text = b.toString();
    output += text;
    stdoutRest += text;
    const lines = stdoutRest.split("\n");
    stdoutRest = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === "object" && parsed !== null) {
          const entry = parsed as LogLine;
          logs.push(entry);
          if (entry.msg === "listening" && typeof entry.url === "string") onListening?.(entry.url);
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stderr.on("data", (b: Buffer) => {
    output += b.toString();
  });
  const exited = new Promise<ExitResult>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
  });

  const node: NodeProcess = {
    process: child,
    url: "",
    exited,
    output: () => output,
    logs: () => [...logs],
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async get(pathAndQuery) {
      const res = await fetch(`${node.url}${pathAndQuery}`);
      return { status: res.status, body: (await res.json()) as unknown };
    },
    async waitForIndexed(block, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await node.get("/v1/network");
        const indexed = (body as { indexedBlock?: unknown }).indexedBlock;
        if (typeof indexed === "number" && indexed >= block) return;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`node exited before indexing block ${block}:\n${output.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`node did not index block ${block} within ${timeoutMs} ms (indexed: ${String(indexed)})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };

  if (opts.waitUntilServing === false) return node;

  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    node.url = await Promise.race([
      new Promise<string>((resolve) => (onListening = resolve)),
      exited.then(({ code, signal }) => {
        throw new Error(`node exited (code ${code}, signal ${signal}) before listening:\n${output.slice(-3000)}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`node not listening after ${timeoutMs} ms:\n${output.slice(-3000)}`));
        }, timeoutMs);
      }),
    ]);
  } catch (e) {
    await node.kill("SIGKILL");
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const health = await node.get("/healthz");
  if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
  return node;
}
