import { isOrioleError } from "../../client/sdk/errors.ts";
import { startNode, type RunningNode } from "./app.ts";
import { parseConfig, USAGE } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";

/**
 * `node node/src/main.ts [flags]` (npm run node): the settlement node.
 * Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when it cannot
 * start, 2 when the indexer stopped on an error it cannot retry.
 */
async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = createLogger({ level: parsed.config.logLevel });

  let node: RunningNode;
  let resolveExit: (code: number) => void = () => {};
  const exit = new Promise<number>((r) => (resolveExit = r));
  try {
    node = await startNode(parsed.config, {
      log,
      onFatal: () => {
        resolveExit(2);
      },
    });
  } catch (e) {
    logStartError(log, e);
    return 1;
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    log.info("signal received", { signal });
    resolveExit(0);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const code = await exit;
  await node.stop();
  return code;
}

function logStartError(log: Logger, e: unknown): void {
  if (isOrioleError(e)) log.error(e.message, { code: e.code, details: e.details });
  else log.error("failed to start", { error: e });
}

const code = await main();
process.exitCode = code;
// Everything is closed by now; do not let a stray handle keep a stopped node alive.
setTimeout(() => process.exit(code), 2_000).unref();
