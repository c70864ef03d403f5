import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { getAddress, id, Wallet, type Signer } from "ethers";
import { Level } from "level";
import { PAY_WITH_AUTHORIZATION_TYPES, STABLE_TOKEN_EIP712_VERSION } from "../../client/sdk/abi.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { decodePayment } from "../../node/src/store/paymentCodec.ts";
import type { Payment } from "../../node/src/store/store.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { ACCOUNTS, allPayments, chainBalances, chainTruth, getJson, type PaymentPageBody } from "./fixtures.ts";

const MERCHANT = getAddress("0x00000000000000000000000000000000000ca5e1"); // no fee
const FEE_MERCHANT = getAddress("0x000000000000000000000000000000000000f00d"); // 2.5% fee
const FEE_BPS = 250n;

interface Auth {
  from: string;
  to: string;
  value: bigint;
  ref: string;
  validAfter: bigint;
  validBefore: bigint;
  nonce: bigint;
  signature: string;
}

/**
 * Payments with a reference on a real chain, through every path that emits
 * Payment: pay from an EOA, payFrom, a relayed payWithAuthorization and a
 * non-atomic settlePayments batch with failing items, with and without a
 * merchant fee. The expected API state comes from fixtures.ts's own reading
 * of the raw logs.
 */
describe("node: payments with references and fees (in-process, hardhat node)", function () {
  let devnet: Devnet;
  let dataDir: string;
  let node: RunningNode | undefined;
  const refs = {
    pay: id("invoice-pay"),
    payFee: id("invoice-pay-fee"),
    payFrom: id("invoice-pay-from"),
    auth: id("invoice-auth"),
    batch: [id("batch-0"), id("batch-1"), id("batch-2"), id("batch-3"), id("batch-4"), id("batch-5")],
  };
  const tx: Record<string, string> = {};

  const start = async (dir: string): Promise<RunningNode> =>
    startDevnetNode(devnet, { dataDir: dir });

  before(async function () {
    devnet = await startDevnet({ fund: ACCOUNTS.slice(0, 3) });
    dataDir = await mkdtemp(path.join(os.tmpdir(), "oriole-payments-"));
    const { ethers } = devnet.connection;
    const tokenAddress = devnet.deployment.contracts.tokens.USD;
    const [admin] = await ethers.getSigners();
    const [a0, a1, a2] = await Promise.all(ACCOUNTS.slice(0, 3).map((a) => ethers.getSigner(a)));
    const usd = (s: Signer) => ethers.getContractAt("StableToken", tokenAddress, s);
    const name = await (await usd(a0!)).name();
    const domain = { name, version: STABLE_TOKEN_EIP712_VERSION, chainId: 31337, verifyingContract: tokenAddress };
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const sign = async (signer: Signer, a: Omit<Auth, "signature">): Promise<Auth> => {
      const message = { from: a.from, to: a.to, value: a.value, reference: a.ref, validAfter: a.validAfter, validBefore: a.validBefore, nonce: a.nonce };
      return { ...a, signature: await signer.signTypedData(domain, PAY_WITH_AUTHORIZATION_TYPES, message) };
    };
    const auth = (from: string, to: string, value: bigint, ref: string, nonce: bigint, validBefore = now + 3600n): Omit<Auth, "signature"> => ({
      from,
      to,
      value,
      ref,
      validAfter: 0n,
      validBefore,
      nonce,
    });

    await (await (await usd(admin!)).setMerchantFee(FEE_MERCHANT, FEE_BPS)).wait();
    // A plain transfer to the merchant: no reference.
    tx.plain = (await (await (await usd(a0!)).transfer(MERCHANT, 1_000n)).wait())!.hash;
    // pay from an EOA, without and with a fee (fee = floor(1_000_003 * 250 / 10_000) = 25_000).
    tx.pay = (await (await (await usd(a0!)).pay(MERCHANT, 2_000_000n, refs.pay)).wait())!.hash;
    tx.payFee = (await (await (await usd(a0!)).pay(FEE_MERCHANT, 1_000_003n, refs.payFee)).wait())!.hash;
    // payFrom with an allowance: a2 spends a0's funds.
    await (await (await usd(a0!)).approve(ACCOUNTS[2], 500_000n)).wait();
    tx.payFrom = (await (await (await usd(a2!)).payFrom(ACCOUNTS[0], FEE_MERCHANT, 500_000n, refs.payFrom)).wait())!.hash;
    // A signed PayWithAuthorization of a1, relayed by a2.
    const single = await sign(a1!, auth(ACCOUNTS[1], FEE_MERCHANT, 3_000_000n, refs.auth, 7n));
    tx.auth = (await (await (await usd(a2!)).payWithAuthorization(single)).wait())!.hash;

    // A non-atomic batch relayed by a2: items 0, 2 and 5 settle; 1 reuses nonce 7 (NonceUsed),
    // 3 is expired, 4 comes from an unfunded payer (InsufficientBalance).
    const broke = Wallet.createRandom();
    const batch = [
      await sign(a0!, auth(ACCOUNTS[0], MERCHANT, 11n, refs.batch[0]!, 1n)),
      await sign(a1!, auth(ACCOUNTS[1], MERCHANT, 12n, refs.batch[1]!, 7n)),
      await sign(a1!, auth(ACCOUNTS[1], FEE_MERCHANT, 400_000n, refs.batch[2]!, 300n)),
      await sign(a0!, auth(ACCOUNTS[0], MERCHANT, 14n, refs.batch[3]!, 2n, now)),
      await sign(broke, auth(broke.address, MERCHANT, 15n, refs.batch[4]!, 1n)),
      await sign(a0!, auth(ACCOUNTS[0], MERCHANT, 16n, refs.batch[5]!, 3n)),
    ];
    const receipt = (await (await (await usd(a2!)).settlePayments(batch, false)).wait())!;
    tx.batch = receipt.hash;
    const token = await usd(a2!);
    const failed = receipt.logs.map((l) => token.interface.parseLog(l)).filter((e) => e?.name === "PaymentFailed");
    expect(failed.map((e) => Number(e!.args[0]))).to.deep.equal([1, 3, 4]);
  });

  after(async function () {
    await node?.stop();
    await devnet.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const ofTx = (items: Payment[], hash: string): Payment[] => items.filter((p) => p.txHash === hash);

  it("shows each payment's reference and fee, exactly as the chain's Payment events say", async function () {
    node = await start(dataDir);
    const head = await devnet.connection.ethers.provider.getBlockNumber();
    await node.waitForIndexed(head);
    const truth = await chainTruth(devnet, devnet.deployment, head);
    for (const account of truth.accounts) {
      expect(await allPayments(node.url, account, 4), account).to.deep.equal(truth.payments.get(account));
    }
    for (const account of [MERCHANT, FEE_MERCHANT, ...ACCOUNTS.slice(0, 3)]) {
      const { balances } = { balances: await chainBalances(devnet, devnet.deployment, account) };
      const got = await node.store.read((r) => r.balances(account.toLowerCase()));
      expect(got.USD.toString()).to.equal(balances.USD);
    }

    const merchant = await allPayments(node.url, MERCHANT, 100);
    const feeMerchant = await allPayments(node.url, FEE_MERCHANT, 100);
    const payer = await allPayments(node.url, ACCOUNTS[0], 100);

    // A plain transfer carries no reference.
    expect(ofTx(merchant, tx.plain!)).to.have.length(1);
    expect(ofTx(merchant, tx.plain!)[0]).to.include({ reference: null, fee: "0", kind: "transfer", amount: "1000" });
    // Mints too.
    expect(payer.filter((p) => p.kind === "transfer" && p.from === "0x0000000000000000000000000000000000000000")).to.have.length.greaterThan(0);
    expect(payer.every((p) => p.kind !== "transfer" || p.reference === null)).to.equal(true);

    // pay without a fee: one transfer, the reference on both sides.
    const [pay] = ofTx(merchant, tx.pay!);
    expect(pay).to.include({ from: ACCOUNTS[0], to: MERCHANT, amount: "2000000", reference: refs.pay, fee: "0", kind: "payment" });
    expect(ofTx(payer, tx.pay!)).to.deep.equal([pay]);

    // pay with a fee: the merchant sees the net and the fee; the payer also sees the fee transfer.
    const [payFee, ...moreFee] = ofTx(feeMerchant, tx.payFee!);
    expect(moreFee).to.have.length(0);
    expect(payFee).to.include({ from: ACCOUNTS[0], to: FEE_MERCHANT, amount: String(1_000_003n - 25_000n), reference: refs.payFee, fee: "25000", kind: "payment" });
    const payerSide = ofTx(payer, tx.payFee!);
    expect(payerSide.map((p) => p.kind)).to.deep.equal(["fee", "payment"]); // newest (highest log index) first
    expect(payerSide[0]).to.include({ from: ACCOUNTS[0], amount: "25000", reference: refs.payFee, fee: "0" });
    const feeCollector = payerSide[0]!.to;
    const collector = await allPayments(node.url, feeCollector, 100);
    expect(ofTx(collector, tx.payFee!).map((p) => p.kind)).to.include("fee");

    // payFrom: the owner of the funds is the payer, whoever spends the allowance.
    expect(ofTx(feeMerchant, tx.payFrom!)[0]).to.include({ from: ACCOUNTS[0], amount: String(500_000n - 12_500n), reference: refs.payFrom, fee: "12500", kind: "payment" });
    expect(ofTx(await allPayments(node.url, ACCOUNTS[2], 100), tx.payFrom!)).to.have.length(0);

    // payWithAuthorization relayed by account 2: the signer is the payer; the relayer has no entry.
    expect(ofTx(feeMerchant, tx.auth!)[0]).to.include({ from: ACCOUNTS[1], amount: String(3_000_000n - 75_000n), reference: refs.auth, fee: "75000", kind: "payment" });
    expect(ofTx(await allPayments(node.url, ACCOUNTS[2], 100), tx.auth!)).to.have.length(0);

    // The batch: settled items 0, 2, 5 only; failed items leave no trace.
    const batchMerchant = ofTx(merchant, tx.batch!);
    expect(batchMerchant.map((p) => [p.reference, p.amount, p.fee])).to.deep.equal([
      [refs.batch[5], "16", "0"],
      [refs.batch[0], "11", "0"],
    ]);
    const batchFee = ofTx(feeMerchant, tx.batch!);
    expect(batchFee).to.have.length(1);
    expect(batchFee[0]).to.include({ from: ACCOUNTS[1], amount: "390000", fee: "10000", reference: refs.batch[2], kind: "payment" });
    const payer1 = ofTx(await allPayments(node.url, ACCOUNTS[1], 100), tx.batch!);
    expect(payer1.map((p) => [p.kind, p.reference])).to.deep.equal([
      ["fee", refs.batch[2]],
      ["payment", refs.batch[2]],
    ]);
    const allRefs = [...merchant, ...feeMerchant, ...payer, ...payer1].map((p) => p.reference);
    for (const failed of [refs.batch[1], refs.batch[3], refs.batch[4]]) expect(allRefs).to.not.include(failed);
  });

  it("finds payments by reference (GET /v1/payments?reference=), paginated, newest first", async function () {
    if (!node) this.skip();
    const url = node.url;
    const byRef = async (q: string): Promise<{ status: number; body: unknown }> => getJson(`${url}/v1/payments?${q}`);
    const feeMerchant = await allPayments(url, FEE_MERCHANT, 100);

    const one = await byRef(`reference=${refs.payFee}`);
    expect(one.status).to.equal(200);
    expect(one.body).to.deep.equal({ items: ofTx(feeMerchant, tx.payFee!), nextCursor: null });
    // Any case in, lowercase out.
    const upper = await byRef(`reference=0x${refs.auth.slice(2).toUpperCase()}`);
    expect((upper.body as PaymentPageBody).items.map((p) => [p.txHash, p.reference, p.kind])).to.deep.equal([[tx.auth, refs.auth, "payment"]]);
    // Failed batch items and unknown references: nothing.
    for (const r of [refs.batch[1]!, refs.batch[4]!, id("never-paid")]) expect((await byRef(`reference=${r}`)).body).to.deep.equal({ items: [], nextCursor: null });

    // The same reference paid several times: pages of one, newest first.
    const { ethers } = devnet.connection;
    const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await ethers.getSigner(ACCOUNTS[2]));
    const shared = id("shared-invoice");
    const hashes: string[] = [];
    for (const amount of [1n, 2n, 3n]) hashes.push((await (await usd.pay(MERCHANT, amount, shared)).wait())!.hash);
    await node.waitForIndexed(await ethers.provider.getBlockNumber());
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: unknown } = await byRef(`reference=${shared}&limit=1${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(page.status).to.equal(200);
      const body = page.body as PaymentPageBody;
      expect(body.items).to.have.length(1);
      seen.push(body.items[0]!.txHash);
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(seen).to.deep.equal(hashes.reverse());
  });

  it("rejects bad references with 400 invalid_reference, and other bad input like the account list", async function () {
    if (!node) this.skip();
    const expectError = async (q: string, code: string): Promise<void> => {
      const { status, body } = await getJson(`${node!.url}/v1/payments${q}`);
      expect(status, q).to.equal(400);
      expect(body, q).to.have.nested.property("error.code", code);
    };
    for (const bad of ["", "0x", "0x12", refs.pay.slice(2), `${refs.pay}00`, `${refs.pay.slice(0, -1)}g`, "%20" + refs.pay, "null", ACCOUNTS[0]]) {
      await expectError(`?reference=${bad}`, "invalid_reference");
    }
    await expectError("", "invalid_reference");
    await expectError(`?reference=${refs.pay}&reference=${refs.pay}`, "invalid_reference");
    await expectError(`?reference=${refs.pay}&limit=0`, "invalid_limit");
    await expectError(`?reference=${refs.pay}&cursor=abc`, "invalid_cursor");
    await expectError(`?reference=${refs.pay}&ref=1`, "unknown_parameter");
    const post = await getJson(`${node.url}/v1/payments?reference=${refs.pay}`, { method: "POST" });
    expect(post.status).to.equal(405);
  });

  it("has the same state after a restart, a from-scratch re-index, and re-indexing an older node's data dir", async function () {
    if (!node) this.skip();
    await node.stop();
    node = undefined;
    const { ethers } = devnet.connection;
    const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await ethers.getSigner(ACCOUNTS[1]));
    await (await usd.pay(FEE_MERCHANT, 40_000n, id("after-restart"))).wait();
    const head = await ethers.provider.getBlockNumber();
    node = await start(dataDir);
    await node.waitForIndexed(head);
    const truth = await chainTruth(devnet, devnet.deployment, head);
    for (const account of truth.accounts) expect(await allPayments(node.url, account, 5)).to.deep.equal(truth.payments.get(account));
    expect((await allPayments(node.url, FEE_MERCHANT, 1))[0]).to.include({ reference: id("after-restart"), fee: "1000", amount: "39000" });

    const freshDir = await mkdtemp(path.join(os.tmpdir(), "oriole-payments-fresh-"));
    const fresh = await start(freshDir);
    try {
      await fresh.waitForIndexed(head);
      const [a, b] = await Promise.all([node.store.dump(), fresh.store.dump()]);
      expect(Object.values(a.payments).filter((p) => p.reference !== null)).to.have.length.greaterThan(10);
      expect(Object.keys(a.byReference)).to.have.length.greaterThan(8);
      expect(a.digest).to.equal(b.digest);
      expect(a).to.deep.equal(b);

      // A data dir from a node before references (no schema stamp, entries without the fields) is re-indexed.
      await node.stop();
      node = undefined;
      const db = new Level(dataDir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      const meta = db.sublevel("meta");
      const pay = db.sublevel("pay");
      await meta.del("schema");
      for await (const [k, v] of pay.iterator()) {
        const { reference: _r, fee: _f, kind: _k, ...old } = decodePayment(v);
        await pay.put(k, JSON.stringify(old));
      }
      await db.close();
      node = await start(dataDir);
      await node.waitForIndexed(head);
      expect(await node.store.dump()).to.deep.equal(b);
    } finally {
      await fresh.stop();
      await rm(freshDir, { recursive: true, force: true });
    }
  });
});
