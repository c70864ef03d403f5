import path from "node:path";
import { expect } from "chai";
import { id, Interface, toQuantity, Wallet } from "ethers";
import { deviceSigner } from "../../client/sdk/account/erc1271.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { isOrioleError } from "../../client/sdk/errors.ts";
import { ESCROW_ABI } from "../../client/sdk/escrow/abi.ts";
import type { EscrowTerms } from "../../client/sdk/escrow/actions.ts";
import { fundEscrowViaNode, signEscrowFunding } from "../../client/sdk/escrow/relay.ts";
import { readTokenDomainName } from "../../client/sdk/escrow/state.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { getRelayedCall, type RelayedCallRecordJson } from "../../client/sdk/relayedCalls.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { escrowRelayerKey, type EscrowView } from "../../node/src/escrow/escrowService.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { startRpcProxy } from "../helpers/rpcProxy.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { fundedRelayerKey, passkeyWallet, type PasskeyWallet } from "../relayer/fixtures.ts";

const FUNDER = ACCOUNTS[0];
const MERCHANT = ACCOUNTS[2];
const FUNDED_TOPIC = new Interface(ESCROW_ABI).getEvent("EscrowFunded")?.topicHash ?? "";

interface ErrorBody {
  error: { code: string; message: string };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;

/**
 * POST /v1/escrows/fundings on a real chain: a passkey account (ERC-1271)
 * funds an escrow through the node with an ERC-3009 authorization its device
 * signed; the same authorization twice makes one escrow; bad signatures,
 * expired or replayed authorizations, foreign tokens and malformed bodies
 * are refused with their 4xx code, spending no gas and changing nothing.
 */
describe("escrow API: POST /v1/escrows/fundings (a passkey buyer funds through the node)", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let dataDir: string;
  let node: RunningNode;
  let escrowAddress: string;
  let usd: string;
  let tokenName: string;
  let relayerAddress: string;
  let buyer: PasskeyWallet;
  let relayerKeyOf: string;

  const call = (p: string, init: RequestInit = {}) => getJson(`${node.url}${p}`, init);
  const post = (body: unknown) => call("/v1/escrows/fundings", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const chainTime = async (): Promise<bigint> => BigInt(((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string }).timestamp);
  const terms = (order: string, amount = 2_000_000n): EscrowTerms => ({ token: usd, merchant: MERCHANT, amount, orderId: id(order), releaseTimeout: 3600, disputeWindow: 1800 });
  const relayerBalance = async (): Promise<bigint> => BigInt((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBalance", [relayerAddress, "latest"])) as string);
  const usdBalance = async (who: string): Promise<bigint> => (await (await devnet.connection.ethers.getContractAt("StableToken", usd)).getFunction("balanceOf")(who));
  const fundedLogs = async (): Promise<number> => ((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getLogs", [{ fromBlock: "0x0", toBlock: "latest", address: escrowAddress, topics: [FUNDED_TOPIC] }])) as unknown[]).length;
  const code = async (who: string): Promise<string> => (await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getCode", [who, "latest"])) as string;
  const deploymentOf = (w: PasskeyWallet) => ({ qx: w.device.publicKey.qx, qy: w.device.publicKey.qy, salt: w.salt });
  const signed = async (order: string, opts: { by?: PasskeyWallet; device?: SoftwareDevice; now?: bigint; validFor?: bigint; amount?: bigint; userVerified?: boolean; signCount?: number; deploy?: boolean } = {}) => {
    const w = opts.by ?? buyer;
    return signEscrowFunding({
      chainId: 31337,
      escrow: escrowAddress,
      tokenName,
      buyer: w.account,
      terms: terms(order, opts.amount),
      now: opts.now ?? (await chainTime()),
      ...(opts.validFor === undefined ? {} : { validFor: opts.validFor }),
      sign: deviceSigner(opts.device ?? w.device, { userVerified: opts.userVerified ?? true, signCount: opts.signCount ?? 0 }),
      ...(opts.deploy === true ? { deployment: deploymentOf(w) } : {}),
    });
  };

  before(async function () {
    devnet = await startDevnet({ fund: [FUNDER] });
    escrowAddress = devnet.deployment.contracts.escrow;
    usd = devnet.deployment.contracts.tokens.USD;
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    relayerKeyOf = relayerKey;
    relayerAddress = new Wallet(escrowRelayerKey(relayerKey)).address;
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [relayerAddress, toQuantity(10n ** 20n)]);
    dataDir = path.join(devnet.dir, "node");
    node = await startDevnetNode(devnet, { dataDir, relayerKey });
    const { ethers } = devnet.connection;
    tokenName = await readTokenDomainName(ethers.provider, usd);
    // A deployed passkey account holding 10 USD.
    buyer = passkeyWallet(devnet.deployment);
    const [admin] = await ethers.getSigners();
    const factory = await ethers.getContractAt("PasskeyAccountFactory", devnet.deployment.contracts.accounts.factory, admin);
    await (await factory.getFunction("createAccount")(buyer.device.publicKey.qx, buyer.device.publicKey.qy, buyer.salt)).wait();
    const token = await ethers.getContractAt("StableToken", usd, await ethers.getSigner(FUNDER));
    await (await token.getFunction("transfer")(buyer.account, 10_000_000n)).wait();
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  it("funds an escrow from a passkey account (SDK → node → fundWithAuthorization); the same authorization again makes no second escrow", async function () {
    const before = await fundedLogs();
    const record = await fundEscrowViaNode(node.url, { chainId: 31337, escrow: escrowAddress, tokenName, buyer: buyer.account, terms: terms("order-1"), now: await chainTime(), sign: deviceSigner(buyer.device) });
    expect(record).to.include({ kind: "escrow_funding", status: "mined", account: buyer.account, token: usd, amount: 2_000_000n });
    expect(record.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const escrow = (await call(`/v1/escrows/${record.escrowId ?? ""}`)).body as EscrowView;
    expect(escrow).to.include({ status: "funded", buyer: buyer.account, merchant: MERCHANT, amount: "2000000" });
    expect(await usdBalance(buyer.account)).to.equal(8_000_000n);
    expect((await getRelayedCall(node.url, "escrow_funding", record.id)).status).to.equal("mined");
    expect(await fundedLogs()).to.equal(before + 1);

    // The same authorization, even with a fresh assertion (other signature bytes), is the same record;
    // concurrent duplicates wait for the first and get its record.
    const now = await chainTime();
    const first = await signed("order-2", { now });
    const fresh = await signed("order-2", { now, signCount: 7 });
    expect(fresh.id).to.equal(first.id);
    expect(fresh.body.signature).to.not.equal(first.body.signature);
    const [r1, r2, r3] = await Promise.all([post(first.body), post(first.body), post(fresh.body)]);
    expect(r1.status, JSON.stringify(r1.body)).to.equal(200);
    for (const r of [r2, r3]) {
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body).to.deep.equal(r1.body);
    }
    expect((r1.body as RelayedCallRecordJson).id).to.equal(first.id);
    expect(await fundedLogs()).to.equal(before + 2);
    expect(await usdBalance(buyer.account)).to.equal(6_000_000n);
    const got = await call(`/v1/escrows/fundings/${first.id}`);
    expect(got.body).to.deep.equal(r1.body);
  });

  it("refuses a bad signature, an expired or replayed authorization, a foreign token and malformed bodies with 4xx, changing nothing", async function () {
    const gas = await relayerBalance();
    const escrows = await fundedLogs();
    const balance = await usdBalance(buyer.account);
    const expect4xx = async (body: unknown, status: number, code: string, what: string, message?: string) => {
      const r = await post(body);
      expect([r.status, codeOf(r.body)], `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).to.deep.equal([status, code]);
      if (message !== undefined) expect((r.body as ErrorBody).error.message).to.include(message);
    };
    // Signed by another device; without user verification; an EOA's signature for the account.
    await expect4xx((await signed("order-3", { device: SoftwareDevice.generate() })).body, 422, "invalid_signature", "other device");
    await expect4xx((await signed("order-3", { userVerified: false })).body, 422, "invalid_signature", "no UV");
    const good = await signed("order-3");
    await expect4xx({ ...good.body, signature: Wallet.createRandom().signingKey.sign(good.id).serialized }, 422, "invalid_signature", "ECDSA for a contract");
    // Tampered: the amount changed after signing.
    await expect4xx({ ...good.body, terms: { ...good.body.terms, amount: "2000001" } }, 422, "invalid_signature", "tampered amount");
    // Expired (validBefore in the past) and not yet valid.
    const now = await chainTime();
    await expect4xx((await signed("order-3", { now: now - 7200n, validFor: 60n })).body, 422, "authorization_expired", "expired");
    await expect4xx((await signed("order-3", { now: now + 7200n })).body, 422, "authorization_not_yet_valid", "future");
    // Replayed nonce: the terms of order-1 again under another validity (another digest, the same ERC-3009 nonce).
    await expect4xx((await signed("order-1", { now: now + 1n })).body, 409, "nonce_used", "replayed nonce");
    // A token that is not this network's; the escrow refuses more than the buyer holds (simulation names the error).
    await expect4xx({ ...good.body, terms: { ...good.body.terms, token: escrowAddress } }, 400, "unsupported_token", "foreign token");
    await expect4xx((await signed("order-4", { amount: 50_000_000n })).body, 422, "simulation_failed", "over balance", "ERC20InsufficientBalance");
    // An account with no code that does not send its deployment cannot be checked (ERC-1271).
    await expect4xx((await signed("order-5", { by: passkeyWallet(devnet.deployment) })).body, 422, "account_not_deployed", "undeployed", "deployment");
    // A deployment that does not give the buyer's address.
    await expect4xx({ ...good.body, deployment: { qx: buyer.device.publicKey.qx, qy: buyer.device.publicKey.qy, salt: "1" } }, 422, "deployment_mismatch", "deployment of another account");
    const malformed: [unknown, string][] = [
      [{}, "invalid_request"],
      [[], "invalid_request"],
      ["x", "invalid_request"],
      [{ ...good.body, extra: 1 }, "unknown_field"],
      [{ ...good.body, terms: { ...good.body.terms, extra: 1 } }, "unknown_field"],
      [{ ...good.body, buyer: "0x12" }, "invalid_request"],
      [{ ...good.body, terms: { ...good.body.terms, amount: "-1" } }, "invalid_request"],
      [{ ...good.body, terms: { ...good.body.terms, amount: 5 } }, "invalid_request"],
      [{ ...good.body, terms: { ...good.body.terms, orderId: "0x12" } }, "invalid_request"],
      [{ ...good.body, terms: { ...good.body.terms, releaseTimeout: -1 } }, "invalid_request"],
      [{ ...good.body, terms: { ...good.body.terms, disputeWindow: 1.5 } }, "invalid_request"],
      [{ ...good.body, validBefore: "1e9" }, "invalid_request"],
      [{ ...good.body, signature: "0x1" }, "invalid_request"],
      [{ ...good.body, signature: undefined }, "invalid_request"],
      [{ ...good.body, deployment: { qx: "0x12", qy: buyer.device.publicKey.qy, salt: "0" } }, "invalid_request"],
      [{ ...good.body, deployment: { ...deploymentOf(buyer), salt: "0", extra: 1 } }, "unknown_field"],
    ];
    for (const [body, code] of malformed) await expect4xx(body, 400, code, JSON.stringify(body).slice(0, 100));
    const text = await call("/v1/escrows/fundings", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify(good.body) });
    expect([text.status, codeOf(text.body)]).to.deep.equal([400, "invalid_request"]);
    expect((await call("/v1/escrows/fundings", { method: "PUT" })).status).to.equal(405);
    expect([(await call(`/v1/escrows/fundings/0x${"00".repeat(32)}`)).status, codeOf((await call(`/v1/escrows/fundings/0x${"00".repeat(32)}`)).body)]).to.deep.equal([404, "funding_not_found"]);
    expect(codeOf((await call("/v1/escrows/fundings/0x12")).body)).to.equal("invalid_call_id");
    expect(await relayerBalance()).to.equal(gas);
    expect(await fundedLogs()).to.equal(escrows);
    expect(await usdBalance(buyer.account)).to.equal(balance);
    // The good one still goes through afterwards: nothing above burnt its nonce.
    const ok = await post(good.body);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
  });

  it("a passkey account never deployed funds an escrow as its first action: the relayer deploys it in the same transaction (PaymentRelay.deployAndCall)", async function () {
    const fresh = passkeyWallet(devnet.deployment);
    const { ethers } = devnet.connection;
    const token = await ethers.getContractAt("StableToken", usd, await ethers.getSigner(FUNDER));
    await (await token.getFunction("transfer")(fresh.account, 5_000_000n)).wait();
    expect(await code(fresh.account)).to.equal("0x");
    const relay = devnet.deployment.contracts.accounts.relay;

    // Refusals first: each is a 4xx that sends nothing and deploys nothing.
    const gas = await relayerBalance();
    const escrows = await fundedLogs();
    const refuse = async (body: unknown, status: number, errorCode: string, what: string, message?: string) => {
      const r = await post(body);
      expect([r.status, codeOf(r.body)], `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).to.deep.equal([status, errorCode]);
      if (message !== undefined) expect((r.body as ErrorBody).error.message).to.include(message);
      expect(await code(fresh.account), what).to.equal("0x");
    };
    const good = await signed("first-1", { by: fresh, deploy: true });
    // another device's key, and its deployment claiming the account: refused before any chain call
    await refuse((await signed("first-1", { by: fresh, device: SoftwareDevice.generate(), deploy: true })).body, 422, "invalid_signature", "other device", "first device");
    await refuse((await signed("first-1", { by: fresh, userVerified: false, deploy: true })).body, 422, "invalid_signature", "no UV", "user verification");
    await refuse({ ...good.body, terms: { ...good.body.terms, amount: "2000001" } }, 422, "invalid_signature", "tampered amount", "does not verify");
    await refuse({ ...good.body, signature: Wallet.createRandom().signingKey.sign(good.id).serialized }, 422, "invalid_signature", "ECDSA for a passkey account", "not a passkey assertion");
    await refuse({ ...good.body, deployment: { ...deploymentOf(fresh), salt: "7" } }, 422, "deployment_mismatch", "another salt");
    // signed well, but more than the account holds: the whole deploy-and-fund is simulated, so nothing is deployed
    await refuse((await signed("first-big", { by: fresh, amount: 6_000_000n, deploy: true })).body, 422, "simulation_failed", "over balance", "ERC20InsufficientBalance");
    expect(await relayerBalance()).to.equal(gas);
    expect(await fundedLogs()).to.equal(escrows);
    expect(await usdBalance(fresh.account)).to.equal(5_000_000n);

    // Two fundings of the undeployed account at once, and a duplicate of the first: the relayer sends them
    // one at a time; the first deploys the account, the second finds it deployed (or deploys nothing again).
    const second = await signed("first-2", { by: fresh, amount: 1_000_000n, deploy: true });
    const [r1, r2, r3] = await Promise.all([post(good.body), post(second.body), post(good.body)]);
    for (const r of [r1, r2, r3]) expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r3.body).to.deep.equal(r1.body);
    const rec1 = r1.body as RelayedCallRecordJson;
    const rec2 = r2.body as RelayedCallRecordJson;
    expect(rec1).to.include({ kind: "escrow_funding", status: "mined", account: fresh.account });
    expect(await code(fresh.account)).to.not.equal("0x");
    expect(await fundedLogs()).to.equal(escrows + 2);
    expect(await usdBalance(fresh.account)).to.equal(2_000_000n);
    for (const r of [rec1, rec2]) expect(((await call(`/v1/escrows/${r.escrowId ?? ""}`)).body as EscrowView).status).to.equal("funded");
    // The first went through PaymentRelay (it deployed the account); the second went to the escrow directly.
    const txTo = async (hash: string | null): Promise<string> => ((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getTransactionByHash", [hash])) as { to: string }).to.toLowerCase();
    expect(await txTo(rec1.txHash)).to.equal(relay.toLowerCase());
    expect(await txTo(rec2.txHash)).to.equal(escrowAddress.toLowerCase());
    // Deployed, the account keeps its first device: its later fundings (deployment sent or not) are checked by ERC-1271.
    const later = await fundEscrowViaNode(node.url, { chainId: 31337, escrow: escrowAddress, tokenName, buyer: fresh.account, terms: terms("first-3", 500_000n), now: await chainTime(), sign: deviceSigner(fresh.device), deployment: deploymentOf(fresh) });
    expect(later.status).to.equal("mined");
    expect(await usdBalance(fresh.account)).to.equal(1_500_000n);
  });

  it("keeps its records across a restart: the same authorization after it still sends nothing", async function () {
    const f = await signed("order-restart");
    const first = await post(f.body);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    const escrows = await fundedLogs();
    await node.stop();
    node = await startDevnetNode(devnet, { dataDir, relayerKey: relayerKeyOf });
    expect((await call(`/v1/escrows/fundings/${f.id}`)).body).to.deep.equal(first.body);
    const again = await post(f.body);
    expect([again.status, again.body]).to.deep.equal([200, first.body]);
    expect(await fundedLogs()).to.equal(escrows);
  });

  it("a rate-limited RPC during the simulation is 503 chain_unavailable (not simulation_failed), sends nothing, and the retry funds once", async function () {
    const proxy = await startRpcProxy(devnet.chain.rpcUrl);
    const flaky = await startDevnetNode(devnet, { rpcUrl: proxy.url, relayerKey: relayerKeyOf });
    try {
      const f = await signed("order-rate-limited");
      const escrows = await fundedLogs();
      // ethers reports a JSON-RPC error answer to eth_estimateGas as CALL_EXCEPTION, like a revert.
      proxy.rule = (methods) => (methods.includes("eth_estimateGas") ? "rpcError" : "pass");
      const postTo = (url: string) => getJson(`${url}/v1/escrows/fundings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(f.body) });
      const limited = await postTo(flaky.url);
      expect([limited.status, codeOf(limited.body)], JSON.stringify(limited.body)).to.deep.equal([503, "chain_unavailable"]);
      expect(await fundedLogs()).to.equal(escrows);
      proxy.mode = "pass";
      const retried = await postTo(flaky.url);
      expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
      expect(retried.body).to.include({ id: f.id, status: "mined" });
      expect(await fundedLogs()).to.equal(escrows + 1);
    } finally {
      await flaky.stop();
      await proxy.close();
    }
  });

  it("the SDK throws the node's code; a node without a relayer key answers 403 relayer_disabled", async function () {
    try {
      await fundEscrowViaNode(node.url, { chainId: 31337, escrow: escrowAddress, tokenName, buyer: buyer.account, terms: terms("order-6"), now: await chainTime(), sign: deviceSigner(SoftwareDevice.generate()) });
      expect.fail("expected invalid_signature");
    } catch (e) {
      expect(isOrioleError(e) && e.code).to.equal("invalid_signature");
    }
    const plain = await startDevnetNode(devnet);
    try {
      const r = await getJson(`${plain.url}/v1/escrows/fundings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify((await signed("order-7")).body) });
      expect([r.status, codeOf(r.body)]).to.deep.equal([403, "relayer_disabled"]);
    } finally {
      await plain.stop();
    }
  });
});
