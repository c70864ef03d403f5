/**
 * A merchant terminal collecting offline codes, run as its own process so the test can kill -9 it:
 * argv: <dir> <options JSON> <codes file> <now>. Accepts each line of the codes file with NO RPC URL
 * and prints `ACK <id>` once the code is durably stored (`DUP <id>` when it already was).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { OfflineCollector } from "../../client/sdk/offline/collector.ts";
import { decodeOfflineCode, offlineCodeId } from "../../client/sdk/offline/code.ts";
import { isOrioleError } from "../../client/sdk/errors.ts";

// Mocha loads every file under test/: only a direct run collects.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, optionsJson, codesFile, now] = process.argv.slice(2);
  if (dir === undefined || optionsJson === undefined || codesFile === undefined || now === undefined) throw new Error("usage: collectorChild <dir> <options> <codes> <now>");
  const options = JSON.parse(optionsJson) as { merchant: string; tokens: string[]; vault: string; fromBlock: number };
  const collector = await OfflineCollector.open({ dir, ...options });
  const lines = (await readFile(codesFile, "utf8")).split("\n").filter((l) => l !== "");
  for (const line of lines) {
    try {
      const r = await collector.accept(line, BigInt(now));
      process.stdout.write(`ACK ${r.id}\n`);
    } catch (e) {
      if (isOrioleError(e) && e.code === "offline_duplicate") process.stdout.write(`DUP ${offlineCodeId(decodeOfflineCode(line))}\n`);
      else throw e;
    }
  }
  await collector.close();
  process.stdout.write("DONE\n");
}
