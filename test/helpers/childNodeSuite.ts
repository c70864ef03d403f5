import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDevnet, type Devnet } from "./devnet.ts";
import { spawnNode, type NodeProcess } from "./nodeProcess.ts";

/** A describe() whose node runs as a child process on one data dir, restarted at will (the kill -9 suites). */
export interface ChildNodeSuite {
  readonly devnet: Devnet;
  /** The node's data dir, kept across restarts. */
  readonly dir: string;
  /**
   * Spawns a node on the devnet and `dir` (`--port 0 --poll-ms 20` and the suite's args, then `more.args`),
   * SIGKILLing the one started before if it still runs.
   */
  start(more?: { args?: readonly string[]; env?: NodeJS.ProcessEnv }): Promise<NodeProcess>;
}

/**
 * Registers the suite's hooks: before, a devnet (funding `fund`) and a fresh data dir
 * (`prefix` names it); after, the last node SIGKILLed, the devnet stopped and the dir removed.
 * Call it inside describe(); read `devnet` and `dir` from inside hooks and tests.
 */
export function childNodeSuite(opts: { prefix: string; fund?: readonly string[]; args?: readonly string[]; env?: NodeJS.ProcessEnv }): ChildNodeSuite {
  let devnet: Devnet | undefined;
  let dir: string | undefined;
  let child: NodeProcess | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`childNodeSuite: ${what} is read before the suite's before hook ran`);
    return v;
  };

  before(async function () {
    devnet = await startDevnet(opts.fund ? { fund: opts.fund } : {});
    dir = await mkdtemp(path.join(os.tmpdir(), opts.prefix));
  });

  after(async function () {
    await child?.kill("SIGKILL");
    await devnet?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  return {
    get devnet() {
      return ready(devnet, "devnet");
    },
    get dir() {
      return ready(dir, "dir");
    },
    async start(more = {}) {
      const d = ready(devnet, "devnet");
      await child?.kill("SIGKILL");
      child = await spawnNode({
        args: ["--rpc", d.chain.rpcUrl, "--deployment", d.deploymentFile, "--data", ready(dir, "dir"), "--port", "0", "--poll-ms", "20", ...(opts.args ?? []), ...(more.args ?? [])],
        env: { ...opts.env, ...more.env },
      });
      return child;
    },
  };
}
