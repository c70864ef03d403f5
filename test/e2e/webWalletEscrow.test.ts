/**
 * Escrow in the web wallet, buyer side, in headless Chromium: the passkey
 * account funds escrows (its passkey signs an ERC-3009 receiveWithAuthorization,
 * checked by ERC-1271, that an EOA submits with fundWithAuthorization), the
 * merchant (an EOA) ships, offers or disputes on-chain, and the buyer acts
 * in the page: each action is an EscrowAction signed with the passkey and
 * relayed by the node. A stale button (the state changed meanwhile) shows
 * the contract's reason, in English and Chinese. A fresh wallet's first
 * action is paying into escrow from the page: the node deploys its account
 * with the funding (PaymentRelay.deployAndCall); a failed biometric check
 * changes nothing.
 */
import { expect } from "chai";
import { id, toQuantity, Wallet, type ContractTransactionResponse } from "ethers";
import type { Page } from "playwright-core";
import type { OrioleEscrow } from "../../types/ethers-contracts/index.ts";
import { replaySafeHash } from "../../client/sdk/account/intent.ts";
import { encodeFundWithAuthorization, escrowId, fundingAuthorization, type EscrowTerms } from "../../client/sdk/escrow/actions.ts";
import { readEscrow, readTokenDomainName } from "../../client/sdk/escrow/state.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import { formatPaymentUri } from "../../client/sdk/paymentUri.ts";
import { shortAddress } from "../../client/web/wallet/dom.ts";
import { escrowRelayerKey } from "../../node/src/escrow/escrowService.ts";
import { sendAndMine } from "../helpers/anvil.ts";
import { FORCER_KEY, RELAYER_KEY, startWalletHarness, type StoredWalletJson, type WalletHarness } from "./walletHarness.ts";

/** Hardhat's default account #4: the merchant, an EOA with ETH for gas. */
const MERCHANT_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
const DAY = 86_400;

describe("web wallet: the buyer's escrows (headless Chromium, passkey, ERC-1271, node relay)", function () {
  this.timeout(300_000);

  let h: WalletHarness | undefined;
  let page: Page;
  let wallet: StoredWalletJson;
  let escrowAddress: string;
  let usdAddress: string;
  const merchant = new Wallet(MERCHANT_KEY);

  before(async function () {
    h = await startWalletHarness();
    page = h.page;
    const escrow = h.net.contracts.escrow;
    if (escrow === undefined) throw new Error("the devnet has no escrow");
    escrowAddress = escrow;
    usdAddress = h.usd.target as string;
    const rpc = h.devnet.chain.rpcUrl;
    // The node's escrow relayer is its own EOA (derived from the relayer key): give it gas.
    await jsonRpcRequest(rpc, "hardhat_setBalance", [new Wallet(escrowRelayerKey(RELAYER_KEY)).address, toQuantity(10n ** 20n)]);
    wallet = await h.createWalletInUi();
    // ERC-1271 needs the account's code: deploy it (a first payment would too).
    const forcer = new Wallet(FORCER_KEY, h.devnet.connection.ethers.provider);
    const factory = await h.devnet.connection.ethers.getContractAt("PasskeyAccountFactory", h.net.contracts.accounts.factory, forcer);
    await (await factory.createAccount(wallet.qx, wallet.qy, 0n)).wait();
    expect(await h.devnet.connection.ethers.provider.getCode(wallet.address)).to.not.equal("0x");
    await (await h.usd.connect(h.funder).transfer(wallet.address, 100_000_000n)).wait();
  });

  after(async function () {
    await h?.stop();
  });

  afterEach(async function () {
    await page.unrouteAll();
  });

  /** The passkey account funds an escrow: its passkey signs the ERC-3009 authorization, an EOA submits it. */
  async function fundFromPasskey(order: string, amount: bigint): Promise<string> {
    const { devnet, net } = h!;
    const provider = devnet.connection.ethers.provider;
    const terms: EscrowTerms = { token: usdAddress, merchant: merchant.address, amount, orderId: id(order), releaseTimeout: 7 * DAY, disputeWindow: 3 * DAY };
    const latest = await provider.getBlock("latest");
    const auth = fundingAuthorization({ chainId: net.chainId, tokenName: await readTokenDomainName(provider, usdAddress), escrow: escrowAddress, buyer: wallet.address, terms, validAfter: 0n, validBefore: BigInt(latest!.timestamp) + 3600n });
    const signature = await h!.passkeySign(wallet, replaySafeHash(net.chainId, wallet.address, auth.digest));
    const from = new Wallet(FORCER_KEY).address;
    await sendAndMine(devnet.chain.rpcUrl, { from, to: escrowAddress, data: encodeFundWithAuthorization(terms, wallet.address, 0n, auth.message.validBefore, signature) }, { expectSuccess: true });
    const escrowIdHex = escrowId(wallet.address, merchant.address, usdAddress, terms.orderId).toLowerCase();
    expect((await readEscrow(provider, escrowAddress, escrowIdHex))?.status).to.equal("funded");
    return escrowIdHex;
  }

  /** The merchant's side, sent by the merchant's EOA itself. */
  async function asMerchant(call: (escrow: OrioleEscrow) => Promise<ContractTransactionResponse>): Promise<void> {
    const escrow = await h!.devnet.connection.ethers.getContractAt("OrioleEscrow", escrowAddress, merchant.connect(h!.devnet.connection.ethers.provider));
    expect((await (await call(escrow)).wait())?.status).to.equal(1);
  }

  const card = (escrowIdHex: string) => page.locator(`#escrows li.escrow[data-escrow-id="${escrowIdHex}"]`);

  async function home(): Promise<void> {
    await page.goto(h!.walletUrl);
    await page.locator("#screen-home").waitFor({ state: "visible" });
  }

  it("lists a shipped escrow with amount, merchant and deadlines; the buyer releases it with the passkey", async function () {
    const idA = await fundFromPasskey("order-A", 25_000_000n);
    await asMerchant((e) => e.markShipped(idA));
    await home();
    const item = card(idA);
    await item.and(page.locator('[data-status="shipped"]')).waitFor();
    const text = (await item.textContent()) ?? "";
    expect(text).to.include("25.00 USD").and.include("Shipped").and.include(`Merchant ${shortAddress(merchant.address)}`);
    expect(text).to.match(/You can open a dispute until .+/).and.match(/Released to the merchant automatically from .+/);
    expect(await item.locator("button").evaluateAll((bs) => bs.map((b) => (b as HTMLButtonElement).dataset.action))).to.deep.equal(["release", "openDispute"]);
    await h!.shot("escrow-1-shipped");

    const merchantBefore = await h!.usd.balanceOf(merchant.address);
    await item.locator('button[data-action="release"]').click();
    await item.and(page.locator('[data-status="released"]')).waitFor({ timeout: 60_000 });
    expect(await item.locator('.escrow-note[data-kind="ok"]').textContent()).to.match(/^Done \(transaction 0x[0-9a-f]{8}…[0-9a-f]{6}\)\.$/);
    expect(await item.locator("button").count()).to.equal(0);
    expect((await readEscrow(h!.devnet.connection.ethers.provider, escrowAddress, idA))?.status).to.equal("released");
    expect((await h!.usd.balanceOf(merchant.address)) - merchantBefore).to.equal(25_000_000n);
    await h!.shot("escrow-2-released");
  });

  it("a stale button (the merchant disputed meanwhile) shows the contract's reason in English and Chinese; then the buyer accepts the merchant's offer", async function () {
    // A card goes stale when the page does not hear the chain (its live stream lost, as on a bad
    // connection): the test cuts the account's event stream so the card stays as loaded.
    await page.route("**/v1/accounts/*/events", (route) => route.abort());
    await home();
    const idB = await fundFromPasskey("order-B", 5_000_000n);
    await page.locator("#refresh").click();
    const item = card(idB);
    await item.and(page.locator('[data-status="funded"]')).waitFor();
    expect(await item.textContent()).to.include("Paid into escrow, awaiting shipment").and.include("After shipping: 3 days to open a dispute, released to the merchant after 7 days");

    // The page still shows "Open a dispute"; on-chain the merchant got there first.
    await asMerchant((e) => e.openDispute(idB));
    await item.locator('button[data-action="openDispute"]').click();
    const note = item.locator('.escrow-note[data-kind="error"]');
    await note.waitFor({ timeout: 60_000 });
    expect(await note.textContent()).to.equal("The escrow's state has changed, so this is no longer possible. Refresh to see where it stands.");
    expect(await note.getAttribute("role")).to.equal("alert");
    expect((await readEscrow(h!.devnet.connection.ethers.provider, escrowAddress, idB))?.status).to.equal("disputed");
    await h!.shot("escrow-3-refused");

    // Chinese: the list reloads (now disputed) and the reason follows the language.
    await page.locator("#lang-toggle").click();
    await item.and(page.locator('[data-status="disputed"]')).waitFor();
    await item.locator(".pill", { hasText: "争议中" }).waitFor();
    expect(await note.textContent()).to.equal("该担保交易的状态已变化，无法再执行此操作。请刷新查看当前状态。");
    expect(await item.locator("button").evaluateAll((bs) => bs.map((b) => (b as HTMLButtonElement).dataset.action))).to.deep.equal(["release"]);
    await page.locator("#lang-toggle").click();
    await item.locator(".pill", { hasText: "In dispute" }).waitFor();

    // The merchant offers 3 back, 2 to itself; the buyer accepts in the page.
    await asMerchant((e) => e.offerSettlement(idB, 3_000_000n, 2_000_000n));
    await page.locator("#refresh").click();
    await item.locator(".offer", { hasText: "The merchant offers to settle: 3.00 USD back to you, 2.00 USD to the merchant" }).waitFor();
    const buyerBefore = await h!.usd.balanceOf(wallet.address);
    await item.locator('button[data-action="acceptSettlement"]').click();
    await item.and(page.locator('[data-status="settled"]')).waitFor({ timeout: 60_000 });
    expect((await h!.usd.balanceOf(wallet.address)) - buyerBefore).to.equal(3_000_000n);
    expect((await readEscrow(h!.devnet.connection.ethers.provider, escrowAddress, idB))?.status).to.equal("settled");
  });

  it("a fresh wallet's first action is paying into escrow from the page (the node deploys the account with it); a failed biometric check changes nothing; the merchant ships and the buyer releases", async function () {
    const { devnet, usd, cdp, authenticatorId } = h!;
    const provider = devnet.connection.ethers.provider;
    const escrowRelayer = new Wallet(escrowRelayerKey(RELAYER_KEY)).address;
    // A second wallet on this phone, never deployed: it only receives 40 USD.
    await page.evaluate(() => {
      localStorage.removeItem("oriole.wallet.v1");
    });
    const fresh = await h!.createWalletInUi();
    expect(fresh.address).to.not.equal(wallet.address);
    await (await usd.connect(h!.funder).transfer(fresh.address, 40_000_000n)).wait();
    expect(await provider.getCode(fresh.address)).to.equal("0x");
    await home();

    // The form, filled from the merchant's payment request (EIP-681 with its reference as the order); periods by hand.
    const order = id("order-fresh-1");
    await page.locator("#escrow-fund-button").click();
    await page.locator("#screen-escrow").waitFor({ state: "visible" });
    await page.locator("#escrow-from-request summary").click();
    await page.locator("#escrow-request").fill(formatPaymentUri({ chainId: h!.net.chainId, token: usdAddress, to: merchant.address, amount: 12_500_000n, reference: order }));
    await page.locator("#escrow-request-fill").click();
    expect(await page.locator("#escrow-fill-note").textContent()).to.equal("Filled in from the request. Check the details.");
    expect(await page.locator("#escrow-merchant").inputValue()).to.equal(merchant.address);
    expect(await page.locator("#escrow-amount").inputValue()).to.equal("12.5");
    expect(await page.locator("#escrow-currency").inputValue()).to.equal("USD");
    expect(await page.locator("#escrow-order").inputValue()).to.equal(order);
    // Bad input is explained and goes nowhere.
    await page.locator("#escrow-dispute-days").fill("10");
    await page.locator("#escrow-fund-continue").click();
    expect(await page.locator("#escrow-fund-error").textContent()).to.match(/dispute window no longer than the release period/);
    await page.locator("#escrow-dispute-days").fill("2");
    expect(await page.locator("#escrow-fund-error").isHidden(), "editing the form retires the error").to.equal(true);
    await page.locator("#escrow-release-days").fill("5");
    await h!.shot("escrow-4-fund-form");
    await page.locator("#escrow-fund-continue").click();
    await page.locator("#screen-escrow-confirm").waitFor({ state: "visible" });
    expect(await page.locator("#escrow-confirm-amount").textContent()).to.equal("12.50 USD");
    expect(await page.locator("#escrow-confirm-merchant").textContent()).to.equal(merchant.address);
    expect(await page.locator("#escrow-confirm-terms").textContent()).to.equal("After shipping: 2 days to open a dispute, released to the merchant after 5 days");
    await page.locator("#escrow-confirm-balance", { hasText: "40.00 USD" }).waitFor();
    await h!.shot("escrow-5-fund-confirm");

    // The biometric check fails: nothing is signed, sent, deployed or paid.
    const gasBefore = await provider.getBalance(escrowRelayer);
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    try {
      await page.locator("#escrow-confirm-button").click();
      await page.locator('#screen-status[data-status="failed"]').waitFor({ timeout: 60_000 });
    } finally {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
    }
    expect(await page.locator("#status-title").textContent()).to.equal("Escrow payment not made");
    expect(await page.locator("#status-detail").textContent()).to.match(/passkey check was cancelled or failed/);
    expect(await provider.getCode(fresh.address)).to.equal("0x");
    expect(await usd.balanceOf(fresh.address)).to.equal(40_000_000n);
    expect(await provider.getBalance(escrowRelayer)).to.equal(gasBefore);
    const escrowIdHex = escrowId(fresh.address, merchant.address, usdAddress, order).toLowerCase();
    expect(await readEscrow(provider, escrowAddress, escrowIdHex)).to.equal(undefined);

    // "Try again" returns to the confirmation; now the passkey confirms and the node deploys and funds in one transaction.
    await page.getByRole("button", { name: "Try again" }).click();
    await page.locator("#screen-escrow-confirm").waitFor({ state: "visible" });
    const merchantBefore = await usd.balanceOf(merchant.address);
    await page.locator("#escrow-confirm-button").click();
    await page.locator('#screen-status[data-status="ok"]').waitFor({ timeout: 60_000 });
    expect(await page.locator("#status-title").textContent()).to.equal("Paid into escrow");
    expect(await page.locator("#status-detail").textContent()).to.equal(`12.50 USD held for ${shortAddress(merchant.address)} until you release it`);
    expect(await page.locator("#screen-status").getAttribute("data-escrow-id")).to.equal(escrowIdHex);
    const txHash = (await page.locator("#status-tx").textContent()) ?? "";
    expect((await provider.getTransaction(txHash))?.to).to.equal(h!.net.contracts.accounts.relay);
    expect(await provider.getCode(fresh.address)).to.not.equal("0x");
    expect(await usd.balanceOf(fresh.address)).to.equal(27_500_000n);
    const funded = await readEscrow(provider, escrowAddress, escrowIdHex);
    expect(funded).to.deep.include({ status: "funded", buyer: fresh.address, merchant: merchant.address, amount: 12_500_000n });
    const escrowHeld = await usd.balanceOf(escrowAddress);
    await h!.shot("escrow-6-funded");

    // Home lists it; the merchant ships; the buyer releases from the card.
    await page.getByRole("button", { name: "Done" }).click();
    const item = card(escrowIdHex);
    await item.and(page.locator('[data-status="funded"]')).waitFor();
    expect(await item.textContent()).to.include("12.50 USD").and.include("After shipping: 2 days to open a dispute, released to the merchant after 5 days");
    await asMerchant((e) => e.markShipped(escrowIdHex));
    await page.locator("#refresh").click();
    await item.and(page.locator('[data-status="shipped"]')).waitFor();
    await item.locator('button[data-action="release"]').click();
    await item.and(page.locator('[data-status="released"]')).waitFor({ timeout: 60_000 });
    expect((await usd.balanceOf(merchant.address)) - merchantBefore).to.equal(12_500_000n);
    expect(await usd.balanceOf(fresh.address)).to.equal(27_500_000n);
    expect(await usd.balanceOf(escrowAddress)).to.equal(escrowHeld - 12_500_000n);
  });
});
