import { expect } from "chai";
import { getAddress, hexlify, Interface, randomBytes, Wallet } from "ethers";
import { hashAccountCall } from "../../client/sdk/account/intent.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { factoryInterface, relayInterface, tokenInterface } from "../../node/src/relayer/contracts.ts";
import { intentTuple } from "../../node/src/relayer/chainCalls.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import {
  chainTime,
  devSend,
  mintData,
  fundedRelayerKey,
  getJsonBody,
  intentOf,
  passkeyWallet,
  paymentEvents,
  postIntent,
  submission,
  txCount,
  waitAllFinal,
  type IntentFields,
  type PasskeyWallet,
} from "./fixtures.ts";

const FEE = 10_000n;
const FUNDS = 1_000_000_000n; // 1,000 of the currency per account

describe("relayer: POST /v1/intents against a real chain and node", function () {
  this.timeout(300_000);
  let devnet: Devnet;
  let node: RunningNode;
  let rpc: string;
  let chainId: number;
  let usd: string;
  let relayerKey: string;
  let relayerAddress: string;
  let startBlock: number;
  /** 20 accounts: the first 10 deployed beforehand, the last 10 counterfactual. */
  const wallets: PasskeyWallet[] = [];

  const rpcCall = (method: string, params: unknown[] = []): Promise<unknown> => jsonRpcRequest(rpc, method, params);

  const send = (data: string, to: string): Promise<void> => devSend(devnet, to, data);

  async function balanceOf(token: string, who: string): Promise<bigint> {
    const ret = (await rpcCall("eth_call", [{ to: token, data: tokenInterface.encodeFunctionData("balanceOf", [who]) }, "latest"])) as string;
    return tokenInterface.decodeFunctionResult("balanceOf", ret)[0] as bigint;
  }

  async function fields(f: Partial<IntentFields> & { nonce: bigint }): Promise<IntentFields> {
    return { token: usd, to: getAddress(hexlify(randomBytes(20))), amount: 1_000_000n, deadline: (await chainTime(rpc)) + 600n, ...f };
  }

  before(async function () {
    devnet = await startDevnet();
    rpc = devnet.chain.rpcUrl;
    chainId = devnet.deployment.chainId;
    usd = devnet.deployment.contracts.tokens.USD;
    relayerKey = await fundedRelayerKey(rpc);
    relayerAddress = new Wallet(relayerKey).address;
    for (let i = 0; i < 20; i++) {
      const w = passkeyWallet(devnet.deployment, BigInt(i % 3));
      wallets.push(w);
      await send(mintData(w.account, FUNDS), usd);
      if (i < 10) {
        await send(factoryInterface.encodeFunctionData("createAccount", [w.device.publicKey.qx, w.device.publicKey.qy, w.salt]), devnet.deployment.contracts.accounts.factory);
      }
    }
    node = await startDevnetNode(devnet, { relayerKey, relayerResendMs: 1_500 });
    startBlock = Number(await rpcCall("eth_blockNumber"));
  });

  after(async function () {
    await (node as RunningNode | undefined)?.stop();
    await (devnet as Devnet | undefined)?.stop();
  });

  it("GET /v1/network shows the account contracts, the relayer's address and its fees", async function () {
    const { status, body } = await getJsonBody(`${node.url}/v1/network`);
    expect(status).to.equal(200);
    expect(body.contracts).to.deep.include({ accounts: devnet.deployment.contracts.accounts });
    expect(body.relayer).to.deep.equal({ address: relayerAddress, fees: { USD: "10000", CNY: "10000", EUR: "10000", HKD: "10000" } });
  });

  it("200 concurrent intents from 20 accounts (10 deployed by their first payment) make exactly 200 payments, fee exactly 0.01 each", async function () {
    const nonceBefore = await txCount(rpc, relayerAddress);
    const feesBefore = await balanceOf(usd, relayerAddress);
    const bodies = [];
    const expected = new Map<string, bigint>();
    for (const [i, w] of wallets.entries()) {
      for (let n = 0n; n < 10n; n++) {
        const f = await fields({ nonce: n, amount: 1_000_000n + BigInt(i) * 100n + n });
        expected.set(f.to, f.amount);
        bodies.push(submission(chainId, w, intentOf(f), { deploy: i >= 10 }));
      }
    }
    const t0 = performance.now();
    const responses = await Promise.all(bodies.map((b) => postIntent(node.url, b)));
    const acceptedMs = performance.now() - t0;
    for (const r of responses) expect(r.status, JSON.stringify(r.body)).to.equal(202);
    const ids = responses.map((r) => String(r.body.id));
    expect(new Set(ids).size).to.equal(200);
    const final = await waitAllFinal(node.url, ids);
    const ms = performance.now() - t0;
    for (const r of final.values()) expect(r.status, JSON.stringify(r)).to.equal("confirmed");

    const events = (await paymentEvents(rpc, usd, startBlock)).filter((e) => expected.has(getAddress(e.payee)));
    expect(events).to.have.length(200);
    for (const e of events) expect(e.amount).to.equal(expected.get(getAddress(e.payee)));
    for (const [to, amount] of expected) expect(await balanceOf(usd, to)).to.equal(amount);
    for (const [i, w] of wallets.entries()) {
      const paid = [...Array(10).keys()].reduce((a, n) => a + 1_000_000n + BigInt(i) * 100n + BigInt(n) + FEE, 0n);
      expect(await balanceOf(usd, w.account)).to.equal(FUNDS - paid);
    }
    expect(await balanceOf(usd, relayerAddress)).to.equal(feesBefore + 200n * FEE);

    const txs = new Set([...final.values()].map((r) => String(r.txHash)));
    expect(await txCount(rpc, relayerAddress)).to.equal(nonceBefore + txs.size);
    for (const h of txs) {
      const receipt = (await rpcCall("eth_getTransactionReceipt", [h])) as { status: string; from: string };
      expect(receipt.status).to.equal("0x1");
      expect(getAddress(receipt.from)).to.equal(relayerAddress);
    }
    for (const w of wallets) expect((await getJsonBody(`${node.url}/v1/accounts/${w.account}/next-nonce`)).body).to.deep.equal({ nonce: "10" });
    console.log(`      200 intents accepted in ${Math.round(acceptedMs)} ms → ${txs.size} transactions, all confirmed in ${Math.round(ms)} ms (${((200 * 1000) / ms).toFixed(1)} payments/s)`);
  });

  it("the same intent 5× concurrently and again after confirmation makes one payment; every answer has the same id and txHash", async function () {
    const w = wallets[0]!;
    const f = await fields({ nonce: 100n });
    const body = submission(chainId, w, intentOf(f));
    const responses = await Promise.all(Array.from({ length: 5 }, () => postIntent(node.url, body)));
    expect(responses.map((r) => r.status).sort()).to.deep.equal([200, 200, 200, 200, 202]);
    const id = String(responses[0]!.body.id);
    for (const r of responses) expect(r.body.id).to.equal(id);
    const final = (await waitAllFinal(node.url, [id])).get(id)!;
    expect(final.status).to.equal("confirmed");
    const again = await postIntent(node.url, body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(final);
    const events = (await paymentEvents(rpc, usd, startBlock)).filter((e) => getAddress(e.payee) === f.to);
    expect(events).to.have.length(1);
    expect(events[0]!.txHash).to.equal(final.txHash);
  });

  it("the nonce bitmap refuses a replay of a mined intent even when sent again on-chain", async function () {
    const w = wallets[1]!;
    const f = await fields({ nonce: 101n });
    const intent = intentOf(f);
    const body = submission(chainId, w, intent);
    const r = await postIntent(node.url, body);
    const id = String(r.body.id);
    expect((await waitAllFinal(node.url, [id])).get(id)!.status).to.equal("confirmed");
    // Replay the same signed payment through PaymentRelay directly: caught and reported, nothing paid.
    const data = relayInterface.encodeFunctionData("relay", [[], [[w.account, intentTuple(intent), FEE, body.signature]], relayerAddress]);
    const [signer] = await devnet.connection.ethers.getSigners();
    const receipt = await (await signer!.sendTransaction({ to: devnet.deployment.contracts.accounts.relay, data })).wait();
    const failed = receipt!.logs.map((l) => relayInterface.parseLog(l)).filter((e) => e?.name === "RelayedPaymentFailed");
    expect(failed).to.have.length(1);
    expect((await paymentEvents(rpc, usd, startBlock)).filter((e) => getAddress(e.payee) === f.to)).to.have.length(1);
  });

  describe("refusals: a 4xx with a stable code, nothing sent", function () {
    let nonceBefore: number;
    let balancesBefore: bigint[];

    before(async function () {
      nonceBefore = await txCount(rpc, relayerAddress, "pending");
      balancesBefore = await Promise.all(wallets.map((w) => balanceOf(usd, w.account)));
    });

    after(async function () {
      expect(await txCount(rpc, relayerAddress, "pending"), "the relayer sent a transaction").to.equal(nonceBefore);
      expect(await Promise.all(wallets.map((w) => balanceOf(usd, w.account)))).to.deep.equal(balancesBefore);
    });

    async function expectRefusal(body: unknown, status: number, code: string, init?: { raw?: string; contentType?: string }): Promise<void> {
      const r = await postIntent(node.url, body, init);
      expect(r.status, JSON.stringify(r.body)).to.equal(status);
      expect(Object.keys(r.body)).to.deep.equal(["error"]);
      expect(r.body.error?.code, JSON.stringify(r.body)).to.equal(code);
      expect(r.body.error?.message).to.be.a("string").and.not.equal("");
    }

    const deployedW = (): PasskeyWallet => wallets[2]!;
    const fresh = (): PasskeyWallet => {
      const w = passkeyWallet(devnet.deployment, 7n);
      return w;
    };

    it("user verification off → user_verification_required", async function () {
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n })), { assert: { userVerified: false } }), 400, "user_verification_required");
    });

    it("a signature over another intent, or garbage → invalid_signature", async function () {
      const other = intentOf(await fields({ nonce: 201n }));
      const challenge = (await import("../../client/sdk/account/intent.ts")).hashPaymentIntent(chainId, deployedW().account, other);
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n })), { challenge }), 400, "invalid_signature");
      const good = submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n })));
      await expectRefusal({ ...good, signature: `0x${"ab".repeat(200)}` }, 400, "invalid_signature");
      await expectRefusal({ ...good, signature: "0x1234" }, 400, "invalid_signature");
    });

    it("a key that is not a device of the account → unknown_device (deployed and counterfactual)", async function () {
      const stranger = SoftwareDevice.generate();
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n })), { signer: stranger }), 400, "unknown_device");
      await expectRefusal(submission(chainId, fresh(), intentOf(await fields({ nonce: 0n })), { signer: stranger, deploy: true }), 400, "unknown_device");
    });

    it("expired, or a deadline more than a day ahead", async function () {
      const now = await chainTime(rpc);
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n, deadline: now - 10n }))), 400, "intent_expired");
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n, deadline: now + 2n * 86_400n }))), 400, "invalid_request");
    });

    it("maxRelayerFee below the relayer's fee → fee_too_low", async function () {
      await expectRefusal(submission(chainId, deployedW(), intentOf({ ...(await fields({ nonce: 200n })), maxRelayerFee: FEE - 1n })), 400, "fee_too_low");
    });

    it("a token that is not one of Oriole's → unsupported_token", async function () {
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n, token: getAddress(hexlify(randomBytes(20))) }))), 400, "unsupported_token");
    });

    it("malformed JSON, unknown or missing fields, bad numbers, wrong content type → invalid_request", async function () {
      const good = submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n })));
      await expectRefusal(undefined, 400, "invalid_request", { raw: "{not json" });
      await expectRefusal(undefined, 400, "invalid_request", { raw: "[]" });
      await expectRefusal({ ...good, extra: 1 }, 400, "invalid_request");
      await expectRefusal({ ...good, intent: { ...good.intent, extra: "1" } }, 400, "invalid_request");
      await expectRefusal({ ...good, intent: { ...good.intent, amount: "1.5" } }, 400, "invalid_request");
      await expectRefusal({ ...good, intent: { ...good.intent, amount: "0" } }, 400, "invalid_request");
      await expectRefusal({ ...good, intent: { ...good.intent, nonce: -1 } }, 400, "invalid_request");
      await expectRefusal({ ...good, account: "0x1234" }, 400, "invalid_request");
      const { signature: _s, ...noSignature } = good;
      await expectRefusal(noSignature, 400, "invalid_request");
      await expectRefusal(good, 400, "invalid_request", { raw: JSON.stringify(good), contentType: "text/plain" });
      await expectRefusal(undefined, 413, "invalid_request", { raw: JSON.stringify({ ...good, signature: `0x${"00".repeat(20_000)}` }) });
    });

    it("a nonce already used on-chain → nonce_used", async function () {
      await expectRefusal(submission(chainId, deployedW(), intentOf(await fields({ nonce: 3n }))), 409, "nonce_used");
    });

    it("more than the balance → simulation_failed with the decoded reason (deployed and counterfactual)", async function () {
      const r = await postIntent(node.url, submission(chainId, deployedW(), intentOf(await fields({ nonce: 200n, amount: FUNDS * 10n }))));
      expect(r.status).to.equal(422);
      expect(r.body.error?.code).to.equal("simulation_failed");
      expect(r.body.error?.message).to.match(/insufficient balance/);
      const w = fresh();
      const r2 = await postIntent(node.url, submission(chainId, w, intentOf(await fields({ nonce: 0n })), { deploy: true }));
      expect(r2.status).to.equal(422);
      expect(r2.body.error?.code).to.equal("simulation_failed");
      expect(r2.body.error?.message).to.match(/insufficient balance/);
    });

    it("over the account's daily limit → simulation_failed naming the limit", async function () {
      const w = wallets[6]!;
      const account = new Interface(["function setDailyLimit(address token, uint256 limit)", "function executeWithSig(bytes data, uint256 nonce, uint256 deadline, bytes signature)"]);
      const data = account.encodeFunctionData("setDailyLimit", [usd, 5_000_000n]);
      const call = { data, nonce: 900n, deadline: (await chainTime(rpc)) + 600n };
      const signature = w.device.sign(hashAccountCall(chainId, w.account, call));
      // Lowering a limit applies at once (it is owned by the account: any sender may submit the signed call).
      await send(account.encodeFunctionData("executeWithSig", [call.data, call.nonce, call.deadline, signature]), w.account);
      const r = await postIntent(node.url, submission(chainId, w, intentOf(await fields({ nonce: 200n, amount: 5_000_000n }))));
      expect(r.status, JSON.stringify(r.body)).to.equal(422);
      expect(r.body.error?.code).to.equal("simulation_failed");
      expect(r.body.error?.message).to.match(/daily limit/);
    });

    it("a counterfactual account without its deployment → account_not_deployed; a deployment of another account → deployment_mismatch", async function () {
      const w = fresh();
      await expectRefusal(submission(chainId, w, intentOf(await fields({ nonce: 0n }))), 400, "account_not_deployed");
      const wrongSalt = { ...w, salt: w.salt + 1n };
      await expectRefusal(submission(chainId, wrongSalt, intentOf(await fields({ nonce: 0n })), { deploy: true }), 400, "deployment_mismatch");
    });

    it("GET /v1/intents/{id}: unknown → 404 intent_not_found; malformed → 400", async function () {
      const unknown = await getJsonBody(`${node.url}/v1/intents/0x${"11".repeat(32)}`);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error?.code).to.equal("intent_not_found");
      const bad = await getJsonBody(`${node.url}/v1/intents/0x1234`);
      expect(bad.status).to.equal(400);
      expect(bad.body.error?.code).to.equal("invalid_request");
    });
  });

  it("a second intent with the nonce of one in flight → 409 nonce_conflict; next-nonce skips held nonces", async function () {
    const w = wallets[3]!;
    await rpcCall("evm_setAutomine", [false]);
    try {
      const a = await postIntent(node.url, submission(chainId, w, intentOf(await fields({ nonce: 300n }))));
      expect(a.status).to.equal(202);
      const b = await postIntent(node.url, submission(chainId, w, intentOf(await fields({ nonce: 300n, amount: 2_000_000n }))));
      expect(b.status, JSON.stringify(b.body)).to.equal(409);
      expect(b.body.error?.code).to.equal("nonce_conflict");
      const c = await postIntent(node.url, submission(chainId, w, intentOf(await fields({ nonce: 10n }))));
      expect(c.status).to.equal(202);
      expect((await getJsonBody(`${node.url}/v1/accounts/${w.account}/next-nonce`)).body).to.deep.equal({ nonce: "11" });
      await rpcCall("evm_setAutomine", [true]);
      await rpcCall("evm_mine");
      const final = await waitAllFinal(node.url, [String(a.body.id), String(c.body.id)]);
      for (const r of final.values()) expect(r.status).to.equal("confirmed");
    } finally {
      await rpcCall("evm_setAutomine", [true]);
    }
  });

  it("a transaction not mined in time is replaced with the same nonce and higher fees; a dropped one too; one payment", async function () {
    const w = wallets[4]!;
    const nonceBefore = await txCount(rpc, relayerAddress);
    await rpcCall("evm_setAutomine", [false]);
    let firstHash: string;
    let id: string;
    const f = await fields({ nonce: 400n });
    try {
      const r = await postIntent(node.url, submission(chainId, w, intentOf(f)));
      id = String(r.body.id);
      const submitted = async (): Promise<string> => {
        for (;;) {
          const s = (await getJsonBody(`${node.url}/v1/intents/${id}`)).body;
          if (s.status === "submitted" && typeof s.txHash === "string") return s.txHash;
          await new Promise((res) => setTimeout(res, 20));
        }
      };
      firstHash = await submitted();
      // Not mined for longer than relayerResendMs: a replacement appears.
      let replacement = firstHash;
      while (replacement === firstHash) {
        await new Promise((res) => setTimeout(res, 100));
        replacement = await submitted();
      }
      const tx1 = (await rpcCall("eth_getTransactionByHash", [firstHash])) as { nonce: string; maxFeePerGas: string } | null;
      const tx2 = (await rpcCall("eth_getTransactionByHash", [replacement])) as { nonce: string; maxFeePerGas: string };
      expect(tx2.nonce).to.equal(`0x${nonceBefore.toString(16)}`);
      if (tx1) expect(BigInt(tx2.maxFeePerGas)).to.be.greaterThan(BigInt(tx1.maxFeePerGas));
      // Drop the replacement from the mempool: the relayer broadcasts yet another one.
      await rpcCall("hardhat_dropTransaction", [replacement]);
      let third = replacement;
      while (third === replacement) {
        await new Promise((res) => setTimeout(res, 100));
        third = await submitted();
      }
    } finally {
      await rpcCall("evm_setAutomine", [true]);
    }
    await rpcCall("evm_mine");
    const final = (await waitAllFinal(node.url, [id])).get(id)!;
    expect(final.status).to.equal("confirmed");
    expect(await txCount(rpc, relayerAddress)).to.equal(nonceBefore + 1);
    const events = (await paymentEvents(rpc, usd, startBlock)).filter((e) => getAddress(e.payee) === f.to);
    expect(events).to.have.length(1);
    expect(events[0]!.txHash).to.equal(final.txHash);
  });

  it("a node without a relayer key answers 403 relayer_disabled and shows relayer: null", async function () {
    const plain = await startDevnetNode(devnet);
    try {
      const r = await postIntent(plain.url, submission(chainId, wallets[5]!, intentOf(await fields({ nonce: 500n }))));
      expect(r.status).to.equal(403);
      expect(r.body.error?.code).to.equal("relayer_disabled");
      expect((await getJsonBody(`${plain.url}/v1/network`)).body.relayer).to.equal(null);
    } finally {
      await plain.stop();
    }
  });
});
