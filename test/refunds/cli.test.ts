import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { id, toQuantity, Wallet } from "ethers";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { readKeystore } from "../../client/sdk/keystore.ts";
import { escrowId as escrowIdOf } from "../../client/sdk/escrow/actions.ts";
import { escrowRelayerKey } from "../../node/src/escrow/escrowService.ts";
import { fundedRelayerKey } from "../relayer/fixtures.ts";
import { sendPayment } from "../../client/sdk/payments.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { errorCodeOf, jsonOf, runInProcess } from "../client/cliHarness.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { createMerchant } from "../helpers/merchants.ts";

const ADMIN = "refunds-cli-admin-token-0123456789";
const PIN = "cli-test-pin";
/** Hardhat's dev accounts 1 (the payer / buyer) and 3 (the merchant's payout). */
const PAYER = ACCOUNTS[0];
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PAYOUT = ACCOUNTS[2];
const PAYOUT_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

/** The CLI's refund, report and escrow command groups, in-process, against a real chain and node. */
describe("cli: oriole refund, report and escrow", function () {
  this.timeout(240_000);
  let devnet: Devnet;
  let dir: string;
  let node: RunningNode;
  let merchantKeyFile: string;
  let env: Record<string, string>;
  const as = (who: "payer" | "payout") => ({ ...env, ORIOLE_KEYSTORE: path.join(dir, `${who}.json`) });
  const oriole = (argv: string[], extra: Record<string, string>) => runInProcess([...argv, "--json"], { env: extra });

  before(async function () {
    devnet = await startDevnet({ fund: [PAYER] });
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-refunds-cli-"));
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [new Wallet(escrowRelayerKey(relayerKey)).address, toQuantity(10n ** 20n)]);
    node = await startDevnetNode(devnet, { adminToken: ADMIN, relayerKey });
    const m = await createMerchant(node.url, ADMIN, "Shop", PAYOUT);
    merchantKeyFile = path.join(dir, "merchant-key");
    await writeFile(merchantKeyFile, `${m.apiKey}\n`, { mode: 0o600 });
    env = { ORIOLE_API_URL: node.url, ORIOLE_RPC_URL: devnet.chain.rpcUrl, ORIOLE_SCRYPT_N: "1024", ORIOLE_PIN: PIN };
    for (const [who, key] of [
      ["payer", PAYER_KEY],
      ["payout", PAYOUT_KEY],
    ] as const) {
      const run = await oriole(["wallet", "import"], { ...as(who), ORIOLE_PRIVATE_KEY: key });
      expect(run.code, run.stdout + run.stderr).to.equal(0);
    }
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refund create --pay: the payout's wallet pays the refund request; refund show reads it completed; report daily sums it", async function () {
    const receipt = await sendPayment({ signer: await devnet.connection.ethers.getSigner(PAYER), tokenAddress: devnet.deployment.contracts.tokens.USD, to: PAYOUT, amount: 5_000_000n, reference: id("cli-order") });
    const transfer = receipt.logs.find((l) => l.topics[0] === id("Transfer(address,address,uint256)"));
    const payment = `${receipt.hash}:${String(transfer?.index)}`;
    await node.waitForIndexed(receipt.blockNumber, 20_000);

    const created = await oriole(["refund", "create", "--payment", payment, "--amount", "2", "--reason", "size", "--pay", "--merchant-key-file", merchantKeyFile], as("payout"));
    expect(created.code, created.stdout + created.stderr).to.equal(0);
    const out = jsonOf(created) as { refund: { id: string; status: string; amount: string; to: string }; payment: { txHash: string; to: string; amount: string; reference: string } };
    expect(out.refund).to.include({ status: "open", amount: "2000000", to: PAYER });
    expect(out.payment).to.include({ to: PAYER, amount: "2" });
    await node.waitForIndexed(await devnet.connection.ethers.provider.getBlockNumber(), 20_000);
    const shown = await oriole(["refund", "show", out.refund.id], { ...as("payout"), ORIOLE_API_KEY: (await readFile(merchantKeyFile, "utf8")).trim() });
    expect(shown.code, shown.stdout).to.equal(0);
    expect((jsonOf(shown) as { refund: { status: string; paid: string } }).refund).to.include({ status: "completed", paid: "2000000" });

    // The rest of the payment can still be refunded, not more.
    const over = await oriole(["refund", "create", "--payment", payment, "--amount", "3.000001", "--merchant-key-file", merchantKeyFile], as("payout"));
    expect(errorCodeOf(over)).to.equal("refund_exceeds_payment");
    // refund cancel: an unpaid refund is withdrawn (twice: the same answer) and no longer counts; a paid one cannot be.
    const open = jsonOf(await oriole(["refund", "create", "--payment", payment, "--amount", "3", "--merchant-key-file", merchantKeyFile], env)) as { refund: { id: string } };
    const cancelled = await oriole(["refund", "cancel", open.refund.id, "--merchant-key-file", merchantKeyFile], env);
    expect(cancelled.code, cancelled.stdout + cancelled.stderr).to.equal(0);
    const view = (jsonOf(cancelled) as { refund: { status: string; cancelledAt: string } }).refund;
    expect(view.status).to.equal("cancelled");
    expect((jsonOf(await oriole(["refund", "cancel", open.refund.id, "--merchant-key-file", merchantKeyFile], env)) as { refund: unknown }).refund).to.deep.include({ status: "cancelled", cancelledAt: view.cancelledAt });
    expect(errorCodeOf(await oriole(["refund", "cancel", out.refund.id, "--merchant-key-file", merchantKeyFile], env))).to.equal("refund_already_paid");
    const zh = await runInProcess(["refund", "cancel", out.refund.id, "--lang", "zh", "--merchant-key-file", merchantKeyFile], { env });
    expect(zh.code).to.equal(1);
    expect(zh.stderr).to.include("无法再撤销");
    expect(errorCodeOf(await oriole(["refund", "cancel", "rfd_1", "--merchant-key-file", merchantKeyFile], env))).to.equal("invalid_refund_id");
    expect((await oriole(["refund", "create", "--payment", payment, "--amount", "3", "--merchant-key-file", merchantKeyFile], env)).code).to.equal(0);

    const date = new Date(((await devnet.connection.ethers.provider.getBlock(receipt.blockNumber))?.timestamp ?? 0) * 1000).toISOString().slice(0, 10);
    const report = await oriole(["report", "daily", "--date", date, "--currency", "usd", "--merchant-key-file", merchantKeyFile], env);
    expect(report.code, report.stdout).to.equal(0);
    expect((jsonOf(report) as { totals: unknown[] }).totals).to.deep.equal([{ currency: "USD", gross: "5000000", fees: "0", refunds: "2000000", net: "3000000", payments: 1, refundPayments: 1 }]);
    const csv = await runInProcess(["report", "daily", "--date", date, "--csv", "--merchant-key-file", merchantKeyFile], { env });
    expect(csv.code).to.equal(0);
    expect(csv.stdout.split("\n")[0]?.trim()).to.equal("type,date,time,currency,txHash,logIndex,counterparty,gross,fee,refund,net,reference,refundId");
    expect(csv.stdout).to.include("total,");
    const text = await runInProcess(["report", "daily", "--date", date, "--merchant-key-file", merchantKeyFile], { env });
    expect(text.stdout).to.include("net 3");
  });

  it("refuses without a merchant key, with a malformed payment, a missing option or a bad date", async function () {
    expect(errorCodeOf(await oriole(["refund", "create", "--payment", `0x${"11".repeat(32)}:0`, "--amount", "1"], env))).to.equal("api_key_missing");
    expect(errorCodeOf(await oriole(["refund", "create", "--payment", "nope", "--amount", "1", "--merchant-key-file", merchantKeyFile], env))).to.equal("invalid_payment");
    const usage = await oriole(["refund", "create", "--payment", `0x${"11".repeat(32)}:0`], env);
    expect([usage.code, errorCodeOf(usage)]).to.deep.equal([2, "usage"]);
    expect(errorCodeOf(await oriole(["report", "daily", "--date", "yesterday", "--merchant-key-file", merchantKeyFile], env))).to.equal("invalid_date");
    expect(errorCodeOf(await oriole(["refund", "show", "rfd_1", "--merchant-key-file", merchantKeyFile], env))).to.equal("invalid_refund_id");
    expect(errorCodeOf(await oriole(["refund", "show", `rfd_${"0".repeat(16)}`, "--merchant-key-file", merchantKeyFile], env))).to.equal("refund_not_found");
  });

  it("escrow fund, ship, release and show from EOA wallets; the wrong caller is refused", async function () {
    const fund = await oriole(["escrow", "fund", "--merchant", PAYOUT, "--amount", "1.5", "--currency", "USD", "--order", "cli-1"], as("payer"));
    expect(fund.code, fund.stdout + fund.stderr).to.equal(0);
    const funded = jsonOf(fund) as { escrow: { id: string; status: string; amountBaseUnits: string; buyer: string } };
    expect(funded.escrow).to.include({ status: "funded", amountBaseUnits: "1500000", buyer: PAYER });
    const escrowId = funded.escrow.id;
    const wrong = await oriole(["escrow", "release", escrowId], as("payout"));
    expect(errorCodeOf(wrong)).to.equal("tx_rejected");
    expect((jsonOf(await oriole(["escrow", "ship", escrowId], as("payout"))) as { escrow: { status: string } }).escrow.status).to.equal("shipped");
    expect((jsonOf(await oriole(["escrow", "release", escrowId], as("payer"))) as { escrow: { status: string } }).escrow.status).to.equal("released");
    const shown = await oriole(["escrow", "show", escrowId], env);
    expect(jsonOf(shown)).to.include({ status: "released", open: false, currency: "USD" });
    // The node's view agrees.
    expect(((await getJson(`${node.url}/v1/escrows/${escrowId}`)).body as { status: string }).status).to.equal("released");
    expect(errorCodeOf(await oriole(["escrow", "show", "0x12"], env))).to.equal("invalid_escrow_id");
    const missing = await oriole(["escrow", "refund", escrowId], as("payout"));
    expect([missing.code, errorCodeOf(missing)]).to.deep.equal([2, "usage"]);
  });

  it("a passkey wallet's escrow actions and fundings are signed (ERC-1271) and relayed by the node", async function () {
    const passkey = { ...env, ORIOLE_KEYSTORE: path.join(dir, "passkey.json") };
    const created = await oriole(["wallet", "create", "--passkey"], passkey);
    expect(created.code, created.stdout + created.stderr).to.equal(0);
    const account = (jsonOf(created) as { address: string }).address;
    // Deployed here (a payment would deploy it): ERC-1271 needs code.
    const ks = await readKeystore(passkey.ORIOLE_KEYSTORE);
    if (ks.keyType !== "p256") throw new Error("expected a passkey keystore");
    const [admin] = await devnet.connection.ethers.getSigners();
    const factory = await devnet.connection.ethers.getContractAt("PasskeyAccountFactory", devnet.deployment.contracts.accounts.factory, admin);
    await (await factory.getFunction("createAccount")(ks.publicKey.qx, ks.publicKey.qy, BigInt(ks.accountSalt))).wait();

    const fund = await oriole(["escrow", "fund", "--merchant", account, "--amount", "2", "--currency", "USD", "--order", "cli-passkey"], as("payer"));
    expect(fund.code, fund.stdout).to.equal(0);
    const escrowId = (jsonOf(fund) as { escrow: { id: string } }).escrow.id;
    const ship = await oriole(["escrow", "ship", escrowId], passkey);
    expect(ship.code, ship.stdout + ship.stderr).to.equal(0);
    expect(jsonOf(ship)).to.deep.include({ action: "ship", relayed: true });
    expect((jsonOf(ship) as { escrow: { status: string } }).escrow.status).to.equal("shipped");
    const refund = await oriole(["escrow", "refund", escrowId, "--amount", "0.5"], passkey);
    expect(refund.code, refund.stdout).to.equal(0);
    expect((jsonOf(await oriole(["escrow", "show", escrowId], env)) as { amountBaseUnits: string }).amountBaseUnits).to.equal("1500000");
    // The passkey is not the buyer: the node's simulation refuses, nothing is sent.
    expect(errorCodeOf(await oriole(["escrow", "release", escrowId], passkey))).to.equal("simulation_failed");

    // As a buyer: the device signs an ERC-3009 authorization and the node funds the escrow with it.
    expect(errorCodeOf(await oriole(["escrow", "fund", "--merchant", PAYOUT, "--amount", "1", "--currency", "USD", "--order", "x"], passkey))).to.equal("simulation_failed");
    const usd = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, await devnet.connection.ethers.getSigner(PAYER));
    await (await usd.getFunction("transfer")(account, 3_000_000n)).wait();
    const funded = await runInProcess(["escrow", "fund", "--merchant", PAYOUT, "--amount", "1", "--currency", "USD", "--order", "cli-passkey-buyer", "--lang", "zh"], { env: passkey });
    expect(funded.code, funded.stdout + funded.stderr).to.equal(0);
    expect(funded.stdout).to.match(/托管 0x[0-9a-f]{64}：fund 已完成，现为 funded/);
    const byPasskey = jsonOf(await oriole(["escrow", "show", escrowIdOf(account, PAYOUT, devnet.deployment.contracts.tokens.USD, id("cli-passkey-buyer"))], env)) as { status: string; buyer: string; amountBaseUnits: string };
    expect(byPasskey).to.include({ status: "funded", buyer: account, amountBaseUnits: "1000000" });
    // The same order again: its authorization's nonce (bound to the terms) is used, or it is the same authorization.
    const twice = await oriole(["escrow", "fund", "--merchant", PAYOUT, "--amount", "1", "--currency", "USD", "--order", "cli-passkey-buyer"], passkey);
    if (twice.code !== 0) expect(errorCodeOf(twice)).to.equal("nonce_used");
    expect((await usd.getFunction("balanceOf")(account))).to.equal(2_000_000n);
  });
});
