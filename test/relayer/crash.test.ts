import { expect } from "chai";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { factoryInterface } from "../../node/src/relayer/contracts.ts";
import { childNodeSuite } from "../helpers/childNodeSuite.ts";
import { chainTime, fundedRelayerKey, mintData, getJsonBody, intentOf, passkeyWallet, paymentEvents, postIntent, submission, txCount, waitAllFinal, type PasskeyWallet } from "./fixtures.ts";

describe("relayer: kill -9 with intents queued and submitted, then restart", function () {
  this.timeout(300_000);
  // No per-IP rate limit: the test polls 60 intents every 20 ms (rate limits have their own tests).
  const suite = childNodeSuite({ prefix: "oriole-relayer-crash-", args: ["--relayer-batch-size", "20", "--rate-limit-ip", "0"] });

  for (const mode of ["mined while the node is down", "dropped from the mempool while the node is down"] as const) {
  it(`every accepted intent ends confirmed exactly once (in-flight transaction ${mode})`, async function () {
    const { devnet } = suite;
    const rpc = devnet.chain.rpcUrl;
    const { chainId } = devnet.deployment;
    const usd = devnet.deployment.contracts.tokens.USD;
    const [signer] = await devnet.connection.ethers.getSigners();
    if (!signer) throw new Error("no signer");
    const wallets: PasskeyWallet[] = [];
    for (let i = 0; i < 6; i++) {
      const w = passkeyWallet(devnet.deployment, 0n);
      wallets.push(w);
      await (await signer.sendTransaction({ to: usd, data: mintData(w.account, 10n ** 9n) })).wait();
      if (i < 3) {
        const data = factoryInterface.encodeFunctionData("createAccount", [w.device.publicKey.qx, w.device.publicKey.qy, 0n]);
        await (await signer.sendTransaction({ to: devnet.deployment.contracts.accounts.factory, data })).wait();
      }
    }
    const relayerKey = await fundedRelayerKey(rpc);
    const relayer = new Wallet(relayerKey).address;
    const startBlock = Number(await jsonRpcRequest(rpc, "eth_blockNumber"));
    const nonceBefore = await txCount(rpc, relayer);
    const env = { ORIOLE_RELAYER_KEY: relayerKey };
    let node = await suite.start({ env });

    // Nothing is mined while the node runs: the first batch stays submitted, the rest queued.
    await jsonRpcRequest(rpc, "evm_setAutomine", [false]);
    const payees: string[] = [];
    const bodies = [];
    for (const [i, w] of wallets.entries()) {
      for (let n = 0n; n < 10n; n++) {
        const to = getAddress(hexlify(randomBytes(20)));
        payees.push(to);
        bodies.push(submission(chainId, w, intentOf({ token: usd, to, amount: 1_000n + n, nonce: n, deadline: (await chainTime(rpc)) + 3_600n }), { deploy: i >= 3 }));
      }
    }
    const responses = await Promise.all(bodies.map((b) => postIntent(node.url, b)));
    for (const r of responses) expect(r.status, JSON.stringify(r.body)).to.equal(202);
    const ids = responses.map((r) => String(r.body.id));
    const records = async (): Promise<Record<string, unknown>[]> =>
      Promise.all(
        ids.map(async (id) => {
          const r = await getJsonBody(`${node.url}/v1/intents/${id}`);
          expect(r.status, JSON.stringify(r.body)).to.equal(200);
          return r.body;
        }),
      );
    let inFlight: string;
    for (;;) {
      const all = await records();
      const s = all.map((r) => String(r.status));
      const tx = all.find((r) => r.status === "submitted")?.txHash;
      inFlight = typeof tx === "string" ? tx : "";
      if (s.includes("submitted")) {
        // One transaction in flight (never mined), everything else waits for it.
        const submitted = s.filter((x) => x === "submitted").length;
        expect(submitted).to.be.within(1, 20);
        expect(s.filter((x) => x === "queued")).to.have.length(60 - submitted);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await node.kill("SIGKILL");

    if (mode === "mined while the node is down") {
      await jsonRpcRequest(rpc, "evm_setAutomine", [true]);
      await jsonRpcRequest(rpc, "evm_mine");
    } else {
      // As if the node died between storing the signed transaction and broadcasting it.
      expect(await jsonRpcRequest(rpc, "hardhat_dropTransaction", [inFlight])).to.equal(true);
      await jsonRpcRequest(rpc, "evm_setAutomine", [true]);
    }
    node = await suite.start({ env });
    const final = await waitAllFinal(node.url, ids);
    for (const r of final.values()) expect(r.status, JSON.stringify(r)).to.equal("confirmed");

    const events = (await paymentEvents(rpc, usd, startBlock)).filter((e) => payees.includes(getAddress(e.payee)));
    expect(events).to.have.length(60);
    expect(new Set(events.map((e) => e.payee)).size).to.equal(60);
    const txs = new Set([...final.values()].map((r) => String(r.txHash)));
    expect(await txCount(rpc, relayer)).to.equal(nonceBefore + txs.size);
  });
  }
});
