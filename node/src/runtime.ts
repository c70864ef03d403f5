import path from "node:path";
import { fileURLToPath } from "node:url";

/** The settlement node's entry point. */
export const NODE_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "main.ts");

/**
 * V8 flags the settlement node runs with. A backfill allocates short-lived
 * objects by the million (decoded logs, JSON, batch entries). Measured on
 * the 100,000-event backfill bench (2 cores, runs interleaved): a 16 MB
 * young generation indexes 23,500 events/s, 32 MB and 8 MB the same within
 * noise, 64 MB about 9% fewer (its scavenges touch more memory than the
 * caches hold). V8 reads the flag only from the command line, so every
 * launcher goes through {@link nodeArgv}.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ["--max-semi-space-size=16"];

/** Arguments for the Node 22 binary to run the node with `args` (e.g. `spawn(NODE_BIN, nodeArgv([...]))`). */
export function nodeArgv(args: readonly string[], extraNodeFlags: readonly string[] = []): string[] {
  return [...NODE_RUNTIME_FLAGS, ...extraNodeFlags, NODE_MAIN, ...args];
}
