/**
 * The web wallet end to end, as a person uses it: headless Chromium opens
 * /wallet on a real node (with its relayer) following a real hardhat node;
 * a CDP virtual authenticator plays the phone's secure chip and biometric
 * check. Create a wallet, receive money, pay a merchant's EIP-681 request.
 * Then the biometric check fails (isUserVerified=false): the page refuses,
 * the relayer refuses an assertion made without UV, and so does the
 * contract when that assertion is forced on-chain.
 */
import { expect } from "chai";
import { Wallet, getAddress, getBytes, hexlify, randomBytes, type Signer } from "ethers";
import type { CDPSession, Page } from "playwright-core";
import type { StableToken } from "../../types/ethers-contracts/index.ts";
import { hashPaymentIntent, paymentIntentStruct, paymentIntentToJson, type PaymentIntent } from "../../client/sdk/account/intent.ts";
import { decodePasskeySignature, base64UrlDecode } from "../../client/sdk/account/webauthn.ts";
import { predictAccountAddress } from "../../client/sdk/account/accountAddress.ts";
import { formatPaymentUri } from "../../client/sdk/paymentUri.ts";
import { groupedReference, money, moneyWithCurrency } from "../../client/web/wallet/format.ts";
import type { RunningNode } from "../../node/src/app.ts";
import type { Devnet } from "../helpers/devnet.ts";
import { FORCER_KEY, startWalletHarness, type NetworkBody, type StoredWalletJson, type WalletHarness } from "./walletHarness.ts";

describe("web wallet in headless Chromium (passkey, relayer, contract)", function () {
  this.timeout(300_000);

  let h: WalletHarness | undefined;
  let devnet: Devnet | undefined;
  let node: RunningNode | undefined;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let walletUrl: string;
  let net: NetworkBody;
  let usd: StableToken;
  let funder: Signer;
  let wallet: StoredWalletJson;
  const merchant = Wallet.createRandom().address;
  const reference = hexlify(randomBytes(32));
  const amount = 12_340_000n;

  before(async function () {
    h = await startWalletHarness();
    ({ devnet, node, page, cdp, authenticatorId, walletUrl, net, usd, funder } = h);
  });

  after(async function () {
    await h?.stop();
  });

  const shot = (name: string): Promise<void> => h!.shot(name);
  const indexedToHead = (): Promise<void> => h!.indexedToHead();
  const reviewInUi = (uri: string): Promise<void> => h!.reviewInUi(uri);

  async function usdBalance(address: string): Promise<bigint> {
    return usd.balanceOf(address);
  }

  it("serves the wallet page with its security headers", async function () {
    const res = await fetch(walletUrl.replace("localhost", "127.0.0.1"));
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).to.include("script-src 'self'");
    expect(csp).not.to.include("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).to.equal("nosniff");
    const js = await fetch(walletUrl.replace("localhost", "127.0.0.1") + "main.js");
    expect(js.status).to.equal(200);
    expect(js.headers.get("content-type")).to.match(/^text\/javascript/);
    expect((await fetch(`${node!.url}/wallet/nope.js`)).status).to.equal(404);
    const redirect = await fetch(`${node!.url}/wallet`, { redirect: "manual" });
    expect(redirect.status).to.equal(301);
    expect(redirect.headers.get("location")).to.equal("/wallet/");
  });

  it("creates a wallet with a passkey and shows its counterfactual address", async function () {
    const consoleErrors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(e.message));
    await page.goto(walletUrl);
    await page.getByRole("button", { name: "Create wallet with a passkey" }).waitFor();
    await shot("1-welcome");
    await page.getByRole("button", { name: "Create wallet with a passkey" }).click();
    await page.locator("#screen-home").waitFor({ state: "visible" });

    const raw = await page.evaluate(() => localStorage.getItem("oriole.wallet.v1"));
    expect(raw, "the wallet is saved").to.be.a("string");
    const stored = JSON.parse(raw!) as Record<string, unknown>;
    // Public data only: the private key never leaves the authenticator.
    expect(Object.keys(stored).sort()).to.deep.equal(["address", "createdAt", "credentialId", "qx", "qy", "salt", "version"]);
    wallet = stored as unknown as StoredWalletJson;
    expect(wallet.salt).to.equal("0");

    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).to.have.length(1);
    expect(credentials[0]!.isResidentCredential).to.equal(true);
    // CDP reports the id in padded base64, the wallet keeps base64url.
    expect(hexlify(Buffer.from(credentials[0]!.credentialId, "base64"))).to.equal(hexlify(base64UrlDecode(wallet.credentialId)));

    const predicted = predictAccountAddress({ factory: net.contracts.accounts.factory, implementation: net.contracts.accounts.implementation, qx: wallet.qx, qy: wallet.qy, salt: 0n });
    expect(wallet.address).to.equal(predicted);
    const factory = await devnet!.connection.ethers.getContractAt("PasskeyAccountFactory", net.contracts.accounts.factory);
    expect(await factory.accountAddress(wallet.qx, wallet.qy, 0n)).to.equal(predicted);
    expect(await page.locator("#address").textContent()).to.equal(predicted);
    expect(await devnet!.connection.ethers.provider.getCode(predicted)).to.equal("0x");
    expect(consoleErrors).to.deep.equal([]);
  });

  it("shows money sent to the address before the account exists as it arrives, without Refresh (the account's event stream)", async function () {
    await page.locator('#balances li[data-currency="USD"] .amount', { hasText: "0.00" }).waitFor();
    await (await usd.connect(funder).transfer(wallet.address, 100_000_000n)).wait();
    await page.locator('#balances li[data-currency="USD"] .amount', { hasText: "100.00" }).waitFor({ timeout: 5000 });
    await page.locator("#history li").first().waitFor();
    expect(await page.locator("#history li").first().textContent()).to.include("+100.00 USD");
    await shot("2-home");
  });

  it("explains a malformed payment request", async function () {
    await page.getByRole("button", { name: "Pay", exact: true }).click();
    await page.getByLabel("Payment request link").fill("ethereum:0x1234/transfer?address=bob&uint256=1.5");
    await page.getByRole("button", { name: "Continue" }).click();
    const error = page.locator("#pay-error");
    await error.waitFor({ state: "visible" });
    expect((await error.textContent())?.length).to.be.greaterThan(10);
    // editing the link retires the error that spoke of it
    await page.getByLabel("Payment request link").fill("ethereum:");
    expect(await error.isHidden()).to.equal(true);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator("#screen-home").waitFor({ state: "visible" });
  });

  it("pays a merchant's EIP-681 request, confirmed with the passkey; the first payment deploys the account", async function () {
    const fee = BigInt(net.relayer!.fees.USD!);
    const relayerAddress = getAddress(net.relayer!.address);
    const relayerBefore = await usdBalance(relayerAddress);
    const uri = formatPaymentUri({ chainId: net.chainId, token: usd.target as string, to: merchant, amount, reference });

    await reviewInUi(uri);
    expect(await page.locator("#confirm-amount").textContent()).to.equal("12.34 USD");
    expect(await page.locator("#confirm-to").textContent()).to.equal(merchant);
    expect(await page.locator("#confirm-reference").textContent()).to.equal(groupedReference(reference));
    expect(await page.locator("#confirm-reference").getAttribute("data-reference")).to.equal(reference);
    // Not an invoice of this node: no merchant lines, nothing refused.
    expect(await page.locator("#confirm-merchant-row").isHidden()).to.equal(true);
    expect(await page.locator("#confirm-expires-row").isHidden()).to.equal(true);
    expect(await page.locator("#confirm-fee").textContent()).to.equal(moneyWithCurrency(fee, "USD"));
    expect(await page.locator("#confirm-total").textContent()).to.equal(moneyWithCurrency(amount + fee, "USD"));
    await page.locator("#confirm-balance", { hasText: "100.00 USD" }).waitFor();
    await shot("3-confirm");

    await page.getByRole("button", { name: "Confirm with passkey" }).click();
    await page.locator('#screen-status[data-status="ok"]').waitFor({ timeout: 60_000 });
    expect(await page.locator("#status-title").textContent()).to.equal("Paid");
    const txHash = (await page.locator("#status-tx").textContent()) ?? "";
    expect(txHash).to.match(/^0x[0-9a-f]{64}$/);
    await shot("4-paid");

    const provider = devnet!.connection.ethers.provider;
    const receipt = await provider.getTransactionReceipt(txHash);
    expect(receipt?.status).to.equal(1);
    const payments = receipt!.logs
      .filter((l) => l.address === usd.target)
      .map((l) => usd.interface.parseLog(l))
      .filter((e) => e?.name === "Payment");
    expect(payments).to.have.length(1);
    expect(payments[0]!.args.ref).to.equal(reference);
    expect(payments[0]!.args.payer).to.equal(wallet.address);
    expect(payments[0]!.args.payee).to.equal(merchant);
    expect(payments[0]!.args.amount).to.equal(amount);

    expect(await usdBalance(merchant)).to.equal(amount);
    expect((await usdBalance(relayerAddress)) - relayerBefore).to.equal(fee);
    expect(await usdBalance(wallet.address)).to.equal(100_000_000n - amount - fee);
    expect(await provider.getCode(wallet.address)).to.not.equal("0x");

    // Back home, the balance and the history follow.
    await indexedToHead();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator('#balances li[data-currency="USD"] .amount', { hasText: money(100_000_000n - amount - fee) }).waitFor();
    await page.locator("#history li", { hasText: "−12.34 USD" }).waitFor();
    const feeItem = page.locator("#history li", { hasText: "Relayer fee" });
    await feeItem.waitFor();
    expect(await feeItem.locator(".amount").textContent()).to.equal(`−${moneyWithCurrency(fee, "USD")}`);
    await shot("5-home-after");
  });

  it("speaks Simplified Chinese on request, and remembers the choice", async function () {
    await page.getByRole("button", { name: "Switch language to Chinese" }).click();
    expect(await page.locator("#balances-title").textContent()).to.equal("余额");
    expect(await page.locator("html").getAttribute("lang")).to.equal("zh-CN");
    await page.reload();
    await page.locator("#screen-home").waitFor({ state: "visible" });
    expect(await page.getByRole("button", { name: "付款" }).count()).to.equal(1);
    await page.getByRole("button", { name: "切换为英文" }).click();
    expect(await page.locator("#balances-title").textContent()).to.equal("Balances");
  });

  describe("when the biometric check fails (isUserVerified=false)", function () {
    before(async function () {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    });

    it("the page refuses to pay and says why; nothing is paid", async function () {
      const merchantBefore = await usdBalance(merchant);
      const accountBefore = await usdBalance(wallet.address);
      const uri = formatPaymentUri({ chainId: net.chainId, token: usd.target as string, to: merchant, amount: 1_000_000n, reference: hexlify(randomBytes(32)) });
      await reviewInUi(uri);
      await page.getByRole("button", { name: "Confirm with passkey" }).click();
      await page.locator('#screen-status[data-status="failed"]').waitFor({ timeout: 60_000 });
      expect(await page.locator("#status-title").textContent()).to.equal("Payment not made");
      expect(await page.locator("#status-detail").textContent()).to.match(/passkey check was cancelled or failed/);
      await shot("6-uv-refused");
      // The request is kept: "Try again" goes back to its confirmation.
      await page.getByRole("button", { name: "Try again" }).click();
      await page.locator("#screen-confirm").waitFor({ state: "visible" });
      await page.getByRole("button", { name: "Cancel" }).click();
      expect(await usdBalance(merchant)).to.equal(merchantBefore);
      expect(await usdBalance(wallet.address)).to.equal(accountBefore);
    });

    /** An assertion made by the page with userVerification "discouraged": UP set, UV not. */
    async function assertionWithoutUv(intent: PaymentIntent): Promise<string> {
      const challenge = hashPaymentIntent(net.chainId, wallet.address, intent);
      const signature = await h!.passkeySign(wallet, challenge, "discouraged");
      const decoded = decodePasskeySignature(signature);
      expect(decoded.flags.userPresent, "user present").to.equal(true);
      expect(decoded.flags.userVerified, "user verified").to.equal(false);
      return signature;
    }

    async function freshIntent(): Promise<PaymentIntent> {
      const res = await fetch(`${node!.url}/v1/accounts/${wallet.address}/next-nonce`);
      expect(res.status).to.equal(200);
      const { nonce } = (await res.json()) as { nonce: string };
      const latest = await devnet!.connection.ethers.provider.getBlock("latest");
      return {
        token: usd.target as string,
        to: merchant,
        amount: 1_000_000n,
        reference: hexlify(randomBytes(32)),
        nonce: BigInt(nonce),
        deadline: BigInt(latest!.timestamp) + 600n,
        maxRelayerFee: BigInt(net.relayer!.fees.USD!),
      };
    }

    it("the relayer refuses an assertion made without user verification (user_verification_required)", async function () {
      const merchantBefore = await usdBalance(merchant);
      const intent = await freshIntent();
      const signature = await assertionWithoutUv(intent);
      const res = await fetch(`${node!.url}/v1/intents`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ account: wallet.address, intent: paymentIntentToJson(intent), signature, deployment: { qx: wallet.qx, qy: wallet.qy, salt: wallet.salt } }),
      });
      expect(res.status).to.be.within(400, 499);
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      expect(body.error?.code).to.equal("user_verification_required");
      expect(body.error?.message).to.be.a("string").and.not.equal("");
      expect(await usdBalance(merchant)).to.equal(merchantBefore);
    });

    it("the contract refuses the same assertion forced on-chain (PasskeyAccountUserVerificationRequired)", async function () {
      const merchantBefore = await usdBalance(merchant);
      const intent = await freshIntent();
      const signature = await assertionWithoutUv(intent);
      const forcer = new Wallet(FORCER_KEY, devnet!.connection.ethers.provider);
      const account = await devnet!.connection.ethers.getContractAt("PasskeyAccount", wallet.address, forcer);
      const flags = getBytes(decodePasskeySignature(signature).authenticatorData)[32]!;
      expect(flags & 0x04, "UV bit").to.equal(0);
      await expect(account.executePayment(paymentIntentStruct(intent), 0n, forcer.address, signature))
        .to.be.revertedWithCustomError(account, "PasskeyAccountUserVerificationRequired")
        .withArgs(flags);
      expect(await usdBalance(merchant)).to.equal(merchantBefore);
      expect(await account.isNonceUsed(intent.nonce)).to.equal(false);
    });
  });
});
