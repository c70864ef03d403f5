import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { Contract, Wallet, type Provider } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { spawnNode, type NodeProcess } from "../helpers/nodeProcess.ts";
import { fundedRelayerKey } from "../relayer/fixtures.ts";
import { errorCodeOf, jsonOf, runProcess, type CliRun } from "../client/cliHarness.ts";
import { ACCOUNTS } from "../node/fixtures.ts";
import { ADMIN, waitForInvoice } from "./helpers.ts";
import { createMerchant } from "../helpers/merchants.ts";

// Hardhat account #1 (funded by the devnet): the EOA payer, and it funds the passkey account.
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PIN = "invoice-pin-1";
const FEE = 10_000n; // the relayer's default fee

/** The real `oriole` process: a merchant makes invoices, EOA and passkey wallets pay their URIs. */
describe("oriole CLI: invoice create/show/list, and wallets paying invoice URIs (EOA and passkey)", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: NodeProcess;
  let provider: Provider;
  let apiKey: string;
  let base: Record<string, string>;
  const oriole = (argv: readonly string[], env: Record<string, string> = {}): Promise<CliRun> => runProcess(argv, { env: { ...base, ...env } });
  const merchantEnv = (): Record<string, string> => ({ ORIOLE_API_KEY: apiKey });

  before(async function () {
    devnet = await startDevnet({ fund: [new Wallet(PAYER_KEY).address] });
    provider = devnet.connection.ethers.provider;
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    node = await spawnNode({
      args: ["--rpc", devnet.chain.rpcUrl, "--deployment", devnet.deploymentFile, "--data", path.join(devnet.dir, "node-data"), "--port", "0", "--host", "127.0.0.1", "--poll-ms", "50"],
      env: { ORIOLE_RELAYER_KEY: relayerKey, ORIOLE_ADMIN_TOKEN: ADMIN },
    });
    await node.waitForIndexed(await provider.getBlockNumber());
    apiKey = (await createMerchant(node.url, ADMIN, "CLI shop", ACCOUNTS[3])).apiKey;
    base = { ORIOLE_API_URL: node.url, ORIOLE_RPC_URL: devnet.chain.rpcUrl, ORIOLE_SCRYPT_N: "1024" };
  });

  after(async function () {
    await node.kill();
    await devnet.stop();
  });

  it("invoice create prints the URI and a terminal QR code; --json gives the invoice", async function () {
    const text = await oriole(["invoice", "create", "--amount", "2.5", "--currency", "usd", "--description", "Tea", "--expires-in", "600", "--order-id", "A-1"], merchantEnv());
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/inv_[0-9a-f]{16}\s+2\.5 USD\s+open/);
    expect(text.stdout).to.match(/Pay: ethereum:0x[0-9a-fA-F]{40}@31337\/transfer\?address=.*&uint256=2500000&reference=0x[0-9a-f]{64}/);
    expect(text.stdout).to.match(/[█▀▄]{7}/);
    const zh = await oriole(["invoice", "create", "--amount", "1", "--currency", "CNY", "--description", "茶", "--lang", "zh"], merchantEnv());
    expect(zh.stdout).to.include("待付款").and.include("付款：ethereum:");
  });

  it("refuses without an API key, with a bad expiry or status, and a wrong key (node's code)", async function () {
    expect(errorCodeOf(await oriole(["invoice", "create", "--amount", "1", "--currency", "USD", "--description", "x", "--json"]))).to.equal("api_key_missing");
    const bad = await oriole(["invoice", "create", "--amount", "1", "--currency", "USD", "--description", "x", "--expires-in", "0", "--json"], merchantEnv());
    expect(bad.code).to.equal(2);
    expect(errorCodeOf(await oriole(["invoice", "list", "--status", "done", "--json"], merchantEnv()))).to.equal("usage");
    expect(errorCodeOf(await oriole(["invoice", "show", "inv_0000000000000000", "--json"], merchantEnv()))).to.equal("invoice_not_found");
    expect(errorCodeOf(await oriole(["invoice", "list", "--json"], { ORIOLE_API_KEY: `ok_live_${"0".repeat(32)}` }))).to.equal("unauthorized");
    expect(errorCodeOf(await oriole(["invoice", "create", "--amount", "1.0000001", "--currency", "USD", "--description", "x", "--json"], merchantEnv()))).to.equal("invalid_amount");
  });

  it("takes the merchant key from --merchant-key-file like refund and report (never as an argument); help says so in en and zh", async function () {
    const keyFile = path.join(devnet.dir, "merchant-key");
    await writeFile(keyFile, `${apiKey}\n`, { mode: 0o600 });
    const listed = await oriole(["invoice", "list", "--json", "--merchant-key-file", keyFile]);
    expect(listed.code, listed.stderr + listed.stdout).to.equal(0);
    expect(jsonOf(listed).items).to.be.an("array").that.is.not.empty;
    // The file wins over the environment.
    expect((await oriole(["invoice", "list", "--json", "--merchant-key-file", keyFile], { ORIOLE_API_KEY: `ok_live_${"0".repeat(32)}` })).code).to.equal(0);
    expect(errorCodeOf(await oriole(["invoice", "list", "--json", "--merchant-key-file", path.join(devnet.dir, "no-such-file")]))).to.equal("api_key_missing");
    // The key itself on the command line would land in shell history and `ps`: not an option.
    const flagged = await oriole(["invoice", "list", "--json", "--api-key", apiKey]);
    expect([flagged.code, errorCodeOf(flagged)]).to.deep.equal([2, "usage"]);
    expect(flagged.stdout + flagged.stderr).not.to.include(apiKey);
    for (const [lang, text] of [
      ["en", "ORIOLE_API_KEY or --merchant-key-file FILE"],
      ["zh", "ORIOLE_API_KEY 或 --merchant-key-file 文件"],
    ] as const) {
      for (const cmd of [["invoice", "create"], ["invoice", "show"], ["invoice", "list"], ["refund", "create"], ["report", "daily"]]) {
        const help = await oriole([...cmd, "--help", "--lang", lang]);
        expect(help.stdout, `${cmd.join(" ")} ${lang}`).to.include(text).and.not.include("--api-key");
      }
    }
  });

  it("an EOA wallet pays the invoice URI with `oriole pay <uri>`: the invoice is paid", async function () {
    const created = jsonOf(await oriole(["invoice", "create", "--amount", "3", "--currency", "EUR", "--description", "EOA", "--json"], merchantEnv()));
    const keystore = path.join(devnet.dir, "eoa", "keystore.json");
    const imported = await oriole(["wallet", "import", "--json", "--keystore", keystore], { ORIOLE_PRIVATE_KEY: PAYER_KEY, ORIOLE_PIN: PIN });
    expect(imported.code, imported.stderr + imported.stdout).to.equal(0);
    const paid = await oriole(["pay", String(created.uri), "--json", "--keystore", keystore], { ORIOLE_PIN: PIN });
    expect(paid.code, paid.stderr + paid.stdout).to.equal(0);
    expect(jsonOf(paid).reference).to.equal(created.reference);
    await waitForInvoice(node.url, apiKey, String(created.id), (i) => i.status === "paid");
    const shown = jsonOf(await oriole(["invoice", "show", String(created.id), "--json"], merchantEnv()));
    expect(shown).to.include({ status: "paid", amountReceived: "3000000" });
  });

  it("a passkey wallet pays the invoice URI through the relayer: the invoice is paid", async function () {
    const created = jsonOf(await oriole(["invoice", "create", "--amount", "4", "--currency", "USD", "--description", "Passkey", "--json"], merchantEnv()));
    const keystore = path.join(devnet.dir, "passkey", "keystore.json");
    const made = await oriole(["wallet", "create", "--passkey", "--json", "--keystore", keystore], { ORIOLE_PIN: PIN });
    expect(made.code, made.stderr + made.stdout).to.equal(0);
    const account = String(jsonOf(made).address);
    const usd = new Contract(devnet.deployment.contracts.tokens.USD, STABLE_TOKEN_ABI, new Wallet(PAYER_KEY, provider));
    const tx = (await usd.getFunction("transfer")(account, 4_000_000n + FEE)) as { wait(): Promise<unknown> };
    await tx.wait();
    const paid = await oriole(["pay", String(created.uri), "--json", "--keystore", keystore], { ORIOLE_PIN: PIN });
    expect(paid.code, paid.stderr + paid.stdout).to.equal(0);
    await waitForInvoice(node.url, apiKey, String(created.id), (i) => i.status === "paid", 20_000);
    const list = jsonOf(await oriole(["invoice", "list", "--status", "paid", "--json"], merchantEnv()));
    expect((list.items as { description: string }[]).map((i) => i.description)).to.deep.equal(["Passkey", "EOA"]);
  });
});
