import { expect } from "chai";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Contract, type ContractTransactionResponse, Wallet, hexlify, randomBytes, type Provider } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { formatPaymentUri } from "../../client/sdk/paymentUri.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { spawnNode, type NodeProcess } from "../helpers/nodeProcess.ts";
import { fundedRelayerKey, paymentEvents } from "../relayer/fixtures.ts";
import { errorCodeOf, jsonOf, runProcess, type CliRun } from "./cliHarness.ts";

// Hardhat account #1, funded by the devnet: it funds the passkey account.
const FUNDER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PIN = "passkey-pin-1";
const FEE = 10_000n; // the relayer's default fee: 0.01

interface PayJson {
  txHash: string;
  from: string;
  to: string;
  currency: string;
  amount: string;
  amountBaseUnits: string;
  reference: string | null;
  intentId: string;
  relayerFeeBaseUnits: string;
}

/**
 * The CLI as a passkey wallet: the real `oriole` process with a software
 * P-256 device key in its encrypted keystore, paying through a real node's
 * relayer on a real hardhat node. The first payment deploys the account.
 */
describe("oriole CLI passkey wallet end to end (hardhat node + node with relayer)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let started: NodeProcess | undefined;
  let provider: Provider;
  let env: Record<string, string>;
  let relayer: string;
  let account = "";
  const merchant = Wallet.createRandom().address;

  const node = (): NodeProcess => {
    if (!started) throw new Error("the settlement node is not running");
    return started;
  };
  const oriole = (argv: readonly string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => runProcess(argv, { env: { ...env, ...extraEnv } });
  const usd = () => new Contract(devnet.deployment.contracts.tokens.USD, STABLE_TOKEN_ABI, provider);
  async function usdBalance(who: string): Promise<bigint> {
    const v: unknown = await usd().getFunction("balanceOf").staticCall(who);
    if (typeof v !== "bigint") throw new Error("balanceOf did not return a bigint");
    return v;
  }
  async function state() {
    return {
      account: await usdBalance(account),
      merchant: await usdBalance(merchant),
      relayer: await usdBalance(relayer),
      relayerNonce: await provider.getTransactionCount(relayer, "latest"),
      code: await provider.getCode(account),
    };
  }

  before(async function () {
    devnet = await startDevnet({ fund: [new Wallet(FUNDER_KEY).address] });
    provider = devnet.connection.ethers.provider;
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    relayer = new Wallet(relayerKey).address;
    started = await spawnNode({
      args: ["--rpc", devnet.chain.rpcUrl, "--deployment", devnet.deploymentFile, "--data", path.join(devnet.dir, "node-data"), "--port", "0", "--host", "127.0.0.1"],
      env: { ORIOLE_RELAYER_KEY: relayerKey },
    });
    await node().waitForIndexed(await provider.getBlockNumber());
    env = {
      ORIOLE_KEYSTORE: path.join(devnet.dir, "passkey-wallet", "keystore.json"),
      ORIOLE_API_URL: node().url,
      ORIOLE_RPC_URL: devnet.chain.rpcUrl,
      ORIOLE_SCRYPT_N: "1024", // tests only: real keystores use 2^17
    };
  });

  after(async function () {
    await started?.kill();
    await (devnet as Devnet | undefined)?.stop();
  });

  it("wallet create --passkey: a P-256 device key, encrypted; the account's counterfactual address", async function () {
    const run = await oriole(["wallet", "create", "--passkey", "--json"], { ORIOLE_PIN: PIN });
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const created = jsonOf(run) as { address: string; keyType: string; publicKey: { qx: string; qy: string }; keystore: string };
    expect(created.keyType).to.equal("p256");
    expect(created.address).to.match(/^0x[0-9a-fA-F]{40}$/);
    account = created.address;
    const factory = new Contract(devnet.deployment.contracts.accounts.factory, ["function accountAddress(bytes32,bytes32,uint256) view returns (address)"], provider);
    expect(await factory.getFunction("accountAddress").staticCall(created.publicKey.qx, created.publicKey.qy, 0n)).to.equal(account);
    expect(await provider.getCode(account)).to.equal("0x"); // not deployed until its first payment
    const file = await readFile(env.ORIOLE_KEYSTORE ?? "", "utf8");
    expect(JSON.parse(file)).to.include({ keyType: "p256", accountSalt: "0" });
    expect(file).to.not.include(PIN);

    const addr = await oriole(["wallet", "address", "--json"]);
    expect(jsonOf(addr)).to.include({ address: account, keyType: "p256" });
  });

  it("refuses to pay before the account holds the amount plus the relayer's fee (nothing signed or sent)", async function () {
    const before = await state();
    const run = await oriole(["pay", merchant, "1", "USD", "--json"], { ORIOLE_PIN: PIN });
    expect(run.code).to.equal(1);
    expect(errorCodeOf(run)).to.equal("insufficient_funds");
    expect(await state()).to.deep.equal(before);
  });

  it("pays an EIP-681 payment request with a reference; the first payment deploys the account", async function () {
    const funder = new Wallet(FUNDER_KEY, provider);
    const token = new Contract(devnet.deployment.contracts.tokens.USD, STABLE_TOKEN_ABI, funder);
    const funding = (await token.getFunction("transfer")(account, 100_000_000n)) as ContractTransactionResponse;
    await funding.wait();
    const reference = hexlify(randomBytes(32));
    const uri = formatPaymentUri({ chainId: devnet.deployment.chainId, token: devnet.deployment.contracts.tokens.USD, to: merchant, amount: 12_340_000n, reference });
    const before = await state();
    const fromBlock = await provider.getBlockNumber();

    const run = await oriole(["pay", uri, "--json"], { ORIOLE_PIN: PIN });
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const paid = jsonOf(run) as unknown as PayJson;
    expect(paid).to.include({ from: account, to: merchant, currency: "USD", amount: "12.34", amountBaseUnits: "12340000", reference, relayerFeeBaseUnits: FEE.toString() });

    const after = await state();
    expect(after.code).to.not.equal("0x");
    expect(after.merchant - before.merchant).to.equal(12_340_000n);
    expect(before.account - after.account).to.equal(12_340_000n + FEE);
    expect(after.relayer - before.relayer).to.equal(FEE);
    const events = await paymentEvents(devnet.chain.rpcUrl, devnet.deployment.contracts.tokens.USD, fromBlock + 1);
    expect(events.map((e) => ({ ref: e.ref, payer: e.payer, payee: e.payee, amount: e.amount, txHash: e.txHash }))).to.deep.equal([
      { ref: reference, payer: account, payee: merchant, amount: 12_340_000n, txHash: paid.txHash },
    ]);
  });

  it("pays again by address, amount and currency from the deployed account", async function () {
    const before = await state();
    const run = await oriole(["pay", merchant, "0.5", "usd", "--json"], { ORIOLE_PIN: PIN });
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(jsonOf(run)).to.include({ from: account, amountBaseUnits: "500000", reference: null });
    const after = await state();
    expect(after.merchant - before.merchant).to.equal(500_000n);
    expect(before.account - after.account).to.equal(500_000n + FEE);
    // The node shows the account's own history and balance.
    await node().waitForIndexed(await provider.getBlockNumber());
    const hist = await oriole(["history", "--json", "--limit", "2"]);
    const items = (jsonOf(hist) as { address: string; items: { direction: string; counterparty: string; amountBaseUnits: string }[] });
    expect(items.address).to.equal(account);
    expect(items.items.some((i) => i.direction === "out" && i.counterparty === merchant && i.amountBaseUnits === "500000")).to.equal(true);
  });

  describe("refusals exit non-zero with a stable code and change nothing", function () {
    const otherChainUri = () => formatPaymentUri({ chainId: 1, token: devnet.deployment.contracts.tokens.USD, to: merchant, amount: 1n });
    const foreignTokenUri = () => formatPaymentUri({ chainId: devnet.deployment.chainId, token: Wallet.createRandom().address, to: merchant, amount: 1n });
    const cases: { name: string; argv: () => string[]; env?: Record<string, string>; code: string }[] = [
      { name: "wrong PIN (nothing signed)", argv: () => ["pay", merchant, "1", "USD"], env: { ORIOLE_PIN: "wrong-pin-9" }, code: "wrong_pin" },
      { name: "a URI for another chain", argv: () => ["pay", otherChainUri()], code: "wrong_chain" },
      { name: "a URI for a token the network does not issue", argv: () => ["pay", foreignTokenUri()], code: "unsupported_token" },
      { name: "a malformed URI", argv: () => ["pay", "ethereum:0x12@31337/transfer?address=0x34&uint256=1"], code: "invalid_payment_uri" },
      { name: "a URI with extra arguments", argv: () => ["pay", otherChainUri(), "1", "USD"], code: "invalid_payment_uri" },
      { name: "a bad reference", argv: () => ["pay", merchant, "1", "USD", "--reference", "0x1234"], code: "invalid_reference" },
      { name: "an address without an amount", argv: () => ["pay", merchant], code: "usage" },
      { name: "more than the balance", argv: () => ["pay", merchant, "1000", "USD"], code: "insufficient_funds" },
    ];
    for (const c of cases) {
      it(c.name, async function () {
        const before = await state();
        const run = await oriole([...c.argv(), "--json"], { ORIOLE_PIN: PIN, ...c.env });
        expect(run.code, run.stdout + run.stderr).to.be.oneOf([1, 2]);
        expect(errorCodeOf(run)).to.equal(c.code);
        expect(await state()).to.deep.equal(before);
      });
    }
  });
});
