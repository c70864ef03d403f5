import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { InvoiceStore } from "../../node/src/invoices/invoiceStore.ts";
import { InvoiceWatcher } from "../../node/src/invoices/invoiceWatcher.ts";
import { silentLogger } from "../../node/src/log.ts";
import { balanceKey } from "../../node/src/store/keys.ts";
import { NodeStore, type CommitOptions, type Cursor, type SeenPayment, type StateChanges } from "../../node/src/store/store.ts";

/**
 * A status watcher whose kind has no record skips the outbox unread (a
 * backfill commits an event per transfer, and a fresh node has no
 * invoice): its cursor goes to the head without a page being read. An
 * invoice created afterwards still sees the payment carrying its reference.
 */
const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000bb";
const TOKEN = "0x00000000000000000000000000000000000000cc";
const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;
const cursorAt = (n: number): Cursor => ({ blockNumber: n, blockHash: hashOf(n) });

/** Block n: A pays B `amount` (with `reference`); the absolute balances after it. */
function block(n: number, a: bigint, b: bigint, amount: bigint, reference: string | null): [StateChanges, Cursor, CommitOptions] {
  const p: SeenPayment = {
    blockHash: hashOf(n),
    accounts: [A, B],
    payment: { txHash: hashOf(1000 + n), logIndex: 0, blockNumber: n, timestamp: 1, from: A, to: B, currency: "USD", amount: amount.toString(), reference, fee: "0", kind: reference ? "payment" : "transfer" },
  };
  const changes: StateChanges = {
    balances: new Map([
      [balanceKey(A, "USD"), { account: A, currency: "USD", value: a }],
      [balanceKey(B, "USD"), { account: B, currency: "USD", value: b }],
    ]),
    supply: new Map(),
    payments: [
      { account: A, payment: p.payment },
      { account: B, payment: p.payment },
    ],
    byReference: reference ? [p.payment] : [],
    seen: [p],
  };
  return [changes, cursorAt(n), { chainId: 31337, confirmations: 1, prevCursor: cursorAt(n - 1), payments: [p], admin: [], undo: false, pruneThrough: n - 64 }];
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("status watcher: a kind with no record skips the outbox", function () {
  let dir: string;
  let store: NodeStore;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-watcher-"));
    store = await NodeStore.open(dir, { confirmations: 1 });
  });

  afterEach(async function () {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("moves its cursor past a backlog unread, then follows a new invoice's payment", async function () {
    const invoices = new InvoiceStore(store.invoiceSublevel());
    let reads = 0;
    const eventsAfter = store.eventsAfter.bind(store);
    store.eventsAfter = (seq, limit) => {
      reads++;
      return eventsAfter(seq, limit);
    };
    const watcher = new InvoiceWatcher({ store, invoices, chainId: 31337, log: silentLogger, onAppended: () => {}, pageSize: 2 });
    await watcher.start();
    try {
      for (let n = 1; n <= 6; n++) await store.commit(...block(n, 100n - BigInt(n), BigInt(n), 1n, null));
      watcher.notify();
      const cur = async (): Promise<number> => Number(await invoices.root.get("w!cur"));
      await until(async () => (await cur()) === (await store.lastEventSeq()), "the cursor to reach the head");
      expect(await store.lastEventSeq()).to.equal(6);
      expect(reads, "outbox pages read with no invoice").to.equal(0);

      const created = await invoices.create({ merchantId: "m1", payout: B, chainId: 31337, token: TOKEN }, { amount: 5n, currency: "USD", description: "tea", orderId: null, expiresAtMs: Date.now() + 3_600_000 }, "k1", "{}");
      expect(created.kind).to.equal("created");
      if (created.kind !== "created") return;
      await store.commit(...block(7, 89n, 11n, 5n, created.invoice.reference));
      watcher.notify();
      await until(async () => (await store.eventsAfter(0, 100)).some((e) => e.type === "invoice.paid"), "invoice.paid");
      expect(reads, "with an invoice, the outbox is read").to.be.greaterThan(0);
      const paid = (await store.eventsAfter(0, 100)).filter((e) => e.type === "invoice.paid");
      expect(paid).to.have.length(1);
      expect(paid[0]?.merchantId).to.equal("m1");
    } finally {
      await watcher.stop();
    }
  });
});
