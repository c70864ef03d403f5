import path from "node:path";
import { fileURLToPath } from "node:url";

/** The settlement node's entry point. */
export const NODE_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "main.ts");

/**
 * V8 flags the settlement node runs with. A backfill allocates short-lived
 * objects by the million (decoded logs, JSON, batch entries); a 64 MB young
 * generation (V8's default is 16–32 MB) collects them in far fewer
 * scavenges. V8 reads the flag only from the command line, so every
 * launcher goes through {@link nodeArgv}.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

/** Arguments for the Node 22 binary to run the node with `args` (e.g. `spawn(NODE_BIN, nodeArgv([...]))`). */
export function nodeArgv(args: readonly string[], extraNodeFlags: readonly string[] = []): string[] {
  return [...NODE_RUNTIME_FLAGS, ...extraNodeFlags, NODE_MAIN, ...args];
}
