import { createHash } from "node:crypto";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { NodeStore, type Cursor, type StateDump } from "../../node/src/store/store.ts";

/** All derived state of a data dir through a block, and one digest of it. */
export interface StoreDigest {
  cursor: Cursor | undefined;
  /** Balances, supply, payments by account (history) and by reference, admin events, unconfirmed payments. */
  state: StateDump;
  /** The events outbox through the block, in seq order. */
  events: NodeEvent[];
  /** sha256 over the cursor, the state's digest and every outbox entry. */
  digest: string;
}

/**
 * Opens the (stopped) node's data dir and digests everything derived from
 * the chain: NodeStore.dump() (derived state) plus the events outbox up to
 * `throughBlock`. Two stores with the same digest serve the same answers
 * and the same notifications.
 */
export async function storeDigest(dataDir: string, throughBlock: number): Promise<StoreDigest> {
  const store = await NodeStore.open(dataDir);
  try {
    const cursor = await store.cursor();
    const state = await store.dump();
    const events = (await store.eventsAfter(0, Number.MAX_SAFE_INTEGER)).filter((e) => e.blockNumber <= throughBlock);
    const hash = createHash("sha256").update(JSON.stringify(cursor ?? null)).update(state.digest);
    for (const e of events) hash.update(`${JSON.stringify(e)}\u0000`);
    return { cursor, state, events, digest: hash.digest("hex") };
  } finally {
    await store.close();
  }
}

/** Where two digests differ, briefly: the first few differing keys per section ("" when equal). */
export function digestDiff(a: StoreDigest, b: StoreDigest, max = 5): string {
  const out: string[] = [];
  const sections: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["cursor", { cursor: a.cursor }, { cursor: b.cursor }],
    ...(["balances", "supply", "payments", "byReference", "admin", "unconfirmed"] as const).map((k): [string, Record<string, unknown>, Record<string, unknown>] => [k, a.state[k], b.state[k]]),
    ["events", Object.fromEntries(a.events.map((e) => [e.seq, e])), Object.fromEntries(b.events.map((e) => [e.seq, e]))],
  ];
  for (const [name, x, y] of sections) {
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
    if (keys.length === 0) continue;
    const shown = keys.slice(0, max).map((k) => `  ${k}: ${k in x ? JSON.stringify(x[k]) : "(absent)"} vs ${k in y ? JSON.stringify(y[k]) : "(absent)"}`);
    out.push(`${name}: ${keys.length.toString()} differ\n${shown.join("\n")}`);
  }
  return out.join("\n");
}
