import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Contract, Wallet } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { paymentProvider } from "../../client/sdk/payments.ts";
import { errorCodeOf, jsonOf, runInProcess, type CliRun } from "../client/cliHarness.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";

// Hardhat account #1, funded by the devnet.
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PIN = "offline-pin-123";
const NO_RPC = "http://127.0.0.1:9";

describe("oriole offline (CLI): reserve, code with no network, sync, accept with no network, settle", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let dir: string;
  const merchant = Wallet.createRandom();

  before(async function () {
    devnet = await startDevnet({ fund: [PAYER] });
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-offline-cli-"));
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [merchant.address, "0x56BC75E2D63100000"]);
  });

  after(async function () {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const as = (who: "payer" | "merchant", argv: readonly string[], rpc = devnet.chain.rpcUrl): Promise<CliRun> =>
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

  it("explains itself in English and Chinese", async function () {
    const en = await runInProcess(["offline", "--help"]);
    expect(en.stdout).to.include("oriole offline <reserve|code|sync|accept|list|settle>");
    const zh = await runInProcess(["offline", "code", "--help", "--lang", "zh"]);
    expect(zh.stdout).to.include("签署付款码");
  });
});
