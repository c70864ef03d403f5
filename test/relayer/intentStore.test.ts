import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { IntentStore, type IntentRecord, type TxRecord } from "../../node/src/relayer/intentStore.ts";
import { NodeStore } from "../../node/src/store/store.ts";

const record = (id: string, status: IntentRecord["status"], createdAt: number): IntentRecord => ({
  id,
  account: "0x0000000000000000000000000000000000000001",
  intent: { token: "0x0000000000000000000000000000000000000002", to: "0x0000000000000000000000000000000000000003", amount: "1", reference: `0x${"00".repeat(32)}`, nonce: "0", deadline: "1", maxRelayerFee: "1" },
  signature: "0x00",
  deployment: null,
  relayerFee: "1",
  status,
  txHash: null,
  error: null,
  reverts: 0,
  createdAt,
  updatedAt: createdAt,
});

describe("relayer: intent store (LevelDB)", function () {
  let dir: string;
  let store: NodeStore;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-intents-"));
    store = await NodeStore.open(dir);
  });

  afterEach(async function () {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("indexes open intents and pending transactions, and forgets them once final / mined", async function () {
    const s = new IntentStore(store.relayerSublevel());
    const tx: TxRecord = { nonce: 7, ids: ["0xb"], kind: "direct", to: "0x0000000000000000000000000000000000000004", data: "0x", gasLimit: "1", attempts: [] };
    await s.write({ intents: [record("0xb", "submitted", 2), record("0xa", "queued", 1), record("0xc", "confirmed", 3)], putTx: tx });
    expect((await s.openIntents()).map((r) => r.id)).to.deep.equal(["0xa", "0xb"]);
    expect(await s.pendingTxs()).to.deep.equal([tx]);
    await s.write({ intents: [record("0xb", "confirmed", 2)], delTx: 7 });
    expect((await s.openIntents()).map((r) => r.id)).to.deep.equal(["0xa"]);
    expect(await s.pendingTxs()).to.deep.equal([]);
    expect((await s.get("0xb"))?.status).to.equal("confirmed");
    expect(await s.get("0xd")).to.equal(undefined);
  });

  it("keeps the relayer's records when derived state is re-indexed (wipeDerived), not on a chain reset (wipe)", async function () {
    const s = new IntentStore(store.relayerSublevel());
    await s.write({ intents: [record("0xa", "queued", 1)] });
    await store.commit({ balances: new Map(), supply: new Map(), payments: [] }, { blockNumber: 5, blockHash: `0x${"11".repeat(32)}` });
    await store.wipeDerived();
    expect(await store.cursor()).to.equal(undefined);
    expect((await s.get("0xa"))?.id).to.equal("0xa");
    expect((await s.openIntents()).map((r) => r.id)).to.deep.equal(["0xa"]);
    await store.wipe();
    expect(await s.get("0xa")).to.equal(undefined);
    // A chain reset keeps only people's records and the outbox's seq floor: nothing of the relayer's.
    expect(await store.relayerSublevel().keys().all()).to.deep.equal([]);
    expect(await store.cursor()).to.equal(undefined);
  });
});
