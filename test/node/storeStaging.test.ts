import { createRequire } from "node:module";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { hexlify, Interface, randomBytes } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { sendAndMine } from "../helpers/anvil.ts";
import { startDevnet, startDevnetNode } from "../helpers/devnet.ts";
import { ACCOUNTS } from "./fixtures.ts";
import { Level } from "level";
import { eventId, NodeStore, type CommitOptions, type Cursor, type SeenPayment, type StateChanges } from "../../node/src/store/store.ts";
import { balanceKey } from "../../node/src/store/keys.ts";

/**
 * NodeStore.stage: the indexer builds the next range's batch while LevelDB
 * writes the one before. The next batch must read the staged one's values
 * (balances, unconfirmed payments) as if written, batches must reach the
 * disk in order, and a failed write must fail every batch staged after it,
 * so the disk only ever holds a prefix of whole commits.
 *
 * The disk is controlled through classic-level's chained batch (the one
 * `level` uses): its writes can be held back or made to fail.
 */
type WriteFn = (this: unknown, options: unknown) => Promise<void>;
const ChainedBatch = (createRequire(import.meta.url)("classic-level/chained-batch.js") as { ChainedBatch: { prototype: { _write: WriteFn } } }).ChainedBatch;

const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000bb";
const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;
const cursorAt = (n: number): Cursor => ({ blockNumber: n, blockHash: hashOf(n) });

function seen(blockNumber: number, amount: bigint): SeenPayment {
  return {
    blockHash: hashOf(blockNumber),
    accounts: [A, B],
    payment: { txHash: hashOf(1000 + blockNumber), logIndex: 0, blockNumber, timestamp: 1, from: A, to: B, currency: "USD", amount: amount.toString(), reference: null, fee: "0", kind: "transfer" },
  };
}

/** One block's commit: A pays B `amount`, balances given as absolute values. */
function block(n: number, balances: { a: bigint; b: bigint }, amount: bigint, confirmations: number): [StateChanges, Cursor, CommitOptions] {
  const p = seen(n, amount);
  const changes: StateChanges = {
    balances: new Map([
      [balanceKey(A, "USD"), { account: A, currency: "USD", value: balances.a }],
      [balanceKey(B, "USD"), { account: B, currency: "USD", value: balances.b }],
    ]),
    supply: new Map(),
    payments: [
      { account: A, payment: p.payment },
      { account: B, payment: p.payment },
    ],
    seen: [p],
  };
  return [changes, cursorAt(n), { chainId: 31337, confirmations, prevCursor: cursorAt(n - 1), payments: [p], admin: [], undo: true, pruneThrough: n - 64 }];
}

describe("node: the store's staged commits (write of one range overlapping the next)", function () {
  let dir: string;
  let store: NodeStore;
  const original = ChainedBatch.prototype._write;
  /** Set by a test: called instead of each batch write. */
  let intercept: ((write: () => Promise<void>) => Promise<void>) | undefined;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-staging-"));
    store = await NodeStore.open(dir, { confirmations: 2 });
    intercept = undefined;
    ChainedBatch.prototype._write = function (this: unknown, options: unknown): Promise<void> {
      const write = (): Promise<void> => original.call(this, options);
      return intercept ? intercept(write) : write();
    };
  });

  afterEach(async function () {
    ChainedBatch.prototype._write = original;
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("builds the next batch on the staged one's balances and unconfirmed payments before it is on disk, and writes both in order", async function () {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    intercept = async (write) => {
      await held;
      await write();
    };
    const first = await store.stage(...block(1, { a: 90n, b: 10n }, 10n, 2));
    // Not on disk yet: readers see nothing, the outbox has no event, but the next build sees the staged values.
    expect(await store.cursor()).to.equal(undefined);
    expect(await store.lastEventSeq()).to.equal(0);
    expect(await store.balancesOf([{ account: A, currency: "USD" }, { account: B, currency: "USD" }])).to.deep.equal([90n, 10n]);

    // Block 2 confirms block 1's payment (depth 2): only the staged batch holds it as unconfirmed.
    const second = store.stage(...block(2, { a: 85n, b: 15n }, 5n, 2));
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.cursor()).to.equal(undefined);
    release();
    const { written } = await second;
    await Promise.all([first.written, written]);

    expect(await store.cursor()).to.deep.equal(cursorAt(2));
    const events = await store.eventsAfter(0, 10);
    expect(events.map((e) => [e.type, e.blockNumber])).to.deep.equal([
      ["payment.pending", 1],
      ["payment.confirmed", 1],
      ["payment.pending", 2],
    ]);
    expect(events.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
    const dump = await store.dump();
    expect(Object.values(dump.unconfirmed).map((p) => p.payment.blockNumber)).to.deep.equal([2]);
    expect(dump.balances).to.deep.equal({ [balanceKey(A, "USD")]: "85", [balanceKey(B, "USD")]: "15" });
    // Block 2's undo record holds block 1's values (read from the staged batch), so a rollback restores them.
    const [undo2] = await store.undoRecords();
    expect(undo2?.entries).to.deep.include.members([
      ["bal", balanceKey(A, "USD"), "90"],
      ["bal", balanceKey(B, "USD"), "10"],
    ]);
    const restoredPending = undo2?.entries.filter(([sub, , prev]) => sub === "pcf" && prev !== null).map(([, , prev]) => (JSON.parse(prev ?? "") as SeenPayment).payment.blockNumber);
    expect(restoredPending).to.deep.equal([1]);
    await store.rollback(undo2!, [], 31337);
    expect((await store.dump()).balances).to.deep.equal({ [balanceKey(A, "USD")]: "90", [balanceKey(B, "USD")]: "10" });
    expect(Object.values((await store.dump()).unconfirmed).map((p) => p.payment.blockNumber)).to.deep.equal([1]);
  });

  it("reads the outbox's compact payment lines and the JSON lines of older stores as the same NodeEvents", async function () {
    // An entry as a store before the compact layout wrote it: one JSON NodeEvent per line.
    const old = { ...seen(1, 7n), status: "confirmed" as const };
    const oldEvent = { seq: 1, id: eventId("payment.confirmed", 31337, old.blockHash, old.payment.txHash, 0), type: "payment.confirmed", chainId: 31337, blockNumber: 1, blockHash: old.blockHash, txHash: old.payment.txHash, logIndex: 0, accounts: old.accounts, payment: { ...old.payment, status: "confirmed" } };
    await store.close();
    const raw = new Level(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    await raw.sublevel("evt").put("1".padStart(16, "0"), JSON.stringify(oldEvent));
    await raw.close();
    store = await NodeStore.open(dir, { confirmations: 2 });

    // Block 2 (depth 2) reports its own payment pending and confirms nothing staged: one compact line.
    await store.commit(...block(2, { a: 90n, b: 10n }, 10n, 2));
    const p2 = seen(2, 10n);
    const events = await store.eventsAfter(0, 10);
    expect(events).to.deep.equal([
      oldEvent,
      { seq: 2, id: eventId("payment.pending", 31337, p2.blockHash, p2.payment.txHash, 0), type: "payment.pending", chainId: 31337, blockNumber: 2, blockHash: p2.blockHash, txHash: p2.payment.txHash, logIndex: 0, accounts: [A, B], payment: { ...p2.payment, status: "pending" } },
    ]);
    // Key order equals the JSON a NodeEvent always had (SSE and webhook bodies are this object serialised).
    expect(Object.keys(events[1] ?? {})).to.deep.equal(Object.keys(oldEvent));
    expect((await store.eventsAfter(1, 10)).map((e) => e.seq)).to.deep.equal([2]);
  });

  it("fails every batch staged after a failed write, so the disk keeps a prefix; settle() forgets the failure", async function () {
    await store.commit(...block(1, { a: 90n, b: 10n }, 10n, 2));
    const before = await store.dump();
    let writes = 0;
    intercept = async (write) => {
      writes++;
      if (writes === 1) throw new Error("disk full");
      await write();
    };
    const second = await store.stage(...block(2, { a: 85n, b: 15n }, 5n, 2));
    // Staged while block 2 is in flight: refused once block 2 fails.
    const third = store.stage(...block(3, { a: 80n, b: 20n }, 5n, 2));
    const [r2, r3] = await Promise.allSettled([second.written, third]);
    expect(r2.status).to.equal("rejected");
    expect(r3.status).to.equal("rejected");
    expect(writes).to.equal(1); // block 3's batch never reached the disk
    expect(await store.cursor()).to.deep.equal(cursorAt(1));
    expect(await store.dump()).to.deep.equal(before);
    expect(await store.lastEventSeq()).to.equal(1);

    // Until settle(), whatever is staged builds on the failed batch: refused, and never written.
    const fourth = await store.stage(...block(2, { a: 85n, b: 15n }, 5n, 2)).then(() => "staged", (e: unknown) => (e as Error).message);
    expect(fourth).to.equal("disk full");
    expect(writes).to.equal(1);
    expect(await store.cursor()).to.deep.equal(cursorAt(1));

    await store.settle();
    await (await store.stage(...block(2, { a: 85n, b: 15n }, 5n, 2))).written;
    expect(await store.cursor()).to.deep.equal(cursorAt(2));
    expect((await store.eventsAfter(0, 10)).map((e) => [e.seq, e.type, e.blockNumber])).to.deep.equal([
      [1, "payment.pending", 1],
      [2, "payment.confirmed", 1],
      [3, "payment.pending", 2],
    ]);
  });

  it("an indexer whose write fails goes on from what is on disk and ends equal to a from-scratch index", async function () {
    this.timeout(180_000);
    const devnet = await startDevnet({ fund: ACCOUNTS.slice(0, 2) });
    try {
      const token = new Interface(STABLE_TOKEN_ABI);
      for (let i = 0; i < 12; i++) {
        const data = token.encodeFunctionData("pay", [ACCOUNTS[2], BigInt(100 + i), hexlify(randomBytes(32))]);
        await sendAndMine(devnet.chain.rpcUrl, { from: ACCOUNTS[i % 2]!, to: devnet.deployment.contracts.tokens.USD, data });
      }
      const head = await devnet.connection.ethers.provider.getBlockNumber();
      // Two blocks a range: many ranges, so writes overlap the next range's work.
      const start = () => startDevnetNode(devnet, { maxBlockRange: 2, confirmations: 3 });
      let writes = 0;
      intercept = async (write) => {
        writes++;
        if (writes === 4 || writes === 9) throw new Error("disk write failed");
        await write();
      };
      const node = await start();
      try {
        await node.waitForIndexed(head, 60_000);
        intercept = undefined;
        expect(writes).to.be.greaterThan(9);
        expect(node.status().failure).to.equal(null);
        const fresh = await start();
        try {
          await fresh.waitForIndexed(head, 60_000);
          const [a, b] = [await node.store.dump(), await fresh.store.dump()];
          expect(a).to.deep.equal(b);
          // The outbox too: nothing lost, nothing twice.
          expect(await node.store.eventsAfter(0, 10_000)).to.deep.equal(await fresh.store.eventsAfter(0, 10_000));
        } finally {
          await fresh.stop();
        }
      } finally {
        await node.stop();
      }
    } finally {
      await devnet.stop();
    }
  });
});
