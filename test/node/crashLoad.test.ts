import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { getAddress, id } from "ethers";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { expectedWebhookEvents, expectWebhooksExactlyOnce, startReceiver } from "../helpers/notify.ts";
import { spawnNode, type NodeProcess } from "../helpers/nodeProcess.ts";
import { seededRandom } from "../helpers/random.ts";
import { digestDiff, storeDigest } from "../helpers/storeDigest.ts";
import { startNode } from "../../node/src/app.ts";
import { configWith } from "../../node/src/config.ts";
import { silentLogger } from "../../node/src/log.ts";
import { NodeStore } from "../../node/src/store/store.ts";
import { ACCOUNTS, getJson, recipients, spray } from "./fixtures.ts";
import { createMerchant, setWebhook } from "../helpers/merchants.ts";

const ADMIN = "crash-load-admin-token-0123456789";
/** Kills: even rounds during a backfill, odd ones during realtime under load. */
const KILLS = 10;
const PAYOUT = ACCOUNTS[4];
const FEE_MERCHANT = getAddress("0x000000000000000000000000000000000000f00d");
/** Per backfill round, while the node is down: SPRAY_TXS blocks of SPRAY_PER_TX transfers. */
const SPRAY_TXS = 16;
const SPRAY_PER_TX = 100;

interface Load {
  /** Waits for the transactions in flight, then holds every worker: the chain head stops moving. */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
  readonly sent: number;
}

/**
 * Workers that each send one transaction at a time (and wait for it) until
 * stopped: payments with references (with and without a merchant fee),
 * plain transfers and admin calls, so every kind of derived state moves.
 */
function startLoad(workers: readonly { step: (n: number) => Promise<void>; gapMs: number }[]): Load {
  let gate: Promise<void> | undefined;
  let release = (): void => {};
  const state = { stopped: false };
  // A function, not the field: the flag changes across awaits.
  const stopped = (): boolean => state.stopped;
  let busy = 0;
  let sent = 0;
  const errors: unknown[] = [];
  const loops = workers.map(async ({ step, gapMs }) => {
    for (let n = 0; !stopped(); n++) {
      if (gate) await gate;
      if (stopped()) break;
      busy++;
      try {
        await step(n);
        sent++;
      } catch (e) {
        errors.push(e);
        state.stopped = true;
      } finally {
        busy--;
      }
      await new Promise((r) => setTimeout(r, gapMs * (0.5 + Math.random())));
    }
  });
  const idle = async (): Promise<void> => {
    while (busy > 0) await new Promise((r) => setTimeout(r, 5));
    if (errors.length > 0) throw errors[0] as Error;
  };
  return {
    async pause() {
      gate ??= new Promise<void>((r) => (release = r));
      await idle();
    },
    resume() {
      gate = undefined;
      release();
    },
    async stop() {
      state.stopped = true;
      this.resume();
      await Promise.all(loops);
      if (errors.length > 0) throw errors[0] as Error;
    },
    get sent() {
      return sent;
    },
  };
}

/**
 * The crash test: a real node process is killed with SIGKILL at
 * KILLS random moments (seeded: the seed is printed, ORIOLE_CRASH_SEED=<seed>
 * replays the same kill targets, delays and block ranges), half in the middle of a backfill of
 * thousands of transfers, half while payments keep arriving. After each
 * restart, once the node has caught up to a head H (the load paused), a
 * digest of all its derived state and of its events outbox must equal the
 * one of a from-scratch index of the same chain up to H. A merchant's
 * webhook runs throughout: at the end none is lost and none came twice
 * under different ids.
 */
describe("node: kill -9 at random moments under load (child process, hardhat node)", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let dir: string;
  let child: NodeProcess | undefined;
  let load: Load | undefined;
  const rng = seededRandom("ORIOLE_CRASH_SEED");
  const pool = recipients(400, "crash-load");

  before(async function () {
    console.log(`      seed ${rng.seed.toString()} (replay: ORIOLE_CRASH_SEED=${rng.seed.toString()})`);
    devnet = await startDevnet({ fund: ACCOUNTS.slice(0, 3) });
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-crash-load-"));
  });

  after(async function () {
    await load?.stop().catch(() => {});
    await child?.kill("SIGKILL");
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`keeps exactly the state of a from-scratch index across ${KILLS.toString()} kill -9s, and loses no webhook`, async function () {
    const { ethers } = devnet.connection;
    const crashDir = path.join(dir, "crashed");
    const rpc = devnet.chain.rpcUrl;
    const head = (): Promise<number> => ethers.provider.getBlockNumber();
    const start = (maxBlockRange: number): Promise<NodeProcess> =>
      spawnNode({
        args: ["--rpc", rpc, "--deployment", devnet.deploymentFile, "--data", crashDir, "--port", "0", "--poll-ms", "20", "--max-block-range", maxBlockRange.toString(), "--allow-private-webhooks"],
        env: { ORIOLE_ADMIN_TOKEN: ADMIN },
      });
    const config = (dataDir: string, maxBlockRange: number) => configWith({ rpcUrl: rpc, deployment: devnet.deployment, dataDir, pollMs: 20, maxBlockRange, adminToken: ADMIN, allowPrivateWebhooks: true });
    const storedCursor = async (): Promise<number> => {
      const store = await NodeStore.open(crashDir);
      try {
        return (await store.cursor())?.blockNumber ?? -1;
      } finally {
        await store.close();
      }
    };

    // The merchant and its webhook, set once on the first node.
    const receiver = await startReceiver(async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      return 200;
    });
    try {
      const setup = await startNode(config(crashDir, 2000), { log: silentLogger });
      await setup.waitForIndexed(await head());
      const merchant = await createMerchant(setup.url, ADMIN, "Shop", PAYOUT);
      const secret = await setWebhook(setup.url, merchant.apiKey, receiver.url);
      await setup.stop();

      const [admin] = await ethers.getSigners();
      const token = async (currency: "USD" | "EUR", signer: string) => ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens[currency], await ethers.getSigner(signer));
      const usd0 = await token("USD", ACCOUNTS[0]);
      const eur1 = await token("EUR", ACCOUNTS[1]);
      const usd1 = await token("USD", ACCOUNTS[1]);
      const usdAdmin = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, admin);
      await (await usdAdmin.setMerchantFee(FEE_MERCHANT, 250n)).wait();
      const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
        await (await tx).wait();
      };
      // Not in the pool: transfers to a frozen account revert.
      const frozen = recipients(1, "crash-load-frozen")[0]!;
      load = startLoad([
        // Payments to the webhook's merchant.
        { gapMs: 70, step: (n) => wait(usd0.pay(PAYOUT, 1_000n + BigInt(n), id(`order-${n.toString()}`))) },
        // Payments with a fee, and plain transfers, in another currency and in USD.
        { gapMs: 70, step: (n) => (n % 2 === 0 ? wait(eur1.pay(FEE_MERCHANT, 40_000n + BigInt(n), id(`fee-order-${n.toString()}`))) : wait(usd1.transfer(pool[1 + (n % 50)]!, 7n + BigInt(n)))) },
        // Admin events: mint, freeze, unfreeze, burn.
        { gapMs: 120, step: (n) => [() => wait(usdAdmin.mint(admin!.address, 500n)), () => wait(usdAdmin.freeze(frozen)), () => wait(usdAdmin.unfreeze(frozen)), () => wait(usdAdmin.burn(200n))][n % 4]!() },
      ]);

      const kills: { round: number; phase: "backfill" | "realtime"; killedAt: number; head: number; range: number }[] = [];
      const compares: number[] = [];
      let verified = 0;
      const t0 = Date.now();
      for (let round = 0; round < KILLS; round++) {
        const phase = round % 2 === 0 ? "backfill" : "realtime";
        // 1 to 4 blocks per commit: many commits to crash between, and multi-block ones.
        const range = rng.int(1, 4);
        if (phase === "backfill") {
          // The node is down while thousands of transfers (and the load) land: it restarts into a backfill.
          const from = verified + 1;
          const sprayEnd = await spray(devnet, { sender: ACCOUNTS[2], txs: SPRAY_TXS, perTx: SPRAY_PER_TX, to: pool });
          const target = from + Math.floor((sprayEnd - from) * (0.1 + 0.6 * rng.next()));
          child = await start(range);
          for (;;) {
            const indexed = ((await child.get("/v1/network")).body as { indexedBlock: number }).indexedBlock;
            if (indexed >= sprayEnd) throw new Error(`round ${round.toString()}: the backfill finished (block ${indexed.toString()}) before the kill (seed ${rng.seed.toString()})`);
            if (indexed >= target) break;
            await new Promise((r) => setTimeout(r, 1));
          }
          expect((await child.kill("SIGKILL")).signal).to.equal("SIGKILL");
          child = undefined;
          const at = await storedCursor();
          expect(at, `round ${round.toString()}: killed inside the backfill (seed ${rng.seed.toString()})`).to.be.at.least(target).and.lessThan(sprayEnd);
          kills.push({ round, phase, killedAt: at, head: sprayEnd, range });
        } else {
          // Caught up, then killed at a random moment while payments keep arriving.
          child = await start(range);
          await child.waitForIndexed(await head());
          await new Promise((r) => setTimeout(r, rng.int(20, 600)));
          const h = await head();
          expect((await child.kill("SIGKILL")).signal).to.equal("SIGKILL");
          child = undefined;
          kills.push({ round, phase, killedAt: await storedCursor(), head: h, range });
        }

        // Restart; once caught up to a head H (the load paused), compare with a from-scratch index to H.
        // The restart runs startNode (what main.ts runs) in this process, beside the fresh index: two
        // more process starts per round would double the test's time, and the store's recovery is the same.
        const tc = Date.now();
        await load.pause();
        const H = await head();
        const freshDir = path.join(dir, `fresh-${round.toString()}`);
        const nodes = await Promise.all([startNode(config(crashDir, rng.int(1, 4)), { log: silentLogger }), startNode(config(freshDir, 2000), { log: silentLogger })]);
        try {
          await Promise.all(nodes.map((n) => n.waitForIndexed(H)));
        } finally {
          await Promise.all(nodes.map((n) => n.stop()));
        }
        const [crashed, clean] = await Promise.all([storeDigest(crashDir, H), storeDigest(freshDir, H)]);
        await rm(freshDir, { recursive: true, force: true });
        expect(crashed.cursor?.blockNumber).to.equal(H);
        expect(clean.cursor).to.deep.equal(crashed.cursor);
        expect(crashed.digest, `round ${round.toString()} (seed ${rng.seed.toString()}): crashed vs fresh\n${digestDiff(crashed, clean)}`).to.equal(clean.digest);
        verified = H;
        compares.push(Date.now() - tc);
        load.resume();
      }
      await load.stop();
      const last = await storeDigest(crashDir, verified);
      const transfers = new Set(Object.values(last.state.payments).map((p) => `${p.blockNumber.toString()}:${p.logIndex.toString()}`)).size;
      expect(transfers).to.be.greaterThan(KILLS * SPRAY_TXS * SPRAY_PER_TX * 0.5);
      expect(Object.keys(last.state.admin).length).to.be.greaterThan(0);
      expect(Object.keys(last.state.byReference).length).to.be.greaterThan(0);

      // Every webhook delivered once by id: restart, let the deliveries finish (every event
      // turned into deliveries, none waiting), compare with the outbox.
      const drain = await startNode(config(crashDir, 2000), { log: silentLogger });
      try {
        await drain.waitForIndexed(await head());
        const deadline = Date.now() + 30_000;
        for (;;) {
          const enqueued = Number((await drain.store.webhookSublevel().get("cur")) ?? "0") >= (await drain.store.lastEventSeq());
          const metrics = await (await fetch(`${drain.url}/metrics`)).text();
          if (enqueued && /^oriole_webhook_queue_depth 0$/m.test(metrics)) break;
          if (Date.now() > deadline) throw new Error(`webhook deliveries not done: ${/^oriole_webhook_queue_depth .*$/m.exec(metrics)?.[0] ?? "?"}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const log = await getJson(`${drain.url}/v1/merchants/me/webhook/deliveries?limit=100`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
        expect((log.body as { items: { status: string }[] }).items.every((d) => d.status === "delivered")).to.equal(true);
      } finally {
        await drain.stop();
      }
      const expected = await expectedWebhookEvents(crashDir, merchant.id, PAYOUT);
      expect(expected.length).to.be.greaterThan(10);
      const { requests, resent } = expectWebhooksExactlyOnce(receiver.received, expected, secret);

      const fmt = kills.map((k) => `${k.phase[0]!}${k.killedAt.toString()}/${k.head.toString()}`).join(" ");
      console.log(`      ${KILLS.toString()} kills (b: backfill, r: realtime; stored block/head): ${fmt}`);
      console.log(`      ${transfers.toString()} transfers, ${last.events.length.toString()} outbox events, ${load.sent.toString()} load txs; ${KILLS.toString()} digests equal; ${((Date.now() - t0) / 1000).toFixed(1)} s (compare phases ${compares.map((ms) => ms.toString()).join(", ")} ms)`);
      console.log(`      webhooks: ${expected.length.toString()} events, ${requests.toString()} requests, ${resent.toString()} re-sent under the same id, 0 lost, 0 under a second id`);
    } finally {
      await receiver.close();
    }
  });
});
