import { expect } from "chai";
import { Contract, hexlify, randomBytes, toQuantity, Wallet, type JsonRpcProvider } from "ethers";
import { deviceSigner, signForAccount } from "../../client/sdk/account/erc1271.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { isOrioleError } from "../../client/sdk/errors.ts";
import { readTokenDomainName } from "../../client/sdk/escrow/state.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { hashWithdrawalRequest, readReserve, readWithdrawalNonce, requestWithdrawalViaNode, reserveAuthorization, reserveViaNode } from "../../client/sdk/offline/payer.ts";
import { OFFLINE_VAULT_ABI } from "../../client/sdk/offline/vault.ts";
import { paymentProvider } from "../../client/sdk/payments.ts";
import { completeWithdrawalViaNode, getRelayedCall, type RelayedCallRecordJson } from "../../client/sdk/relayedCalls.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { escrowRelayerKey } from "../../node/src/escrow/escrowService.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { fundedRelayerKey, passkeyWallet, type PasskeyWallet } from "../relayer/fixtures.ts";

const FUNDER = ACCOUNTS[0];
const USD = 1_000_000n;

interface ErrorBody {
  error: { code: string; message: string };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;

/**
 * The offline vault's relayed calls on a real chain: a passkey payer (ERC-1271)
 * reserves an offline allowance through the node, asks for part of it back
 * with a signed WithdrawalRequest, and the node completes the withdrawal once
 * the vault's delay has passed (evm_increaseTime); every duplicate returns
 * the first record, and each refusal is a 4xx that spends nothing.
 */
describe("offline API: POST /v1/offline/reservations, /v1/offline/withdrawals, /v1/offline/withdrawals/complete", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let provider: JsonRpcProvider;
  let node: RunningNode;
  let vault: string;
  let usd: string;
  let tokenName: string;
  let relayerAddress: string;
  let delay: bigint;
  let payer: PasskeyWallet;

  const call = (p: string, init: RequestInit = {}) => getJson(`${node.url}${p}`, init);
  const post = (p: string, body: unknown) => call(p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const chainTime = async (): Promise<bigint> => BigInt(((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string }).timestamp);
  const relayerBalance = async (): Promise<bigint> => BigInt((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBalance", [relayerAddress, "latest"])) as string);
  const usdBalance = async (who: string): Promise<bigint> => (await new Contract(usd, STABLE_TOKEN_ABI, provider).getFunction("balanceOf")(who)) as bigint;
  const reserveOf = async (who: string) => readReserve(provider, vault, who, usd);
  const expect4xx = async (p: string, body: unknown, status: number, code: string, what: string) => {
    const r = await post(p, body);
    expect([r.status, codeOf(r.body)], `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).to.deep.equal([status, code]);
  };

  /** A reserve authorization body signed by `device` (default the payer's). */
  const reserveBody = async (p: { amount: bigint; device?: SoftwareDevice; validBefore?: bigint; validAfter?: bigint; nonce?: string; userVerified?: boolean }) => {
    const auth = reserveAuthorization({ chainId: 31337, account: payer.account, vault, token: usd, tokenName, amount: p.amount, validAfter: p.validAfter ?? 0n, validBefore: p.validBefore ?? (await chainTime()) + 3600n, nonce: p.nonce ?? hexlify(randomBytes(32)) });
    const signature = await signForAccount(deviceSigner(p.device ?? payer.device, { userVerified: p.userVerified ?? true }), 31337, payer.account, auth.digest);
    const m = auth.message;
    return { id: auth.digest, body: { from: m.from, token: usd, amount: m.value.toString(), validAfter: m.validAfter.toString(), validBefore: m.validBefore.toString(), nonce: m.nonce, signature } };
  };

  /** A withdrawal request body signed by `device` (default the payer's) with `nonce` (default the vault's current one). */
  const withdrawalBody = async (p: { amount: bigint; nonce?: bigint; deadline?: bigint; device?: SoftwareDevice }) => {
    const r = { payer: payer.account, token: usd, amount: p.amount, nonce: p.nonce ?? (await readWithdrawalNonce(provider, vault, payer.account)), deadline: p.deadline ?? (await chainTime()) + 600n };
    const digest = hashWithdrawalRequest(31337, vault, r);
    const signature = await signForAccount(deviceSigner(p.device ?? payer.device), 31337, payer.account, digest);
    return { id: digest, body: { payer: r.payer, token: usd, amount: r.amount.toString(), nonce: r.nonce.toString(), deadline: r.deadline.toString(), signature } };
  };

  before(async function () {
    devnet = await startDevnet({ fund: [FUNDER] });
    provider = paymentProvider(devnet.chain.rpcUrl, devnet.deployment.chainId);
    vault = devnet.deployment.contracts.offlineVault;
    usd = devnet.deployment.contracts.tokens.USD;
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    relayerAddress = new Wallet(escrowRelayerKey(relayerKey)).address;
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [relayerAddress, toQuantity(10n ** 20n)]);
    node = await startDevnetNode(devnet, { relayerKey });
    const { ethers } = devnet.connection;
    tokenName = await readTokenDomainName(provider, usd);
    delay = (await new Contract(vault, OFFLINE_VAULT_ABI, provider).getFunction("WITHDRAWAL_DELAY")()) as bigint;
    payer = passkeyWallet(devnet.deployment);
    const [admin] = await ethers.getSigners();
    const factory = await ethers.getContractAt("PasskeyAccountFactory", devnet.deployment.contracts.accounts.factory, admin);
    await (await factory.getFunction("createAccount")(payer.device.publicKey.qx, payer.device.publicKey.qy, payer.salt)).wait();
    const token = await ethers.getContractAt("StableToken", usd, await ethers.getSigner(FUNDER));
    await (await token.getFunction("transfer")(payer.account, 100n * USD)).wait();
  });

  after(async function () {
    provider.destroy();
    await node.stop();
    await devnet.stop();
  });

  it("reserves, requests a withdrawal and completes it after the delay, all relayed; duplicates return the first record", async function () {
    // reserve (SDK), then the same body twice more: one reserve
    const record = await reserveViaNode(node.url, { chainId: 31337, vault, account: payer.account, token: usd, tokenName, amount: 50n * USD, sign: deviceSigner(payer.device), now: await chainTime() });
    expect(record).to.include({ kind: "offline_reserve", status: "mined", account: payer.account, amount: 50n * USD });
    expect(await reserveOf(payer.account)).to.deep.include({ balance: 50n * USD, pendingWithdrawal: 0n });
    const second = await reserveBody({ amount: 10n * USD });
    const [a, b] = await Promise.all([post("/v1/offline/reservations", second.body), post("/v1/offline/reservations", second.body)]);
    expect([a.status, b.status], JSON.stringify(a.body)).to.deep.equal([200, 200]);
    expect(a.body).to.deep.equal(b.body);
    expect((a.body as RelayedCallRecordJson).id).to.equal(second.id.toLowerCase());
    expect((await reserveOf(payer.account)).balance).to.equal(60n * USD);
    expect(await usdBalance(payer.account)).to.equal(40n * USD);
    expect((await call(`/v1/offline/reservations/${second.id}`)).body).to.deep.equal(a.body);
    // what a wallet without an RPC reads before signing a withdrawal request
    const reserves = await call(`/v1/offline/reserves/${payer.account}`);
    expect(reserves.status).to.equal(200);
    expect(reserves.body).to.deep.include({ payer: payer.account, vault, withdrawalNonce: "0" });
    expect((reserves.body as { reserves: Record<string, unknown> }).reserves.USD).to.deep.equal({ token: usd, balance: "60000000", debt: "0", pendingWithdrawal: "0", unlockAt: "0" });
    expect(codeOf((await call("/v1/offline/reserves/0x12")).body)).to.equal("invalid_address");

    // a signed withdrawal request (SDK); replaying its body returns the same record and sends nothing
    const { record: asked, reserve } = await requestWithdrawalViaNode(node.url, { chainId: 31337, payer: payer.account, currency: "USD", amount: 25n * USD, sign: deviceSigner(payer.device) });
    expect(asked).to.include({ kind: "offline_withdrawal_request", status: "mined", amount: 25n * USD });
    expect(reserve.pendingWithdrawal).to.equal(25n * USD);
    const unlockAt = reserve.unlockAt;
    expect(unlockAt).to.be.greaterThan(0n);
    const replayed = await withdrawalBody({ amount: 25n * USD, nonce: 0n, deadline: (await chainTime()) + 7200n });
    expect(replayed.id).to.not.equal(asked.id);
    await expect4xx("/v1/offline/withdrawals", replayed.body, 409, "nonce_used", "an older nonce");
    expect(await readWithdrawalNonce(provider, vault, payer.account)).to.equal(1n);

    // before the delay: locked; the payer's money stays in the vault
    await expect4xx("/v1/offline/withdrawals/complete", { payer: payer.account, token: usd }, 422, "withdrawal_locked", "locked");
    await jsonRpcRequest(devnet.chain.rpcUrl, "evm_increaseTime", [Number(delay)]);
    await jsonRpcRequest(devnet.chain.rpcUrl, "evm_mine", []);
    const done = await completeWithdrawalViaNode(node.url, { payer: payer.account, token: usd });
    expect(done).to.include({ kind: "offline_withdrawal", status: "mined", amount: 25n * USD });
    expect(await usdBalance(payer.account)).to.equal(65n * USD);
    expect(await reserveOf(payer.account)).to.deep.include({ balance: 35n * USD, pendingWithdrawal: 0n, unlockAt: 0n });
    // asked again (and concurrently): the same completion, no second transfer
    const again = await Promise.all([post("/v1/offline/withdrawals/complete", { payer: payer.account, token: usd }), completeWithdrawalViaNode(node.url, { payer: payer.account, token: usd })]);
    expect(again[0].status).to.equal(200);
    expect((again[0].body as RelayedCallRecordJson).txHash).to.equal(done.txHash);
    expect(again[1].txHash).to.equal(done.txHash);
    expect(await usdBalance(payer.account)).to.equal(65n * USD);
    expect((await getRelayedCall(node.url, "offline_withdrawal", done.id)).txHash).to.equal(done.txHash);
  });

  it("refuses bad signatures, expired or replayed authorizations, wrong nonces, foreign tokens and malformed bodies with 4xx, changing nothing", async function () {
    const gas = await relayerBalance();
    const before = await reserveOf(payer.account);
    const held = await usdBalance(payer.account);
    const now = await chainTime();
    // reserve
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: USD, device: SoftwareDevice.generate() })).body, 422, "invalid_signature", "other device");
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: USD, userVerified: false })).body, 422, "invalid_signature", "no UV");
    const good = await reserveBody({ amount: USD });
    await expect4xx("/v1/offline/reservations", { ...good.body, amount: "2000000" }, 422, "invalid_signature", "tampered amount");
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: USD, validBefore: now - 1n })).body, 422, "authorization_expired", "expired");
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: USD, validAfter: now + 3600n, validBefore: now + 7200n })).body, 422, "authorization_not_yet_valid", "not yet valid");
    expect((await call(`/v1/offline/reservations/${good.id}`)).status).to.equal(404);
    await expect4xx("/v1/offline/reservations", { ...good.body, token: vault }, 400, "unsupported_token", "foreign token");
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: 1000n * USD })).body, 422, "simulation_failed", "over balance");
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: 0n })).body, 400, "invalid_amount", "zero");
    for (const [body, code] of [
      [{}, "invalid_request"],
      [{ ...good.body, extra: 1 }, "unknown_field"],
      [{ ...good.body, nonce: "0x12" }, "invalid_request"],
      [{ ...good.body, from: "0x12" }, "invalid_request"],
      [{ ...good.body, amount: 1 }, "invalid_request"],
      [{ ...good.body, signature: "zz" }, "invalid_request"],
    ] as [unknown, string][]) {
      await expect4xx("/v1/offline/reservations", body, 400, code, JSON.stringify(body).slice(0, 80));
    }
    // withdrawal requests
    await expect4xx("/v1/offline/withdrawals", (await withdrawalBody({ amount: USD, device: SoftwareDevice.generate() })).body, 422, "invalid_signature", "wrong signer");
    await expect4xx("/v1/offline/withdrawals", (await withdrawalBody({ amount: USD, deadline: now - 1n })).body, 422, "request_expired", "expired");
    await expect4xx("/v1/offline/withdrawals", (await withdrawalBody({ amount: USD, nonce: 0n })).body, 409, "nonce_used", "replayed nonce");
    await expect4xx("/v1/offline/withdrawals", (await withdrawalBody({ amount: USD, nonce: 7n })).body, 422, "invalid_nonce", "nonce ahead");
    const w = await withdrawalBody({ amount: USD });
    await expect4xx("/v1/offline/withdrawals", { ...w.body, amount: "5" }, 422, "invalid_signature", "tampered amount");
    await expect4xx("/v1/offline/withdrawals", { ...w.body, token: vault }, 400, "unsupported_token", "foreign token");
    await expect4xx("/v1/offline/withdrawals", { ...w.body, deadline: "-1" }, 400, "invalid_request", "negative deadline");
    await expect4xx("/v1/offline/withdrawals", { ...w.body, extra: true }, 400, "unknown_field", "extra field");
    // completions
    await expect4xx("/v1/offline/withdrawals/complete", { payer: ACCOUNTS[4], token: usd }, 409, "no_withdrawal", "nothing pending");
    await expect4xx("/v1/offline/withdrawals/complete", { payer: payer.account }, 400, "invalid_request", "no token");
    await expect4xx("/v1/offline/withdrawals/complete", { payer: payer.account, token: vault }, 400, "unsupported_token", "foreign token");
    // lookups
    expect([(await call(`/v1/offline/withdrawals/0x${"00".repeat(32)}`)).status]).to.deep.equal([404]);
    expect(codeOf((await call("/v1/offline/withdrawals/0x12")).body)).to.equal("invalid_call_id");
    expect(codeOf((await call(`/v1/offline/withdrawals/${good.id}`)).body)).to.equal("withdrawal_not_found");
    expect(await relayerBalance()).to.equal(gas);
    expect(await reserveOf(payer.account)).to.deep.equal(before);
    expect(await usdBalance(payer.account)).to.equal(held);
    // the good ones still go through: nothing above used their nonces
    expect((await post("/v1/offline/reservations", good.body)).status).to.equal(200);
    // its nonce again under another validity (another digest): a replay of the authorization's nonce
    await expect4xx("/v1/offline/reservations", (await reserveBody({ amount: USD, nonce: good.body.nonce, validBefore: BigInt(good.body.validBefore) + 1n })).body, 409, "nonce_used", "replayed nonce");
    expect((await post("/v1/offline/withdrawals", w.body)).status).to.equal(200);
    expect((await reserveOf(payer.account)).pendingWithdrawal).to.equal(USD);
  });

  it("a passkey payer never deployed reserves as its first action: the node deploys it in the same transaction; refusals deploy nothing", async function () {
    const fresh = passkeyWallet(devnet.deployment);
    const deployment = { qx: fresh.device.publicKey.qx, qy: fresh.device.publicKey.qy, salt: fresh.salt };
    const code = async (): Promise<string> => (await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getCode", [fresh.account, "latest"])) as string;
    const { ethers } = devnet.connection;
    const token = await ethers.getContractAt("StableToken", usd, await ethers.getSigner(FUNDER));
    await (await token.getFunction("transfer")(fresh.account, 20n * USD)).wait();
    const body = async (p: { amount: bigint; device?: SoftwareDevice; userVerified?: boolean }) => {
      const auth = reserveAuthorization({ chainId: 31337, account: fresh.account, vault, token: usd, tokenName, amount: p.amount, validAfter: 0n, validBefore: (await chainTime()) + 3600n, nonce: hexlify(randomBytes(32)) });
      const signature = await signForAccount(deviceSigner(p.device ?? fresh.device, { userVerified: p.userVerified ?? true }), 31337, fresh.account, auth.digest);
      const m = auth.message;
      return { from: m.from, token: usd, amount: m.value.toString(), validAfter: m.validAfter.toString(), validBefore: m.validBefore.toString(), nonce: m.nonce, signature, deployment: { qx: deployment.qx, qy: deployment.qy, salt: "0" } };
    };
    const gas = await relayerBalance();
    const ok = await body({ amount: 5n * USD });
    await expect4xx("/v1/offline/reservations", { ...ok, deployment: undefined }, 422, "account_not_deployed", "no deployment");
    await expect4xx("/v1/offline/reservations", await body({ amount: 5n * USD, device: SoftwareDevice.generate() }), 422, "invalid_signature", "other device");
    await expect4xx("/v1/offline/reservations", await body({ amount: 5n * USD, userVerified: false }), 422, "invalid_signature", "no UV");
    await expect4xx("/v1/offline/reservations", { ...ok, deployment: { ...ok.deployment, salt: "1" } }, 422, "deployment_mismatch", "other salt");
    await expect4xx("/v1/offline/reservations", await body({ amount: 30n * USD }), 422, "simulation_failed", "over balance");
    expect(await code()).to.equal("0x");
    expect(await relayerBalance()).to.equal(gas);

    // The SDK's reserve with the deployment: deployed and reserved in one transaction.
    const record = await reserveViaNode(node.url, { chainId: 31337, vault, account: fresh.account, token: usd, tokenName, amount: 5n * USD, sign: deviceSigner(fresh.device), now: await chainTime(), deployment });
    expect(record).to.include({ kind: "offline_reserve", status: "mined", account: fresh.account });
    expect(await code()).to.not.equal("0x");
    expect((await readReserve(provider, vault, fresh.account, usd)).balance).to.equal(5n * USD);
    expect(await usdBalance(fresh.account)).to.equal(15n * USD);
    // The earlier body (signed before the deployment) now goes straight to the vault.
    const again = await post("/v1/offline/reservations", ok);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect((await readReserve(provider, vault, fresh.account, usd)).balance).to.equal(10n * USD);
  });

  it("the SDK refuses a withdrawal beyond the reserve before signing, and throws the node's codes", async function () {
    let signed = false;
    const sign = (c: string) => {
      signed = true;
      return deviceSigner(payer.device)(c);
    };
    for (const [run, code] of [
      [() => requestWithdrawalViaNode(node.url, { chainId: 31337, payer: payer.account, currency: "USD", amount: 10_000n * USD, sign }), "withdrawal_exceeds_reserve"],
      [() => completeWithdrawalViaNode(node.url, { payer: payer.account, token: usd }), "withdrawal_locked"],
      [async () => reserveViaNode(node.url, { chainId: 31337, vault, account: payer.account, token: usd, tokenName, amount: USD, sign: deviceSigner(SoftwareDevice.generate()), now: await chainTime() }), "invalid_signature"],
    ] as [() => Promise<unknown>, string][]) {
      try {
        await run();
        expect.fail(`expected ${code}`);
      } catch (e) {
        expect(isOrioleError(e) && e.code).to.equal(code);
      }
    }
    expect(signed).to.equal(false);
  });
});
