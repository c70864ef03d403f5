import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress, Wallet } from "ethers";
import { CURRENCIES, type Currency } from "../../client/sdk/currencies.ts";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { OrioleError } from "../../client/sdk/errors.ts";
import { createApi, listen, type HttpServer } from "./api/server.ts";
import { buildWebApps } from "./api/webApps.ts";
import { ChainClient } from "./chain/rpc.ts";
import { loadDeployment, type NodeConfig } from "./config.ts";
import { chainIdentity, bindStore } from "./indexer/identity.ts";
import { Indexer, type IndexerStatus } from "./indexer/indexer.ts";
import { createLogger, type Logger } from "./log.ts";
import { redactUrl } from "../../client/sdk/jsonRpc.ts";
import { deriveWsUrl } from "./chain/headSubscription.ts";
import { NodeStore } from "./store/store.ts";
import { IntentStore } from "./relayer/intentStore.ts";
import { MerchantStore } from "./merchants/merchantStore.ts";
import { Relayer } from "./relayer/relayer.ts";
import { SseHub } from "./notify/sse.ts";
import { WebhookService, type RetryPolicy } from "./notify/webhooks.ts";
import { InvoiceStore } from "./invoices/invoiceStore.ts";
import { InvoiceWatcher } from "./invoices/invoiceWatcher.ts";
import { RefundService } from "./refunds/refunds.ts";
import { RefundWatcher } from "./refunds/refundWatcher.ts";
import { EscrowService, escrowRelayerKey } from "./escrow/escrowService.ts";
import { OfflineService } from "./offline/offlineService.ts";
import { CallSender } from "./relayer/callSender.ts";
import { paymentProvider } from "../../client/sdk/payments.ts";

export interface RunningNode {
  /** Base URL of the API, e.g. http://127.0.0.1:8787. */
  url: string;
  chainId: number;
  deployment: Deployment;
  store: NodeStore;
  /** The relayer, when the node has a relayer key. */
  relayer: Relayer | null;
  status(): IndexerStatus;
  /** The indexer's notifications: "committed" (lastSeq: number) after each commit or rollback, "reorg" (ReorgInfo). */
  events: Indexer["events"];
  /** Resolves once `block` is indexed; rejects if the indexer fails or after `timeoutMs`. */
  waitForIndexed(block: number, timeoutMs?: number): Promise<void>;
  /** Stops polling, closes the API and the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Called if the indexer stops on an error it cannot retry (e.g. reorg_too_deep). */
  onFatal?: (error: OrioleError) => void;
  /** Webhook retry policy and per-attempt timeout (tests shorten them). */
  webhooks?: { retry?: Partial<RetryPolicy>; timeoutMs?: number };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Starts a settlement node in this process: connects to the chain, checks
 * the deployment and the data dir belong to it, starts the indexer and the
 * API. Throws OrioleError (`rpc_unreachable`, `deployment_not_found`,
 * `deployment_mismatch`, `chain_mismatch`, `data_dir_locked`) before
 * serving anything if it cannot run.
 */
export async function startNode(config: NodeConfig, opts: StartOptions = {}): Promise<RunningNode> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  log.info("starting", { rpc: redactUrl(config.rpcUrl), dataDir: config.dataDir });
  // Bundled in the background (about 1.5 s): neither indexing nor the API waits for it; wallet
  // requests do. A bundle that fails is a broken install: the node stops (onFatal) with web_build_failed.
  const webApps = buildWebApps();
  webApps.catch((e: unknown) => {
    const error = e instanceof OrioleError ? e : new OrioleError("web_build_failed", `the web wallet did not bundle: ${String(e)}`);
    log.error("web wallet bundle failed", { code: error.code, error: error.message });
    opts.onFatal?.(error);
  });

  const client = await ChainClient.connect(config.rpcUrl, { pollingIntervalMs: config.pollMs, fallbackUrl: config.rpcFallbackUrl });
  const cleanup: (() => Promise<void>)[] = [
    () => {
      client.destroy();
      return Promise.resolve();
    },
  ];
  const runCleanup = async (): Promise<void> => {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (e) {
        log.warn("cleanup failed", { error: e });
      }
    }
    cleanup.length = 0;
  };
  try {
    const deployment = await loadDeployment(config, client.chainId);
    const identity = await chainIdentity(client, deployment);

    await mkdir(config.dataDir, { recursive: true });
    const store = await openStore(config.dataDir, config.confirmations);
    cleanup.push(() => store.close());
    await bindStore(store, identity, { reindexOnReset: config.reindexOnReset, dataDir: config.dataDir, log });

    const wsUrl = config.rpcWs === "off" ? undefined : config.rpcWs === "auto" ? deriveWsUrl(config.rpcUrl) : config.rpcWs;
    const heads = wsUrl === undefined ? undefined : { url: wsUrl, derived: config.rpcWs === "auto", redacted: redactUrl(wsUrl) };
    const indexer = new Indexer({ client, store, identity, log, pollMs: config.pollMs, maxBlockRange: config.maxBlockRange, confirmations: config.confirmations, reorgDepth: config.reorgDepth, onFatal: opts.onFatal, heads });
    const tokens = Object.fromEntries(CURRENCIES.map((c) => [c, getAddress(identity.tokens[c])])) as Record<Currency, string>;
    const invoices = new InvoiceStore(store.invoiceSublevel());
    const refunds = new RefundService({
      store,
      chainId: client.chainId,
      tokens,
      blockOfTx: async (txHash) => (await client.provider.getTransactionReceipt(txHash))?.blockNumber,
      invoices,
    });
    // Notifications follow the outbox from its current head; each commit wakes them.
    const merchants = new MerchantStore(store.merchantSublevel());
    // Streams show a refund payment's link to its refund, as histories do (read time: the outbox has none).
    const hub = new SseHub({ source: store, log, decorate: (events) => refunds.linkEvents(events) });
    await hub.start();
    cleanup.push(() => hub.close());
    const webhooks = new WebhookService({ sub: store.webhookSublevel(), source: store, merchant: (id) => merchants.get(id), log, allowPrivateTargets: config.allowPrivateWebhooks, ...opts.webhooks });
    await webhooks.start();
    cleanup.push(() => webhooks.stop());
    const onAppended = (): void => {
      hub.notify();
      webhooks.notify();
    };
    // Invoice and refund status changes: each its own StatusWatcher over the outbox.
    const watchers = [new InvoiceWatcher({ store, invoices, chainId: client.chainId, log, onAppended }), new RefundWatcher({ store, refunds, chainId: client.chainId, log, onAppended })];
    for (const watcher of watchers) {
      await watcher.start();
      cleanup.push(() => watcher.stop());
    }
    indexer.events.on("committed", () => {
      hub.notify();
      webhooks.notify();
      for (const watcher of watchers) watcher.notify();
    });
    await indexer.start();
    cleanup.push(() => indexer.stop());

    const accounts = deployment.contracts.accounts;
    let relayer: Relayer | null = null;
    if (config.relayerKey !== undefined) {
      const r = new Relayer({
        chainId: client.chainId,
        provider: client.provider,
        wallet: new Wallet(config.relayerKey),
        tokens,
        accounts,
        fees: config.relayerFees,
        store: new IntentStore(store.relayerSublevel()),
        log,
        batchSize: config.relayerBatchSize,
        pollMs: config.pollMs,
        resendAfterMs: config.relayerResendMs,
      });
      await r.start();
      cleanup.push(() => r.stop());
      relayer = r;
      log.info("relayer on", { address: r.info.address, fees: r.info.fees });
    } else {
      log.info("relayer off: no relayer key (ORIOLE_RELAYER_KEY or --relayer-key-file)");
    }
    // Its own provider without ethers' 250 ms request cache: a relayed action must see the nonce and state it just changed.
    const escrowProvider = paymentProvider(config.rpcUrl, client.chainId);
    cleanup.push(() => {
      escrowProvider.destroy();
      return Promise.resolve();
    });
    // One EOA (the escrow relayer) sends escrow and offline vault calls, one at a time.
    const callSender = config.relayerKey === undefined ? undefined : new CallSender({ provider: escrowProvider, wallet: new Wallet(escrowRelayerKey(config.relayerKey), escrowProvider), sublevel: store.relayerSublevel(), log });
    const escrows = new EscrowService({
      provider: escrowProvider,
      chainId: client.chainId,
      escrow: getAddress(deployment.contracts.escrow),
      tokens,
      fromBlock: deployment.deployedAt.blockNumber,
      reorgDepth: config.reorgDepth,
      maxBlockRange: config.maxBlockRange,
      sender: callSender,
      accounts,
      log,
    });
    const offline = new OfflineService({ provider: escrowProvider, chainId: client.chainId, vault: getAddress(deployment.contracts.offlineVault), tokens, sender: callSender, accounts });
    const app = createApi({
      chainId: client.chainId,
      tokens,
      accounts,
      escrowAddress: getAddress(deployment.contracts.escrow),
      offlineVaultAddress: getAddress(deployment.contracts.offlineVault),
      relayer,
      baseBlock: identity.deployedAt.blockNumber - 1,
      store,
      status: () => indexer.status(),
      log,
      version: await packageVersion(),
      web: webApps,
      merchants,
      notify: { hub, webhooks },
      invoices,
      refunds,
      escrows,
      offline,
      adminToken: config.adminToken ?? (await adminTokenFile(config.dataDir, log)),
      corsOrigins: config.corsOrigins,
      rateLimitPerKey: config.rateLimitPerKey,
      rateLimitPerIp: config.rateLimitPerIp,
    });
    let server: HttpServer;
    try {
      server = await listen(app, { host: config.host, port: config.port });
    } catch (e) {
      throw new OrioleError("listen_failed", `cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`, {}, { cause: e });
    }
    cleanup.push(() => server.close());
    log.info("listening", { url: server.url, chainId: client.chainId });

    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      chainId: client.chainId,
      deployment,
      store,
      relayer,
      status: () => indexer.status(),
      events: indexer.events,
      waitForIndexed: (block, timeoutMs) => indexer.waitForIndexed(block, timeoutMs),
      stop: () => {
        stopping ??= (async () => {
          log.info("stopping");
          await runCleanup();
          log.info("stopped");
        })();
        return stopping;
      },
    };
  } catch (e) {
    await runCleanup();
    throw e;
  }
}

async function openStore(dir: string, confirmations: number): Promise<NodeStore> {
  try {
    return await NodeStore.open(dir, { confirmations });
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown } }).cause;
    if (cause?.code === "LEVEL_LOCKED") {
      throw new OrioleError("data_dir_locked", `the data dir ${dir} is in use by another process (another node running?)`, { dataDir: dir }, { cause: e });
    }
    throw e;
  }
}

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * The admin token kept in `<dataDir>/admin-token` (0600), created at first
 * start. Only its path is ever logged.
 */
async function adminTokenFile(dataDir: string, log: Logger): Promise<string> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  try {
    await writeFile(file, `${randomBytes(24).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
    log.info("admin token created", { file });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const token = (await readFile(file, "utf8")).trim();
  if (!/^[\x21-\x7e]{16,256}$/.test(token)) {
    throw new OrioleError("invalid_config", `the admin token in ${file} must be 16 to 256 printable characters without spaces`, { file });
  }
  return token;
}

async function packageVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}
