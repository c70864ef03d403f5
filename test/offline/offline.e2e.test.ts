import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import hre from "hardhat";
import { Contract, getAddress, Interface, type JsonRpcProvider, type Signer, Wallet } from "ethers";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { STABLE_TOKEN_ABI, TRANSFER_TOPIC } from "../../client/sdk/abi.ts";
import { isOrioleError } from "../../client/sdk/errors.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { paymentProvider } from "../../client/sdk/payments.ts";
import { decodeOfflineCode, encodeOfflineCode, type OfflineCode, offlineCodeId } from "../../client/sdk/offline/code.ts";
import { OfflineCollector } from "../../client/sdk/offline/collector.ts";
import { createOfflineCodeWithEoa, createOfflineCodeWithPasskey, reserveFromEoa, signReserveAuthorization, submitReserveAuthorization, takeOfflineNonce } from "../../client/sdk/offline/payer.ts";
import { OFFLINE_VAULT_ABI, settleCodes } from "../../client/sdk/offline/vault.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { chainTime, mintData, passkeyWallet } from "../relayer/fixtures.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const USD = 1_000_000n;

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<{ code: string; message: string }> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (isOrioleError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected an OrioleError");
}

describe("offline payments, end to end on a real chain", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  let provider: JsonRpcProvider;
  let chainId: bigint;
  let vault: string;
  let usd: string;
  let funder: Signer;
  let scratch: string;
  let merchantNo = 0;

  before(async function () {
    devnet = await startDevnet();
    provider = paymentProvider(devnet.chain.rpcUrl, devnet.deployment.chainId);
    chainId = BigInt(devnet.deployment.chainId);
    vault = devnet.deployment.contracts.offlineVault;
    usd = devnet.deployment.contracts.tokens.USD;
    const [first] = await devnet.connection.ethers.getSigners();
    if (!first) throw new Error("no signer");
    funder = first;
    scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-offline-"));
  });

  after(async function () {
    provider.destroy();
    await devnet.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A fresh EOA with ETH for gas and `usd` of USD. */
  async function fundedWallet(amount: bigint): Promise<Wallet> {
    const w = new Wallet(Wallet.createRandom().privateKey, provider);
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
    if (amount > 0n) await (await funder.sendTransaction({ to: usd, data: mintData(w.address, amount) })).wait();
    return w;
  }

  async function openCollector(merchant: string, opts: { online: boolean; dir?: string }): Promise<{ collector: OfflineCollector; dir: string }> {
    const dir = opts.dir ?? path.join(scratch, `merchant-${(merchantNo++).toString()}`);
    const collector = await OfflineCollector.open({
      dir,
      merchant,
      tokens: Object.values(devnet.deployment.contracts.tokens),
      vault,
      fromBlock: devnet.deployment.deployedAt.blockNumber,
      ...(opts.online ? { rpcUrl: devnet.chain.rpcUrl } : {}),
    });
    return { collector, dir };
  }

  async function balanceOf(who: string): Promise<bigint> {
    const token = new Contract(usd, STABLE_TOKEN_ABI, provider);
    return (await token.getFunction("balanceOf")(who)) as bigint;
  }

  /** Runs `fn` with every fetch refused and counted: the collector must not touch the network. */
  async function withNoNetwork<T>(fn: () => Promise<T>): Promise<{ result: T; fetches: number }> {
    const original = globalThis.fetch;
    let fetches = 0;
    globalThis.fetch = () => {
      fetches++;
      return Promise.reject(new Error("offline: no network"));
    };
    try {
      return { result: await fn(), fetches };
    } finally {
      globalThis.fetch = original;
    }
  }

  async function codesFrom(payers: readonly Wallet[], merchant: string, perPayer: number, now: bigint, amount: (i: number) => bigint): Promise<OfflineCode[]> {
    const codes: OfflineCode[] = [];
    for (let k = 0; k < perPayer; k++) {
      for (const [i, p] of payers.entries()) {
        const nonce = await takeOfflineNonce(path.join(scratch, "payers", `${p.address}.nonce`));
        codes.push(await createOfflineCodeWithEoa(p, { chainId, vault, payer: p.address, merchant, token: usd, amount: amount(i * perPayer + k), nonce, now, validFor: 900n }));
      }
    }
    return codes;
  }

  /** `count` payers with 50 USD reserved each, and a merchant whose collector (in `dir`) has synced them. */
  async function scene(count: number): Promise<{ payers: Wallet[]; merchant: Wallet; dir: string }> {
    const payers: Wallet[] = [];
    for (let i = 0; i < count; i++) payers.push(await fundedWallet(100n * USD));
    for (const p of payers) await reserveFromEoa({ signer: p, vault, token: usd, amount: 50n * USD });
    const merchant = await fundedWallet(0n);
    const { collector, dir } = await openCollector(merchant.address, { online: true });
    await collector.sync();
    await collector.close();
    return { payers, merchant, dir };
  }

  it("100 codes from 20 payers, collected with no RPC at all, settle in one batch", async function () {
    const { payers, merchant, dir } = await scene(20);
    const online = { dir };
    const now = await chainTime(devnet.chain.rpcUrl);
    const codes = await codesFrom(payers, merchant.address, 5, now, (i) => BigInt(1 + (i % 9)) * USD + BigInt(i));
    const texts = codes.map(encodeOfflineCode);
    expect(texts[0]).to.match(/^oriole-offline:[A-Za-z0-9_-]+$/);
    expect(texts[0]?.length).to.be.below(300);

    const { fetches } = await withNoNetwork(async () => {
      const offline = await openCollector(merchant.address, { online: false, dir: online.dir });
      try {
        for (const t of texts) await offline.collector.accept(t, now);
        // refusals, all offline
        const tampered = { ...decodeOfflineCode(texts[0] ?? ""), amount: 2n * USD, nonce: 5000n };
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(tampered), now))).code).to.equal("offline_bad_signature");
        expect((await errorOf(offline.collector.accept(texts[1] ?? "", now))).code).to.equal("offline_duplicate");
        expect((await errorOf(offline.collector.accept(`${texts[2] ?? ""}A`, now))).code).to.equal("invalid_offline_code");
        expect((await errorOf(offline.collector.accept("oriole-offline:", now))).code).to.equal("invalid_offline_code");
        const p0 = payers[0];
        if (!p0) throw new Error("no payer");
        const [again] = await codesFrom([p0], merchant.address, 1, now, () => 1n);
        if (!again) throw new Error("no code");
        const sameNonce = await createOfflineCodeWithEoa(p0, { chainId, vault, payer: p0.address, merchant: merchant.address, token: usd, amount: 1n, nonce: 0n, now, validFor: 900n });
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(sameNonce), now))).code).to.equal("offline_nonce_seen");
        const tooMuch = await createOfflineCodeWithEoa(p0, { chainId, vault, payer: p0.address, merchant: merchant.address, token: usd, amount: 50n * USD, nonce: 999n, now, validFor: 900n });
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(tooMuch), now))).code).to.equal("offline_allowance_exceeded");
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(again), now + 2000n))).code).to.equal("offline_expired");
        const elsewhere = await createOfflineCodeWithEoa(p0, { chainId, vault, payer: p0.address, merchant: p0.address, token: usd, amount: 1n, nonce: 1000n, now, validFor: 900n });
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(elsewhere), now))).code).to.equal("offline_wrong_merchant");
        const otherChain = await createOfflineCodeWithEoa(p0, { chainId: chainId + 1n, vault, payer: p0.address, merchant: merchant.address, token: usd, amount: 1n, nonce: 1001n, now, validFor: 900n });
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(otherChain), now))).code).to.equal("offline_wrong_chain");
        const stranger = Wallet.createRandom();
        const unknown = await createOfflineCodeWithEoa(stranger, { chainId, vault, payer: stranger.address, merchant: merchant.address, token: usd, amount: 1n, nonce: 0n, now, validFor: 900n });
        expect((await errorOf(offline.collector.accept(encodeOfflineCode(unknown), now))).code).to.equal("offline_unknown_payer");
        expect((await errorOf(offline.collector.sync())).code).to.equal("offline_no_rpc");
        expect((await errorOf(offline.collector.settle(merchant))).code).to.equal("offline_no_rpc");
        expect(offline.collector.list().filter((r) => r.status === "accepted")).to.have.length(100);
      } finally {
        await offline.collector.close();
      }
    });
    expect(fetches, "the collector reached for the network while offline").to.equal(0);

    const back = await openCollector(merchant.address, { online: true, dir: online.dir });
    try {
      const before = await balanceOf(merchant.address);
      const { txHashes, outcomes } = await back.collector.settle(merchant);
      expect(txHashes).to.have.length(1);
      expect(outcomes).to.have.length(100);
      expect(outcomes.every((o) => o.status === "settled" && o.paid === o.amount)).to.equal(true);
      const total = codes.reduce((s, c) => s + c.amount, 0n);
      expect((await balanceOf(merchant.address)) - before).to.equal(total);
      const receipt = await provider.getTransactionReceipt(txHashes[0] ?? "");
      const transfers = receipt?.logs.filter((l) => l.topics[0] === TRANSFER_TOPIC) ?? [];
      expect(transfers, "one transfer for the whole batch").to.have.length(1);
      console.log(`      settle of 100 codes: ${receipt?.gasUsed.toString() ?? "?"} gas`);
      // settling again changes nothing
      expect((await back.collector.settle(merchant)).txHashes).to.have.length(0);
    } finally {
      await back.collector.close();
    }
  });

  it("a double spend beyond the allowance: the later code bounces, the shortfall is a claim, repaid later", async function () {
    const payer = await fundedWallet(100n * USD);
    await reserveFromEoa({ signer: payer, vault, token: usd, amount: 30n * USD });
    const shopA = await fundedWallet(0n);
    const shopB = await fundedWallet(0n);
    const a = await openCollector(shopA.address, { online: true });
    const b = await openCollector(shopB.address, { online: true });
    try {
      await a.collector.sync();
      await b.collector.sync();
      const now = await chainTime(devnet.chain.rpcUrl);
      // the payer shows each shop a 20 USD code, with the same nonce: each is within the allowance each shop knows
      const toA = await createOfflineCodeWithEoa(payer, { chainId, vault, payer: payer.address, merchant: shopA.address, token: usd, amount: 20n * USD, nonce: 7n, now, validFor: 900n });
      const toB = await createOfflineCodeWithEoa(payer, { chainId, vault, payer: payer.address, merchant: shopB.address, token: usd, amount: 20n * USD, nonce: 7n, now, validFor: 900n });
      await a.collector.accept(encodeOfflineCode(toA), now);
      await b.collector.accept(encodeOfflineCode(toB), now);

      const [settledA] = (await a.collector.settle(shopA)).outcomes;
      expect(settledA).to.include({ status: "settled", paid: (20n * USD).toString() });
      const [bounced] = (await b.collector.settle(shopB)).outcomes;
      expect(bounced).to.include({ status: "bounced", reason: "allowance_exhausted", paid: (10n * USD).toString(), owed: (10n * USD).toString() });
      expect(await balanceOf(shopB.address)).to.equal(10n * USD);

      const v = new Contract(vault, OFFLINE_VAULT_ABI, provider);
      expect(await v.getFunction("isDefaulted")(payer.address, usd)).to.equal(true);
      expect(await v.getFunction("claimOf")(offlineCodeId(toB))).to.equal(10n * USD);

      // shop B syncs: the payer is in default, its next code is refused offline
      await b.collector.sync();
      const next = await createOfflineCodeWithEoa(payer, { chainId, vault, payer: payer.address, merchant: shopB.address, token: usd, amount: 1n, nonce: 8n, now, validFor: 900n });
      expect((await errorOf(b.collector.accept(encodeOfflineCode(next), now))).code).to.equal("offline_payer_defaulted");
      expect(b.collector.list().map((r) => r.status)).to.deep.equal(["bounced"]);

      // the payer reserves again: shop B's next settle pays the claim
      await reserveFromEoa({ signer: payer, vault, token: usd, amount: 15n * USD });
      await b.collector.sync();
      const [repaid] = (await b.collector.settle(shopB)).outcomes;
      expect(repaid).to.include({ status: "settled", paid: (20n * USD).toString(), owed: "0" });
      expect(await balanceOf(shopB.address)).to.equal(20n * USD);
      expect(await v.getFunction("isDefaulted")(payer.address, usd)).to.equal(false);
    } finally {
      await a.collector.close();
      await b.collector.close();
    }
  });

  it("a passkey account reserves by signing and pays offline with its device (ERC-1271)", async function () {
    const w = passkeyWallet(devnet.deployment, 0n, SoftwareDevice.generate());
    const factory = new Interface(["function createAccount(bytes32 qx, bytes32 qy, uint256 salt) returns (address)"]);
    const create = factory.encodeFunctionData("createAccount", [w.device.publicKey.qx, w.device.publicKey.qy, w.salt]);
    await (await funder.sendTransaction({ to: devnet.deployment.contracts.accounts.factory, data: create })).wait();
    await (await funder.sendTransaction({ to: usd, data: mintData(w.account, 100n * USD) })).wait();
    const now = await chainTime(devnet.chain.rpcUrl);
    const auth = signReserveAuthorization({ device: w.device, chainId, account: w.account, vault, token: usd, tokenName: "Oriole US Dollar", amount: 40n * USD, validBefore: now + 3600n });
    await submitReserveAuthorization({ submitter: funder, vault, auth });

    const shop = await fundedWallet(0n);
    const { collector } = await openCollector(shop.address, { online: true });
    try {
      const snapshot = await collector.sync();
      expect(snapshot.payers.find((p) => p.payer === getAddress(w.account))?.signer.kind).to.equal("passkey");
      const request = { chainId, vault, payer: w.account, merchant: shop.address, token: usd, amount: 12n * USD, nonce: 0n, now, validFor: 900n };
      const code = createOfflineCodeWithPasskey(w.device, request);
      const stolen = createOfflineCodeWithPasskey(SoftwareDevice.generate(), { ...request, nonce: 1n });
      const noUv = createOfflineCodeWithPasskey(w.device, { ...request, nonce: 2n }, { userVerified: false });
      await withNoNetwork(async () => {
        await collector.accept(encodeOfflineCode(code), now);
        expect((await errorOf(collector.accept(encodeOfflineCode(stolen), now))).code).to.equal("offline_bad_signature");
        expect((await errorOf(collector.accept(encodeOfflineCode(noUv), now))).code).to.equal("offline_bad_signature");
      });
      const { outcomes, txHashes } = await collector.settle(shop);
      expect(outcomes[0]).to.include({ status: "settled", paid: (12n * USD).toString() });
      expect(await balanceOf(shop.address)).to.equal(12n * USD);
      const receipt = await provider.getTransactionReceipt(txHashes[0] ?? "");
      console.log(`      settle of 1 passkey code: ${receipt?.gasUsed.toString() ?? "?"} gas`);
    } finally {
      await collector.close();
    }
  });

  it("kill -9 the collector mid-collection, restart: nothing is lost or doubled", async function () {
    const { payers, merchant, dir } = await scene(10);
    const online = { dir };
    const now = await chainTime(devnet.chain.rpcUrl);
    const codes = await codesFrom(payers, merchant.address, 10, now, (i) => BigInt(100 + i));
    const codesFile = path.join(scratch, "codes.txt");
    await writeFile(codesFile, `${codes.map(encodeOfflineCode).join("\n")}\n`);
    const options = JSON.stringify({ merchant: merchant.address, tokens: [usd], vault, fromBlock: devnet.deployment.deployedAt.blockNumber });

    const acked = new Set<string>();
    const run = (killAfter: number | undefined) =>
      new Promise<{ signal: NodeJS.Signals | null; done: boolean }>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(HERE, "collectorChild.ts"), online.dir, options, codesFile, now.toString()], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        let acks = 0;
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const lines = out.split("\n");
          out = lines.pop() ?? "";
          for (const line of lines) {
            const m = /^(ACK|DUP) (0x[0-9a-f]{64})$/.exec(line);
            if (m?.[2] !== undefined) {
              acked.add(m[2]);
              if (m[1] === "ACK") acks++;
            }
            if (killAfter !== undefined && acks >= killAfter) child.kill("SIGKILL");
          }
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", reject);
        child.on("exit", (code, signal) => {
          if (signal === null && code !== 0) reject(new Error(`collector exited ${String(code)}: ${err}`));
          else resolve({ signal, done: out.includes("DONE") || code === 0 });
        });
      });

    const killed = await run(37);
    expect(killed.signal).to.equal("SIGKILL");
    expect(acked.size).to.be.at.least(37).and.below(100);
    const finished = await run(undefined);
    expect(finished.signal).to.equal(null);
    expect(acked.size).to.equal(100);

    const back = await openCollector(merchant.address, { online: true, dir: online.dir });
    try {
      const ids = back.collector.list().map((r) => r.id);
      expect(new Set(ids).size).to.equal(100);
      for (const id of acked) expect(ids).to.include(id);
      const before = await balanceOf(merchant.address);
      // a settle that was mined but whose outcomes were never recorded (the terminal died right after sending it)
      await settleCodes({ signer: merchant, vault, codes: codes.slice(0, 10), owedBefore: codes.slice(0, 10).map(() => 0n) });
      const { outcomes } = await back.collector.settle(merchant);
      expect(outcomes.filter((o) => o.status === "settled")).to.have.length(100);
      expect(outcomes.filter((o) => o.reason === "nonce_used")).to.have.length(10);
      expect((await balanceOf(merchant.address)) - before).to.equal(codes.reduce((s, c) => s + c.amount, 0n));
    } finally {
      await back.collector.close();
    }
  });

  it("the client ABI matches the compiled OfflineVault", async function () {
    const artifact = await hre.artifacts.readArtifact("OfflineVault");
    const compiled = new Interface(artifact.abi);
    const client = new Interface(OFFLINE_VAULT_ABI);
    client.forEachFunction((f) => expect(compiled.getFunction(f.selector)?.format("sighash"), f.format("sighash")).to.equal(f.format("sighash")));
    client.forEachEvent((e) => expect(compiled.getEvent(e.topicHash)?.format("sighash"), e.format("sighash")).to.equal(e.format("sighash")));
  });
});
