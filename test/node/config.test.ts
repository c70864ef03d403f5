import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { DEFAULTS, loadDeployment, parseConfig, configWith, type NodeConfig } from "../../node/src/config.ts";
import { createLogger } from "../../node/src/log.ts";
import { redactUrl } from "../../client/sdk/jsonRpc.ts";

function config(argv: string[], env: NodeJS.ProcessEnv = {}): NodeConfig {
  const parsed = parseConfig(argv, env);
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.config;
}

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): { code: string; message: string } {
  try {
    parseConfig(argv, env);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected an error");
}

describe("node: config", function () {
  it("has the documented defaults", function () {
    expect(config([])).to.deep.equal({
      rpcUrl: "http://127.0.0.1:8545",
      rpcFallbackUrl: undefined,
      confirmations: 1,
      reorgDepth: 64,
      deploymentFile: undefined,
      dataDir: ".oriole/node-data",
      port: 8787,
      host: "127.0.0.1",
      pollMs: 100,
      rpcWs: "auto",
      maxBlockRange: 2000,
      reindexOnReset: false,
      allowPrivateWebhooks: false,
      logLevel: "info",
      relayerKey: undefined,
      relayerFees: { USD: 10_000n, CNY: 10_000n, EUR: 10_000n, HKD: 10_000n },
      relayerBatchSize: 50,
      relayerResendMs: 30_000,
      adminToken: undefined,
      corsOrigins: "*",
      rateLimitPerKey: 100,
      rateLimitPerIp: 50,
    });
  });

  it("reads environment variables, and flags win over them", function () {
    const env = {
      ORIOLE_RPC_URL: "http://10.0.0.1:8545",
      ORIOLE_DEPLOYMENT: "d.json",
      ORIOLE_DATA_DIR: "/tmp/x",
      ORIOLE_PORT: "9000",
      ORIOLE_HOST: "0.0.0.0",
      ORIOLE_POLL_MS: "250",
      ORIOLE_REINDEX_ON_RESET: "1",
      ORIOLE_MAX_BLOCK_RANGE: "500",
      ORIOLE_LOG_LEVEL: "warn",
      ORIOLE_RPC_FALLBACK_URL: "http://10.0.0.2:8545",
      ORIOLE_CONFIRMATIONS: "12",
      ORIOLE_REORG_DEPTH: "100",
      ORIOLE_ALLOW_PRIVATE_WEBHOOKS: "yes",
      ORIOLE_RPC_WS: "wss://10.0.0.1:8546/ws",
    };
    expect(config([], env)).to.deep.equal({
      rpcUrl: "http://10.0.0.1:8545",
      rpcFallbackUrl: "http://10.0.0.2:8545",
      confirmations: 12,
      reorgDepth: 100,
      deploymentFile: "d.json",
      dataDir: "/tmp/x",
      port: 9000,
      host: "0.0.0.0",
      pollMs: 250,
      rpcWs: "wss://10.0.0.1:8546/ws",
      reindexOnReset: true,
      allowPrivateWebhooks: true,
      maxBlockRange: 500,
      logLevel: "warn",
      relayerKey: undefined,
      relayerFees: { USD: 10_000n, CNY: 10_000n, EUR: 10_000n, HKD: 10_000n },
      relayerBatchSize: 50,
      relayerResendMs: 30_000,
      adminToken: undefined,
      corsOrigins: "*",
      rateLimitPerKey: 100,
      rateLimitPerIp: 50,
    });
    const c = config(["--rpc", "https://rpc.example/v3/KEY", "--port", "0", "--data", "d2", "--poll-ms", "20", "--deployment", "x.json", "--rpc-ws", "off"], env);
    expect(c).to.include({ rpcUrl: "https://rpc.example/v3/KEY", port: 0, dataDir: "d2", pollMs: 20, deploymentFile: "x.json", rpcWs: "off" });
    expect(config(["--reindex-on-reset"]).reindexOnReset).to.equal(true);
    expect(config([], { ORIOLE_REINDEX_ON_RESET: "0" }).reindexOnReset).to.equal(false);
    expect(config([], { ORIOLE_REINDEX_ON_RESET: "" }).reindexOnReset).to.equal(false);
    expect(config(["--allow-private-webhooks"]).allowPrivateWebhooks).to.equal(true);
    expect(config([], { ORIOLE_ALLOW_PRIVATE_WEBHOOKS: "0" }).allowPrivateWebhooks).to.equal(false);
    expect(config([], { ORIOLE_PORT: "" }).port).to.equal(DEFAULTS.port);
    expect(config(["--cors-origins", "https://a.example, http://localhost:5173"]).corsOrigins).to.deep.equal(["https://a.example", "http://localhost:5173"]);
    expect(config(["--rate-limit-key", "5", "--rate-limit-ip", "0"])).to.include({ rateLimitPerKey: 5, rateLimitPerIp: 0 });
    expect(config([], { ORIOLE_ADMIN_TOKEN: " 0123456789abcdef-token " }).adminToken).to.equal("0123456789abcdef-token");
  });

  it("rejects bad values and unknown flags with invalid_config naming the option", function () {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["--port", "70000"], {}, /--port/],
      [["--port", "80a"], {}, /--port/],
      [["--poll-ms", "1.5"], {}, /--poll-ms/],
      [["--poll-ms", "0"], {}, /--poll-ms/],
      [["--rpc", "ftp://x"], {}, /--rpc/],
      [["--rpc", "not a url"], {}, /--rpc/],
      [[], { ORIOLE_PORT: "-1" }, /ORIOLE_PORT/],
      [[], { ORIOLE_REINDEX_ON_RESET: "maybe" }, /REINDEX/],
      [[], { ORIOLE_ALLOW_PRIVATE_WEBHOOKS: "sure" }, /ALLOW_PRIVATE_WEBHOOKS/],
      [[], { ORIOLE_LOG_LEVEL: "loud" }, /LOG_LEVEL/],
      [["--max-block-range", "0"], {}, /--max-block-range/],
      [["--confirmations", "0"], {}, /--confirmations/],
      [["--reorg-depth", "x"], {}, /--reorg-depth/],
      [["--rpc-fallback", "ftp://x"], {}, /--rpc-fallback/],
      [["--nope"], {}, /nope/],
      [["positional"], {}, /positional/],
      [["--port"], {}, /port/],
      [["--cors-origins", "https://a.example/path"], {}, /--cors-origins/],
      [["--rate-limit-ip", "-3"], {}, /--rate-limit-ip/],
      [[], { ORIOLE_ADMIN_TOKEN: "short" }, /ORIOLE_ADMIN_TOKEN/],
    ];
    for (const [argv, env, re] of cases) {
      const e = configError(argv, env);
      expect(e.code, argv.join(" ")).to.equal("invalid_config");
      expect(e.message).to.match(re);
    }
  });

  it("reads the relayer key (env or key file, never echoed), fees, batch size and resend delay", async function () {
    const key = `0x${"ab".repeat(32)}`;
    expect(config([], { ORIOLE_RELAYER_KEY: key }).relayerKey).to.equal(key);
    expect(config([], { ORIOLE_RELAYER_KEY: "ab".repeat(32) }).relayerKey).to.equal(key);
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-key-"));
    try {
      const file = path.join(dir, "key");
      await writeFile(file, `${key}\n`);
      expect(config(["--relayer-key-file", file], { ORIOLE_RELAYER_KEY: `0x${"cd".repeat(32)}` }).relayerKey).to.equal(key);
      expect(configError(["--relayer-key-file", path.join(dir, "missing")]).code).to.equal("invalid_config");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const bad = configError([], { ORIOLE_RELAYER_KEY: `0x${"zz".repeat(32)}` });
    expect(bad.code).to.equal("invalid_config");
    expect(bad.message).to.match(/ORIOLE_RELAYER_KEY/).and.not.match(/zz/);
    expect(config([], { ORIOLE_RELAYER_FEE: "5000" }).relayerFees).to.deep.equal({ USD: 5000n, CNY: 5000n, EUR: 5000n, HKD: 5000n });
    expect(config(["--relayer-fee", "USD=1,EUR=0"]).relayerFees).to.deep.equal({ USD: 1n, CNY: 10_000n, EUR: 0n, HKD: 10_000n });
    for (const fee of ["1.5", "XYZ=1", "USD=", "USD=-1", "USD=1=2", ""]) {
      if (fee === "") continue;
      expect(configError(["--relayer-fee", fee]).message, fee).to.match(/--relayer-fee/);
    }
    expect(config(["--relayer-batch-size", "7", "--relayer-resend-ms", "2000"])).to.include({ relayerBatchSize: 7, relayerResendMs: 2000 });
    expect(configError(["--relayer-batch-size", "0"]).message).to.match(/--relayer-batch-size/);
  });

  it("--help asks for the usage", function () {
    expect(parseConfig(["--help"], {})).to.deep.equal({ help: true });
  });

  it("loads deployments/<chainId>.json, or fails with deployment_not_found", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-config-"));
    try {
      const file = path.join(dir, "d.json");
      const deployment = {
        chainId: 31337,
        genesisHash: `0x${"11".repeat(32)}`,
        deploymentId: "x",
        deployedAt: { blockNumber: 1, blockHash: `0x${"22".repeat(32)}` },
        contracts: {
          tokens: {
            USD: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            CNY: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            EUR: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
            HKD: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
          },
          accounts: {
            implementation: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
            factory: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
            relay: "0x0165878A594cA255338ADfB4232e874D8aA4Bf6e",
          },
          escrow: "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
          offlineVault: "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6",
        },
      };
      await writeFile(file, JSON.stringify(deployment));
      const base = configWith({ rpcUrl: "http://127.0.0.1:1", dataDir: dir });
      expect(await loadDeployment({ ...base, deploymentFile: file }, 31337)).to.deep.equal(deployment);
      const missing = await loadDeployment({ ...base, deploymentFile: path.join(dir, "none.json") }, 31337).catch((e: unknown) => e);
      expect(missing).to.have.property("code", "deployment_not_found");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("logs one JSON object per line and never prints an RPC URL's key", function () {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), level: "info" }).child({ component: "t" });
    log.debug("hidden");
    log.info("hello", { n: 1n, error: Object.assign(new Error("boom"), { code: "x" }) });
    expect(lines).to.have.length(1);
    expect(lines[0]!.endsWith("\n")).to.equal(true);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed).to.include({ level: "info", msg: "hello", component: "t", n: "1" });
    expect(parsed.error).to.deep.equal({ name: "Error", message: "boom", code: "x" });
    expect(redactUrl("https://mainnet.infura.io/v3/SECRETKEY")).to.equal("https://mainnet.infura.io/…");
    expect(redactUrl("https://user:pw@host:8545")).to.equal("https://host:8545/…");
    expect(redactUrl("http://127.0.0.1:8545")).to.equal("http://127.0.0.1:8545");
  });
});
