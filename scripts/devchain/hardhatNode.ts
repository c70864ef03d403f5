import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const HARDHAT_BIN = path.join(ROOT, "node_modules", ".bin", "hardhat");

export interface LocalChain {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  /** Stops the chain and waits for the process to exit. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => {
        resolve(port);
      });
    });
  });
}


/** Polls until the RPC answers eth_chainId, or throws after `timeoutMs`. */
export async function waitForRpc(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await jsonRpcRequest(url, "eth_chainId", [], 2_000);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`no JSON-RPC answer at ${url} after ${timeoutMs} ms`, { cause: e });
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

/**
 * Starts `hardhat node` bound to 127.0.0.1 (without --hostname it binds
 * 0.0.0.0 in a container) and resolves once it answers JSON-RPC.
 */
export async function startHardhatNode(opts: { port?: number; host?: string; inheritOutput?: boolean } = {}): Promise<LocalChain> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? (await freePort());
  const child = spawn(HARDHAT_BIN, ["node", "--hostname", host, "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", opts.inheritOutput ? "inherit" : "pipe"],
    env: process.env,
  });
  if (opts.inheritOutput) child.stdout?.pipe(process.stdout);
  return superviseChain(child, "hardhat node", host, port);
}

/**
 * Waits until a spawned local chain says it listens on `host:port` (on its
 * stdout, which must be piped) and answers JSON-RPC, failing with its last
 * stderr if it exits first; returns its handle. `stop` sends SIGTERM, then
 * SIGKILL after 5 s. Shared by hardhat node and anvil.
 *
 * Why the stdout line: another process may take the port between freePort()
 * and the child's bind (two test runs at once). The RPC would then answer,
 * but it would be the other run's chain, and both runs would share one.
 */
export async function superviseChain(child: ChildProcess, name: string, host: string, port: number): Promise<LocalChain> {
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const rpcUrl = `http://${host}:${port}`;
  const early = exited.then(() => {
    throw new Error(`${name} exited before answering on ${rpcUrl}: ${stderr.trim()}`);
  });
  const listening = new Promise<void>((resolve) => {
    let out = "";
    const onData = (b: Buffer): void => {
      out = (out + b.toString()).slice(-4000);
      if (out.includes(`${host}:${port}`)) {
        child.stdout?.off("data", onData);
        child.stdout?.resume(); // keep draining what follows (hardhat logs every request)
        resolve();
      }
    };
    child.stdout?.on("data", onData);
  });
  await Promise.race([listening.then(() => waitForRpc(rpcUrl, 60_000)), early]);
  early.catch(() => {});
  return {
    rpcUrl,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
