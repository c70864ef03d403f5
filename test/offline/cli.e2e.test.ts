import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Contract, type ContractRunner, toQuantity, Wallet } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { OFFLINE_VAULT_ABI } from "../../client/sdk/offline/vault.ts";
import { paymentProvider, tokenBalance } from "../../client/sdk/payments.ts";
import { errorCodeOf, jsonOf, runInProcess, type CliRun } from "../client/cliHarness.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { readKeystore } from "../../client/sdk/keystore.ts";
import { startNode } from "../../node/src/app.ts";
import { configWith } from "../../node/src/config.ts";
import { escrowRelayerKey } from "../../node/src/escrow/escrowService.ts";
import { silentLogger } from "../../node/src/log.ts";
import { fundedRelayerKey } from "../relayer/fixtures.ts";

// Hardhat account #1, funded by the devnet.
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
// Hardhat account #2, funded by the devnet: withdraws.
const SAVER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const SAVER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const PIN = "offline-pin-123";
const NO_RPC = "http://127.0.0.1:9";

describe("oriole offline (CLI): reserve, code with no network, sync, accept with no network, settle", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let dir: string;
  const merchant = Wallet.createRandom();

  before(async function () {
    devnet = await startDevnet({ fund: [PAYER, SAVER] });
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-offline-cli-"));
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [merchant.address, "0x56BC75E2D63100000"]);
  });

  after(async function () {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const as = (who: "payer" | "merchant" | "saver", argv: readonly string[], rpc = devnet.chain.rpcUrl): Promise<CliRun> =>
    runInProcess([...argv, "--json"], {
      env: { ORIOLE_KEYSTORE: path.join(dir, who, "keystore.json"), ORIOLE_PIN: PIN, ORIOLE_SCRYPT_N: "1024", ORIOLE_RPC_URL: rpc, ORIOLE_API_URL: "http://127.0.0.1:9" },
    });

  it("pays a merchant offline end to end", async function () {
    expect((await runInProcess(["wallet", "import", "--json"], { env: { ORIOLE_KEYSTORE: path.join(dir, "payer", "keystore.json"), ORIOLE_PIN: PIN, ORIOLE_SCRYPT_N: "1024", ORIOLE_PRIVATE_KEY: PAYER_KEY } })).code).to.equal(0);
    expect((await runInProcess(["wallet", "import", "--json"], { env: { ORIOLE_KEYSTORE: path.join(dir, "merchant", "keystore.json"), ORIOLE_PIN: PIN, ORIOLE_SCRYPT_N: "1024", ORIOLE_PRIVATE_KEY: merchant.privateKey } })).code).to.equal(0);
    const deployment = ["--deployment", devnet.deploymentFile];

    // before any sync, the offline commands say what to do
    expect(errorCodeOf(await as("payer", ["offline", "code", merchant.address, "1", "USD"], NO_RPC))).to.equal("offline_not_synced");

    const reserved = await as("payer", ["offline", "reserve", "50", "USD", ...deployment]);
    expect(reserved.code, reserved.stdout).to.equal(0);
    expect(jsonOf(reserved)).to.include({ currency: "USD", amount: "50" });
    const synced = await as("merchant", ["offline", "sync", ...deployment]);
    expect(synced.code, synced.stdout).to.equal(0);
    expect(jsonOf(synced)).to.include({ payers: 1, defaulted: 0 });

    // offline from here: no chain is reachable
    const made = await as("payer", ["offline", "code", merchant.address, "12.5", "USD"], NO_RPC);
    expect(made.code, made.stdout).to.equal(0);
    const code = jsonOf(made).code as string;
    expect(code).to.match(/^oriole-offline:/);
    // for people: the code's text and a terminal QR code of it
    const shown = await runInProcess(["offline", "code", merchant.address, "1", "USD"], { env: { ORIOLE_KEYSTORE: path.join(dir, "payer", "keystore.json"), ORIOLE_PIN: PIN, ORIOLE_SCRYPT_N: "1024", ORIOLE_RPC_URL: NO_RPC } });
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/oriole-offline:[A-Za-z0-9_-]+\n/);
    expect(shown.stdout.split("\n").filter((l) => /[▀▄█]/.test(l)).length).to.be.above(20);
    const accepted = await as("merchant", ["offline", "accept", code], NO_RPC);
    expect(accepted.code, accepted.stdout).to.equal(0);
    expect(jsonOf(accepted)).to.include({ status: "accepted", amount: "12500000", payer: PAYER });
    expect(errorCodeOf(await as("merchant", ["offline", "accept", code], NO_RPC))).to.equal("offline_duplicate");
    expect(errorCodeOf(await as("merchant", ["offline", "accept", "oriole-offline:AAAA"], NO_RPC))).to.equal("invalid_offline_code");
    const tooMuch = jsonOf(await as("payer", ["offline", "code", merchant.address, "40", "USD"], NO_RPC)).code as string;
    expect(errorCodeOf(await as("merchant", ["offline", "accept", tooMuch], NO_RPC))).to.equal("offline_allowance_exceeded");
    expect(errorCodeOf(await as("payer", ["offline", "code", merchant.address, "1", "USD", "--valid-for", "999999"], NO_RPC))).to.equal("invalid_validity");
    const listed = jsonOf(await as("merchant", ["offline", "list"], NO_RPC)).items as { status: string }[];
    expect(listed.map((r) => r.status)).to.deep.equal(["accepted"]);
    expect(errorCodeOf(await as("merchant", ["offline", "settle"], NO_RPC))).to.equal("rpc_unreachable");

    // online again
    const settled = await as("merchant", ["offline", "settle"]);
    expect(settled.code, settled.stdout).to.equal(0);
    const out = jsonOf(settled) as { txHashes: string[]; outcomes: { status: string; paid: string }[] };
    expect(out.txHashes).to.have.length(1);
    expect(out.outcomes).to.deep.include.members([{ ...out.outcomes[0], status: "settled", paid: "12500000" }]);
    const provider = paymentProvider(devnet.chain.rpcUrl, devnet.deployment.chainId);
    try {
      const token = new Contract(devnet.deployment.contracts.tokens.USD, STABLE_TOKEN_ABI, provider);
      expect(await token.getFunction("balanceOf")(merchant.address)).to.equal(12_500_000n);
    } finally {
      provider.destroy();
    }
  });

  it("withdraws an EOA's allowance: a request, then completion only after the vault's delay", async function () {
    const env = { ORIOLE_KEYSTORE: path.join(dir, "saver", "keystore.json"), ORIOLE_PIN: PIN, ORIOLE_SCRYPT_N: "1024", ORIOLE_PRIVATE_KEY: SAVER_KEY };
    expect((await runInProcess(["wallet", "import", "--json"], { env })).code).to.equal(0);
    const deployment = ["--deployment", devnet.deploymentFile];
    const { offlineVault: vault, tokens } = devnet.deployment.contracts;
    const provider = paymentProvider(devnet.chain.rpcUrl, devnet.deployment.chainId);
    const reserveOf = async (runner: ContractRunner) => (await new Contract(vault, OFFLINE_VAULT_ABI, runner).getFunction("reserveOf")(SAVER, tokens.USD)) as bigint[];
    const chainNow = async () => BigInt((await provider.getBlock("latest"))?.timestamp ?? 0);
    try {
      expect((await as("saver", ["offline", "reserve", "20", "USD", ...deployment])).code).to.equal(0);
      const start = await tokenBalance(provider, tokens.USD, SAVER);

      // refusals before anything is requested, and usage errors
      expect(errorCodeOf(await as("saver", ["offline", "withdraw", "--complete", "USD", ...deployment]))).to.equal("no_withdrawal");
      const tooMuch = await as("saver", ["offline", "withdraw", "20.000001", "USD", ...deployment]);
      expect(errorCodeOf(tooMuch)).to.equal("withdrawal_exceeds_reserve");
      expect(jsonOf(tooMuch)).to.deep.include({ error: { code: "withdrawal_exceeds_reserve", message: "only 20000000 base units are reserved" } });
      expect(errorCodeOf(await as("saver", ["offline", "withdraw", "0", "USD", ...deployment]))).to.equal("invalid_amount");
      expect(errorCodeOf(await as("saver", ["offline", "withdraw", "5", "XYZ", ...deployment]))).to.equal("unknown_currency");
      for (const argv of [["offline", "withdraw", "5"], ["offline", "withdraw", "--complete", "5", "USD"]]) {
        const r = await as("saver", argv);
        expect(r.code, argv.join(" ")).to.equal(2);
        expect(errorCodeOf(r)).to.equal("usage");
      }
      expect(await reserveOf(provider)).to.deep.equal([20_000_000n, 0n, 0n, 0n]);

      // a request: the allowance stays reserved (merchants may hold codes on it) until the delay has passed
      const asked = await as("saver", ["offline", "withdraw", "8", "USD", ...deployment]);
      expect(asked.code, asked.stdout).to.equal(0);
      const requestedAt = await chainNow();
      const unlockAt = requestedAt + 604_800n;
      expect(jsonOf(asked)).to.include({ currency: "USD", amount: "8", reserved: "20", unlockAt: new Date(Number(unlockAt) * 1000).toISOString() });
      expect(await reserveOf(provider)).to.deep.equal([20_000_000n, 0n, 8_000_000n, unlockAt]);
      await jsonRpcRequest(devnet.chain.rpcUrl, "evm_increaseTime", [604_800 - 60]);
      await jsonRpcRequest(devnet.chain.rpcUrl, "evm_mine", []);
      const locked = await as("saver", ["offline", "withdraw", "--complete", "USD", ...deployment]);
      expect(errorCodeOf(locked)).to.equal("withdrawal_locked");
      expect(await tokenBalance(provider, tokens.USD, SAVER)).to.equal(start);

      // after the delay: the requested amount comes back, the rest stays reserved
      await jsonRpcRequest(devnet.chain.rpcUrl, "evm_increaseTime", [60]);
      await jsonRpcRequest(devnet.chain.rpcUrl, "evm_mine", []);
      const done = await runInProcess(["offline", "withdraw", "--complete", "USD", ...deployment, "--lang", "zh"], { env: { ...env, ORIOLE_RPC_URL: devnet.chain.rpcUrl } });
      expect(done.code, done.stderr).to.equal(0);
      expect(done.stdout).to.include("已从离线额度取回 8 USD");
      expect(await tokenBalance(provider, tokens.USD, SAVER)).to.equal(start + 8_000_000n);
      expect(await reserveOf(provider)).to.deep.equal([12_000_000n, 0n, 0n, 0n]);
      expect(errorCodeOf(await as("saver", ["offline", "withdraw", "--complete", "USD", ...deployment]))).to.equal("no_withdrawal");

    } finally {
      provider.destroy();
    }
  });

  it("a passkey wallet reserves, asks for a withdrawal and completes it through the node (it signs, the node sends)", async function () {
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [new Wallet(escrowRelayerKey(relayerKey)).address, toQuantity(10n ** 20n)]);
    const node = await startNode(configWith({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, dataDir: path.join(dir, "passkey-node"), pollMs: 20, relayerKey }), { log: silentLogger });
    const provider = paymentProvider(devnet.chain.rpcUrl, devnet.deployment.chainId);
    const env = { ORIOLE_KEYSTORE: path.join(dir, "passkey", "keystore.json"), ORIOLE_PIN: PIN, ORIOLE_SCRYPT_N: "1024", ORIOLE_RPC_URL: devnet.chain.rpcUrl, ORIOLE_API_URL: node.url };
    const run = (argv: readonly string[]) => runInProcess([...argv, "--json"], { env });
    const deployment = ["--deployment", devnet.deploymentFile];
    const { offlineVault: vault, tokens } = devnet.deployment.contracts;
    try {
      const created = await run(["wallet", "create", "--passkey"]);
      expect(created.code, created.stdout + created.stderr).to.equal(0);
      const account = (jsonOf(created) as { address: string }).address;
      // Deployed and funded here (its first payment would deploy it): ERC-1271 needs code.
      const ks = await readKeystore(env.ORIOLE_KEYSTORE);
      if (ks.keyType !== "p256") throw new Error("expected a passkey keystore");
      const { ethers } = devnet.connection;
      const factory = await ethers.getContractAt("PasskeyAccountFactory", devnet.deployment.contracts.accounts.factory, await ethers.getSigner(SAVER));
      await (await factory.getFunction("createAccount")(ks.publicKey.qx, ks.publicKey.qy, BigInt(ks.accountSalt))).wait();
      await (await (await ethers.getContractAt("StableToken", tokens.USD, await ethers.getSigner(SAVER))).getFunction("transfer")(account, 30_000_000n)).wait();
      const reserveOf = async () => (await new Contract(vault, OFFLINE_VAULT_ABI, provider).getFunction("reserveOf")(account, tokens.USD)) as bigint[];

      const reserved = await run(["offline", "reserve", "20", "USD", ...deployment]);
      expect(reserved.code, reserved.stdout + reserved.stderr).to.equal(0);
      expect(jsonOf(reserved)).to.include({ account, currency: "USD", amount: "20", relayed: true, status: "mined" });
      expect(await reserveOf()).to.deep.equal([20_000_000n, 0n, 0n, 0n]);
      // A code signed by the passkey's device with no network; a wrong PIN spends no nonce.
      const code1 = await runInProcess(["offline", "code", SAVER, "1", "USD", "--json"], { env: { ...env, ORIOLE_RPC_URL: NO_RPC, ORIOLE_API_URL: NO_RPC } });
      expect(code1.code, code1.stdout + code1.stderr).to.equal(0);
      expect(jsonOf(code1)).to.include({ payer: account, merchant: SAVER, currency: "USD", amount: "1" });
      expect(errorCodeOf(await runInProcess(["offline", "code", SAVER, "1", "USD", "--json"], { env: { ...env, ORIOLE_PIN: "not-the-pin" } }))).to.equal("wrong_pin");
      const code2 = await run(["offline", "code", SAVER, "1", "USD"]);
      expect(BigInt((jsonOf(code2) as { nonce: string }).nonce)).to.equal(BigInt((jsonOf(code1) as { nonce: string }).nonce) + 1n);
      expect(errorCodeOf(await run(["offline", "withdraw", "--complete", "USD", ...deployment]))).to.equal("no_withdrawal");
      expect(errorCodeOf(await run(["offline", "withdraw", "21", "USD", ...deployment]))).to.equal("withdrawal_exceeds_reserve");

      const asked = await run(["offline", "withdraw", "5", "USD", ...deployment]);
      expect(asked.code, asked.stdout + asked.stderr).to.equal(0);
      expect(jsonOf(asked)).to.include({ currency: "USD", amount: "5", reserved: "20", relayed: true, status: "mined" });
      const [, , pending, unlockAt] = await reserveOf();
      expect(pending).to.equal(5_000_000n);
      expect(errorCodeOf(await run(["offline", "withdraw", "--complete", "USD", ...deployment]))).to.equal("withdrawal_locked");
      await jsonRpcRequest(devnet.chain.rpcUrl, "evm_increaseTime", [604_800]);
      await jsonRpcRequest(devnet.chain.rpcUrl, "evm_mine", []);
      expect(BigInt((await provider.getBlock("latest"))?.timestamp ?? 0)).to.be.at.least(unlockAt ?? 0n);
      const done = await runInProcess(["offline", "withdraw", "--complete", "USD", ...deployment, "--lang", "zh"], { env });
      expect(done.code, done.stdout + done.stderr).to.equal(0);
      expect(done.stdout).to.include("已从离线额度取回 5 USD");
      expect(await tokenBalance(provider, tokens.USD, account)).to.equal(15_000_000n);
      expect(await reserveOf()).to.deep.equal([15_000_000n, 0n, 0n, 0n]);
      // completed already: the node answers with the same completion, nothing moves
      const again = await run(["offline", "withdraw", "--complete", "USD", ...deployment]);
      expect(again.code, again.stdout).to.equal(0);
      expect(await tokenBalance(provider, tokens.USD, account)).to.equal(15_000_000n);
    } finally {
      provider.destroy();
      await node.stop();
    }
  });

  it("explains itself in English and Chinese", async function () {
    const en = await runInProcess(["offline", "--help"]);
    expect(en.stdout).to.include("oriole offline <reserve|code|withdraw|sync|accept|list|settle>");
    expect((await runInProcess(["offline", "withdraw", "--help"])).stdout).to.include("oriole offline withdraw --complete <currency>");
    expect((await runInProcess(["offline", "withdraw", "--help", "--lang", "zh"])).stdout).to.include("申请取回");
    const zh = await runInProcess(["offline", "code", "--help", "--lang", "zh"]);
    expect(zh.stdout).to.include("签署付款码");
  });
});
