/**
 * `npm start`: the whole local Oriole network in one command.
 *
 *   1. a chain at 127.0.0.1:8545 (`hardhat node` as a child process), unless
 *      --rpc / ORIOLE_RPC_URL points at an existing chain (hardhat node, anvil…);
 *   2. the contracts deployed idempotently, deployments/<chainId>.json written,
 *      every account the chain unlocks funded with 1,000,000 of each currency;
 *   3. the settlement node on 127.0.0.1:8787, data under .oriole/ (ORIOLE_HOME).
 *
 * Ctrl-C stops every child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { nodeArgv } from "../node/src/runtime.ts";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import net from "node:net";
import hre from "hardhat";
import { startHardhatNode, waitForRpc, type LocalChain } from "./devchain/hardhatNode.ts";
import { ensureDeployment } from "./deploy/ensureDeployment.ts";
import { CURRENCIES } from "../client/sdk/currencies.ts";
import { jsonRpcRequest } from "../client/sdk/jsonRpc.ts";

/**
 * The relayer's key on a local dev chain: Hardhat's default account #19, a
 * well-known dev key (never a real one), unused by the tests. Used only when
 * the chain unlocks that account (hardhat node / anvil with the default
 * mnemonic) and ORIOLE_RELAYER_KEY is not set. Given to the node through its
 * environment, not its command line (which `ps` shows).
 */
const DEV_RELAYER = {
  address: "0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199",
  key: "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NODE_BIN = process.execPath;

const { values: args } = parseArgs({
  options: {
    rpc: { type: "string", default: process.env.ORIOLE_RPC_URL },
    "chain-port": { type: "string", default: process.env.ORIOLE_CHAIN_PORT ?? "8545" },
    port: { type: "string", default: process.env.ORIOLE_PORT ?? "8787" },
    home: { type: "string", default: process.env.ORIOLE_HOME ?? path.join(ROOT, ".oriole") },
    deployments: { type: "string", default: process.env.ORIOLE_DEPLOYMENTS_DIR ?? path.join(ROOT, "deployments") },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help) {
  console.log(`Usage: npm start [-- --rpc URL] [--chain-port 8545] [--port 8787] [--home .oriole]

  --rpc URL         use an existing chain (a running hardhat node, anvil, …) instead of starting one
                    (env ORIOLE_RPC_URL)
  --chain-port N    port of the hardhat node started when --rpc is absent (env ORIOLE_CHAIN_PORT)
  --port N          port of the settlement node's API and pages (env ORIOLE_PORT)
  --home DIR        folder for all local data; survives restarts (env ORIOLE_HOME)
  --deployments DIR where <chainId>.json is written (env ORIOLE_DEPLOYMENTS_DIR; default deployments/)`);
  process.exit(0);
}

const started = Date.now();
function step(line: string): void {
  const secs = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${secs}s] ${line}`);
}

const children: ChildProcess[] = [];
let chain: LocalChain | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  step("stopping…");
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) {
            resolve();
            return;
          }
          const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
          c.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
  if (chain) await chain.stop();
  step("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => {
      resolve(false);
    });
  });
}

async function main(): Promise<void> {
  const apiPort = Number(args.port);
  if (await portInUse(apiPort)) {
    throw new Error(`port ${apiPort} is already in use: stop whatever listens there or pass --port`);
  }

  let rpcUrl = args.rpc;
  if (rpcUrl) {
    step(`using the chain at ${rpcUrl}`);
    await waitForRpc(rpcUrl, 30_000);
  } else {
    const chainPort = Number(args["chain-port"]);
    if (await portInUse(chainPort)) {
      throw new Error(
        `port ${chainPort} is already in use. If a chain runs there, use it: npm start -- --rpc http://127.0.0.1:${chainPort}`,
      );
    }
    step(`starting hardhat node on 127.0.0.1:${chainPort}…`);
    chain = await startHardhatNode({ port: chainPort });
    rpcUrl = chain.rpcUrl;
    chain.process.once("exit", (code) => {
      if (!stopping) {
        step(`the chain exited unexpectedly (code ${code ?? "null"})`);
        void shutdown(1);
      }
    });
  }

  step("compiling contracts…");
  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });

  const connection = await hre.network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
  const accounts = (await jsonRpcRequest(rpcUrl, "eth_accounts")) as string[];
  const { deployment, file, reused } = await ensureDeployment({
    connection,
    deploymentsDir: args.deployments,
    fund: accounts,
    log: step,
  });
  await connection.close();
  if (reused) step("contracts already deployed on this chain");

  const ownKey = process.env.ORIOLE_RELAYER_KEY !== undefined && process.env.ORIOLE_RELAYER_KEY !== "";
  const devRelayer = !ownKey && accounts.some((a) => a.toLowerCase() === DEV_RELAYER.address.toLowerCase());
  const relayerLine = ownKey ? "key from ORIOLE_RELAYER_KEY" : devRelayer ? `${DEV_RELAYER.address} (Hardhat dev account #19)` : "off (set ORIOLE_RELAYER_KEY)";

  const dataDir = path.join(args.home, "node-data");
  step(`starting the settlement node (data in ${path.relative(ROOT, dataDir) || dataDir})…`);
  const nodeProc = spawn(
    NODE_BIN,
    nodeArgv([
      "--rpc", rpcUrl,
      "--deployment", file,
      "--data", dataDir,
      "--port", String(apiPort),
      "--host", "127.0.0.1",
      // A restarted hardhat node is a new chain with the same id: re-index it.
      "--reindex-on-reset",
      // Local development: a merchant's webhook receiver on localhost is the usual case.
      "--allow-private-webhooks",
    ]),
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], env: devRelayer ? { ...process.env, ORIOLE_RELAYER_KEY: DEV_RELAYER.key } : process.env },
  );
  children.push(nodeProc);
  nodeProc.once("exit", (code) => {
    if (!stopping) {
      step(`the settlement node exited (code ${code ?? "null"})`);
      void shutdown(code ?? 1);
    }
  });

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${apiUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the settlement node did not answer on ${apiUrl} within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const tokens = CURRENCIES.map((c) => `    ${c}  ${deployment.contracts.tokens[c]}`).join("\n");
  console.log(`
Oriole is running (chain ${deployment.chainId}).

  chain (JSON-RPC)   ${rpcUrl}
  node API           ${apiUrl}/v1/network
  web wallet         http://localhost:${apiPort}/wallet/  (passkeys need localhost or https)
  point of sale      http://localhost:${apiPort}/pos/  (its API key: npx oriole merchant create --name N --payout 0x…)
  OpenAPI            ${apiUrl}/openapi.json
  readiness          ${apiUrl}/readyz
  relayer            ${relayerLine}
  deployment         ${path.relative(process.cwd(), file)}
  tokens
${tokens}
  ${accounts.length} accounts funded with 1,000,000 of each currency${reused ? " (at first deployment)" : ""}

Try:  npx oriole --help
Press Ctrl-C to stop.
`);
}

main().catch((e: unknown) => {
  console.error(`oriole start failed: ${e instanceof Error ? e.message : String(e)}`);
  void shutdown(1);
});
