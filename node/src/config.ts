import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { OrioleError } from "../../client/sdk/errors.ts";
import { deploymentPath, readDeployment, type Deployment } from "../../client/sdk/deployment.ts";
import { CURRENCIES, isCurrency, type Currency } from "../../client/sdk/currencies.ts";
import { isLogLevel, type LogLevel } from "./log.ts";

/** Everything the settlement node needs to run. */
export interface NodeConfig {
  /** JSON-RPC URL of the chain. May carry an API key: never log it as is. */
  rpcUrl: string;
  /** A second JSON-RPC URL of the same chain, used while the first fails. Never log it as is. */
  rpcFallbackUrl?: string | undefined;
  /** Deployment file; undefined means `deployments/<chainId>.json` of the RPC's chain. */
  deploymentFile?: string | undefined;
  /** A deployment given in-process (tests, bench); wins over `deploymentFile`. */
  deployment?: Deployment | undefined;
  /** LevelDB folder. */
  dataDir: string;
  /** API port; 0 picks a free one. */
  port: number;
  host: string;
  /** How often the follower asks for a new head once caught up. */
  pollMs: number;
  /**
   * New heads over WebSocket, waking the follower between polls: "auto" (the
   * RPC URL's host and port over ws(s); quietly off if it serves none), "off",
   * or a ws(s):// URL. May carry an API key: never log it as is.
   */
  rpcWs: string;
  /** Wipe and re-index when the data dir belongs to another chain (a restarted dev chain). */
  reindexOnReset: boolean;
  /** Let merchants' webhook URLs reach loopback, private and link-local addresses (tests, local development). */
  allowPrivateWebhooks: boolean;
  /** Largest block range of one eth_getLogs call (hosted RPCs often cap it). */
  maxBlockRange: number;
  /** Depth at which a payment shows as confirmed (1: once in a block). */
  confirmations: number;
  /** Deepest chain reorganisation rolled back; a deeper one stops the indexer (`reorg_too_deep`). */
  reorgDepth: number;
  logLevel: LogLevel;
  /**
   * Private key of the relayer's EOA (pays gas, receives the fees). Unset:
   * the relayer is off. A secret: never log it.
   */
  relayerKey?: string | undefined;
  /** The relayer's fee per currency, base units. */
  relayerFees: Record<Currency, bigint>;
  /** Most payments in one relayer transaction. */
  relayerBatchSize: number;
  /** A relayer transaction not mined after this long is replaced (same nonce, higher fees). */
  relayerResendMs: number;
  /**
   * The admin token (creates merchants). Unset: read from, or created in,
   * `<dataDir>/admin-token`. A secret: never log it.
   */
  adminToken?: string | undefined;
  /** Origins allowed by CORS: "*" (any; no credentials are ever used) or a list. */
  corsOrigins: "*" | string[];
  /** Requests per second per merchant key, bursts up to twice that; 0 = no limit. */
  rateLimitPerKey: number;
  /** Requests per second per client IP without a merchant key, bursts up to twice that; 0 = no limit. */
  rateLimitPerIp: number;
}

/** The relayer's default fee: 10000 base units = 0.01 of the currency. */
export const DEFAULT_RELAYER_FEE = 10_000n;

export const DEFAULTS = {
  rpcUrl: "http://127.0.0.1:8545",
  dataDir: ".oriole/node-data",
  port: 8787,
  host: "127.0.0.1",
  pollMs: 100,
  rpcWs: "auto",
  maxBlockRange: 2000,
  confirmations: 1,
  reorgDepth: 64,
  logLevel: "info",
  relayerBatchSize: 50,
  relayerResendMs: 30_000,
  rateLimitPerKey: 100,
  rateLimitPerIp: 50,
} as const;

const defaultFees = (): Record<Currency, bigint> => Object.fromEntries(CURRENCIES.map((c) => [c, DEFAULT_RELAYER_FEE])) as Record<Currency, bigint>;

export const USAGE = `Usage: node node/src/main.ts [options]

Options (environment variable in brackets):
  --rpc URL               chain JSON-RPC URL [ORIOLE_RPC_URL] (default ${DEFAULTS.rpcUrl})
  --rpc-fallback URL      a second JSON-RPC URL of the same chain, used while the first fails [ORIOLE_RPC_FALLBACK_URL]
  --deployment FILE       deployment file [ORIOLE_DEPLOYMENT] (default deployments/<chainId>.json)
  --data DIR              LevelDB folder [ORIOLE_DATA_DIR] (default ${DEFAULTS.dataDir})
  --port N                API port, 0 for any free one [ORIOLE_PORT] (default ${DEFAULTS.port})
  --host HOST             API host [ORIOLE_HOST] (default ${DEFAULTS.host})
  --poll-ms N             head polling interval in ms [ORIOLE_POLL_MS] (default ${DEFAULTS.pollMs})
  --rpc-ws URL|auto|off   WebSocket endpoint whose new-head notifications wake the follower between polls;
                          auto: the --rpc host and port over ws(s), off if it has none [ORIOLE_RPC_WS] (default ${DEFAULTS.rpcWs})
  --max-block-range N     largest eth_getLogs block range [ORIOLE_MAX_BLOCK_RANGE] (default ${DEFAULTS.maxBlockRange})
  --confirmations N       depth at which a payment is confirmed [ORIOLE_CONFIRMATIONS] (default ${DEFAULTS.confirmations})
  --reorg-depth N         deepest reorganisation rolled back; deeper stops the node [ORIOLE_REORG_DEPTH] (default ${DEFAULTS.reorgDepth})
  --reindex-on-reset      wipe and re-index when the data belongs to another chain [ORIOLE_REINDEX_ON_RESET=1]
  --allow-private-webhooks
                          let webhook URLs reach loopback, private and link-local addresses
                          (local development; off: only public http(s) targets) [ORIOLE_ALLOW_PRIVATE_WEBHOOKS=1]
  --log-level LEVEL       debug, info, warn or error [ORIOLE_LOG_LEVEL] (default ${DEFAULTS.logLevel})
  --relayer-key-file FILE file holding the relayer's private key (0x and 64 hex digits)
                          [ORIOLE_RELAYER_KEY: the key itself]; without one the relayer is off
  --relayer-fee FEES      relayer fee in base units: N for every currency, or USD=N,EUR=N,…
                          [ORIOLE_RELAYER_FEE] (default ${DEFAULT_RELAYER_FEE.toString()} = 0.01)
  --relayer-batch-size N  most payments per relayer transaction [ORIOLE_RELAYER_BATCH_SIZE] (default ${DEFAULTS.relayerBatchSize})
  --relayer-resend-ms N   replace a relayer transaction not mined after N ms [ORIOLE_RELAYER_RESEND_MS] (default ${DEFAULTS.relayerResendMs})
  --cors-origins LIST     origins allowed by CORS: * or a comma-separated list of URLs [ORIOLE_CORS_ORIGINS] (default *)
  --rate-limit-key N      requests per second per merchant API key, 0 = none [ORIOLE_RATE_LIMIT_KEY] (default ${DEFAULTS.rateLimitPerKey})
  --rate-limit-ip N       requests per second per IP without a key, 0 = none [ORIOLE_RATE_LIMIT_IP] (default ${DEFAULTS.rateLimitPerIp})
                          (the admin token: ORIOLE_ADMIN_TOKEN, else <data dir>/admin-token, created at first start)
  -h, --help              show this help
`;

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "must be an http(s) URL");

const flag = z.enum(["1", "true", "yes", "0", "false", "no", ""]).transform((s) => s === "1" || s === "true" || s === "yes");

const rawSchema = z.object({
  rpcUrl: httpUrl.default(DEFAULTS.rpcUrl),
  rpcFallbackUrl: httpUrl.optional(),
  deploymentFile: z.string().min(1).optional(),
  dataDir: z.string().min(1).default(DEFAULTS.dataDir),
  port: intString(0, 65535).default(DEFAULTS.port),
  host: z.string().min(1).default(DEFAULTS.host),
  pollMs: intString(10, 60_000).default(DEFAULTS.pollMs),
  rpcWs: z
    .string()
    .refine((s) => s === "auto" || s === "off" || (URL.canParse(s) && /^wss?:$/.test(new URL(s).protocol)), "must be auto, off or a ws(s):// URL")
    .default(DEFAULTS.rpcWs),
  maxBlockRange: intString(1, 1_000_000).default(DEFAULTS.maxBlockRange),
  confirmations: intString(1, 1_000).default(DEFAULTS.confirmations),
  reorgDepth: intString(1, 10_000).default(DEFAULTS.reorgDepth),
  reindexOnReset: z.union([z.boolean(), flag]).default(false),
  allowPrivateWebhooks: z.union([z.boolean(), flag]).default(false),
  logLevel: z.custom<LogLevel>((s) => typeof s === "string" && isLogLevel(s), "must be debug, info, warn or error").default(DEFAULTS.logLevel),
  // The message never echoes the value: it is a secret.
  relayerKey: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a private key: 0x and 64 hex digits")
    .transform((k) => (k.startsWith("0x") ? k : `0x${k}`))
    .optional(),
  relayerFees: z
    .string()
    .transform((s, ctx) => {
      const r = parseFees(s);
      if (typeof r === "string") {
        ctx.addIssue({ code: "custom", message: r });
        return z.NEVER;
      }
      return r;
    })
    .default(defaultFees),
  relayerBatchSize: intString(1, 500).default(DEFAULTS.relayerBatchSize),
  relayerResendMs: intString(100, 3_600_000).default(DEFAULTS.relayerResendMs),
  // The message never echoes the value: it is a secret.
  adminToken: z.string().regex(/^[\x21-\x7e]{16,256}$/, "must be 16 to 256 printable characters without spaces").optional(),
  corsOrigins: z
    .string()
    .transform((s, ctx): "*" | string[] => {
      if (s.trim() === "*") return "*";
      const origins = s.split(",").map((o) => o.trim());
      for (const o of origins) {
        if (!URL.canParse(o) || new URL(o).origin !== o) {
          ctx.addIssue({ code: "custom", message: `"${o}" is not an origin (e.g. https://wallet.example.com)` });
          return z.NEVER;
        }
      }
      return origins;
    })
    .default("*"),
  rateLimitPerKey: intString(0, 1_000_000).default(DEFAULTS.rateLimitPerKey),
  rateLimitPerIp: intString(0, 1_000_000).default(DEFAULTS.rateLimitPerIp),
});

/** "10000" (every currency) or "USD=10000,EUR=12000" (the others keep the default); an error sentence otherwise. */
function parseFees(text: string): Record<Currency, bigint> | string {
  const fees = defaultFees();
  const amount = /^(0|[1-9]\d{0,29})$/;
  if (amount.test(text)) return Object.fromEntries(CURRENCIES.map((c) => [c, BigInt(text)])) as Record<Currency, bigint>;
  for (const part of text.split(",")) {
    const [code, value, extra] = part.split("=");
    if (code === undefined || value === undefined || extra !== undefined || !isCurrency(code) || !amount.test(value)) {
      return `must be base units (e.g. 10000) or CURRENCY=base units pairs (e.g. USD=10000,EUR=12000) with currencies ${CURRENCIES.join(", ")}`;
    }
    fees[code] = BigInt(value);
  }
  return fees;
}

export type ParsedArgs = { help: true } | { help: false; config: NodeConfig };

/**
 * Builds the config from CLI flags, then environment variables, then
 * defaults. Throws OrioleError `invalid_config` naming the bad option.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rpc: { type: "string" },
        "rpc-fallback": { type: "string" },
        confirmations: { type: "string" },
        "reorg-depth": { type: "string" },
        deployment: { type: "string" },
        data: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "poll-ms": { type: "string" },
        "rpc-ws": { type: "string" },
        "max-block-range": { type: "string" },
        "reindex-on-reset": { type: "boolean" },
        "allow-private-webhooks": { type: "boolean" },
        "log-level": { type: "string" },
        "relayer-key-file": { type: "string" },
        "relayer-fee": { type: "string" },
        "relayer-batch-size": { type: "string" },
        "relayer-resend-ms": { type: "string" },
        "cors-origins": { type: "string" },
        "rate-limit-key": { type: "string" },
        "rate-limit-ip": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new OrioleError("invalid_config", `${(e as Error).message}\n\n${USAGE}`, {}, { cause: e });
  }
  if (values.help) return { help: true };

  const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s);
  const raw = {
    rpcUrl: values.rpc ?? nonEmpty(env.ORIOLE_RPC_URL),
    rpcFallbackUrl: values["rpc-fallback"] ?? nonEmpty(env.ORIOLE_RPC_FALLBACK_URL),
    confirmations: values.confirmations ?? nonEmpty(env.ORIOLE_CONFIRMATIONS),
    reorgDepth: values["reorg-depth"] ?? nonEmpty(env.ORIOLE_REORG_DEPTH),
    deploymentFile: values.deployment ?? nonEmpty(env.ORIOLE_DEPLOYMENT),
    dataDir: values.data ?? nonEmpty(env.ORIOLE_DATA_DIR),
    port: values.port ?? nonEmpty(env.ORIOLE_PORT),
    host: values.host ?? nonEmpty(env.ORIOLE_HOST),
    pollMs: values["poll-ms"] ?? nonEmpty(env.ORIOLE_POLL_MS),
    rpcWs: values["rpc-ws"] ?? nonEmpty(env.ORIOLE_RPC_WS),
    maxBlockRange: values["max-block-range"] ?? nonEmpty(env.ORIOLE_MAX_BLOCK_RANGE),
    reindexOnReset: values["reindex-on-reset"] ?? nonEmpty(env.ORIOLE_REINDEX_ON_RESET?.toLowerCase()),
    allowPrivateWebhooks: values["allow-private-webhooks"] ?? nonEmpty(env.ORIOLE_ALLOW_PRIVATE_WEBHOOKS?.toLowerCase()),
    logLevel: values["log-level"] ?? nonEmpty(env.ORIOLE_LOG_LEVEL),
    relayerKey: values["relayer-key-file"] !== undefined ? readKeyFile(values["relayer-key-file"]) : nonEmpty(env.ORIOLE_RELAYER_KEY?.trim()),
    relayerFees: values["relayer-fee"] ?? nonEmpty(env.ORIOLE_RELAYER_FEE),
    relayerBatchSize: values["relayer-batch-size"] ?? nonEmpty(env.ORIOLE_RELAYER_BATCH_SIZE),
    relayerResendMs: values["relayer-resend-ms"] ?? nonEmpty(env.ORIOLE_RELAYER_RESEND_MS),
    adminToken: nonEmpty(env.ORIOLE_ADMIN_TOKEN?.trim()),
    corsOrigins: values["cors-origins"] ?? nonEmpty(env.ORIOLE_CORS_ORIGINS),
    rateLimitPerKey: values["rate-limit-key"] ?? nonEmpty(env.ORIOLE_RATE_LIMIT_KEY),
    rateLimitPerIp: values["rate-limit-ip"] ?? nonEmpty(env.ORIOLE_RATE_LIMIT_IP),
  };
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "config");
    throw new OrioleError("invalid_config", `invalid ${OPTION_NAMES[field] ?? field}: ${issue?.message ?? "invalid value"}`, { option: field });
  }
  return { help: false, config: parsed.data };
}

const OPTION_NAMES: Readonly<Record<string, string>> = {
  rpcUrl: "--rpc / ORIOLE_RPC_URL",
  rpcFallbackUrl: "--rpc-fallback / ORIOLE_RPC_FALLBACK_URL",
  confirmations: "--confirmations / ORIOLE_CONFIRMATIONS",
  reorgDepth: "--reorg-depth / ORIOLE_REORG_DEPTH",
  deploymentFile: "--deployment / ORIOLE_DEPLOYMENT",
  dataDir: "--data / ORIOLE_DATA_DIR",
  port: "--port / ORIOLE_PORT",
  host: "--host / ORIOLE_HOST",
  pollMs: "--poll-ms / ORIOLE_POLL_MS",
  rpcWs: "--rpc-ws / ORIOLE_RPC_WS",
  maxBlockRange: "--max-block-range / ORIOLE_MAX_BLOCK_RANGE",
  reindexOnReset: "--reindex-on-reset / ORIOLE_REINDEX_ON_RESET",
  allowPrivateWebhooks: "--allow-private-webhooks / ORIOLE_ALLOW_PRIVATE_WEBHOOKS",
  logLevel: "--log-level / ORIOLE_LOG_LEVEL",
  relayerKey: "--relayer-key-file / ORIOLE_RELAYER_KEY",
  relayerFees: "--relayer-fee / ORIOLE_RELAYER_FEE",
  relayerBatchSize: "--relayer-batch-size / ORIOLE_RELAYER_BATCH_SIZE",
  relayerResendMs: "--relayer-resend-ms / ORIOLE_RELAYER_RESEND_MS",
  adminToken: "ORIOLE_ADMIN_TOKEN",
  corsOrigins: "--cors-origins / ORIOLE_CORS_ORIGINS",
  rateLimitPerKey: "--rate-limit-key / ORIOLE_RATE_LIMIT_KEY",
  rateLimitPerIp: "--rate-limit-ip / ORIOLE_RATE_LIMIT_IP",
};

/** The key from a file (not the command line: `ps` shows arguments). */
function readKeyFile(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new OrioleError("invalid_config", `cannot read --relayer-key-file ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`, { option: "relayerKey" });
  }
}

/** The config a test or the bench starts from: defaults, with the given fields. */
export function configWith(fields: Partial<NodeConfig> & Pick<NodeConfig, "rpcUrl" | "dataDir">): NodeConfig {
  return {
    port: 0,
    host: DEFAULTS.host,
    pollMs: DEFAULTS.pollMs,
    rpcWs: DEFAULTS.rpcWs,
    maxBlockRange: DEFAULTS.maxBlockRange,
    confirmations: DEFAULTS.confirmations,
    reorgDepth: DEFAULTS.reorgDepth,
    reindexOnReset: false,
    allowPrivateWebhooks: false,
    logLevel: DEFAULTS.logLevel,
    relayerFees: defaultFees(),
    relayerBatchSize: DEFAULTS.relayerBatchSize,
    relayerResendMs: DEFAULTS.relayerResendMs,
    corsOrigins: "*",
    // Tests and benches hammer one node from one IP: no limit unless they ask for one.
    rateLimitPerKey: 0,
    rateLimitPerIp: 0,
    ...fields,
  };
}

/**
 * The deployment the node indexes: the in-process one, else the given file,
 * else `deployments/<chainId>.json` for the chain behind the RPC.
 */
export async function loadDeployment(config: NodeConfig, chainId: number): Promise<Deployment> {
  if (config.deployment) return config.deployment;
  const file = config.deploymentFile ?? deploymentPath(chainId);
  const deployment = await readDeployment(file);
  if (!deployment) {
    throw new OrioleError(
      "deployment_not_found",
      `no deployment file at ${file}: deploy first (npm start) or pass --deployment FILE`,
      { file },
    );
  }
  return deployment;
}
