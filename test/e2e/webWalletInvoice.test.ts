/**
 * The web wallet pays a merchant's invoice, as at a shop's counter: the
 * merchant (created through the admin API) makes an invoice with
 * POST /v1/invoices, the customer pastes its EIP-681 URI into the wallet,
 * sees the amount, the merchant's name and the reference, confirms with the
 * passkey (CDP virtual authenticator), and the merchant's SSE stream says
 * invoice.paid. An expired invoice cannot be confirmed, and requests for
 * another chain or an unknown token are refused with a clear message (en, zh).
 */
import { expect } from "chai";
import { Wallet, hexlify, randomBytes } from "ethers";
import type { Page } from "playwright-core";
import { formatPaymentUri } from "../../client/sdk/paymentUri.ts";
import { shortAddress } from "../../client/web/wallet/dom.ts";
import { groupedReference, moneyWithCurrency } from "../../client/web/wallet/format.ts";
import { openSse, type SseClient } from "../helpers/notify.ts";
import { ADMIN, createInvoice, getInvoice, waitForInvoice, waitForMessage } from "../invoices/helpers.ts";
import { createMerchant } from "../helpers/merchants.ts";
import { startWalletHarness, type StoredWalletJson, type WalletHarness } from "./walletHarness.ts";

describe("web wallet pays a merchant invoice (headless Chromium, passkey, relayer, SSE)", function () {
  this.timeout(300_000);

  let h: WalletHarness | undefined;
  let page: Page;
  let wallet: StoredWalletJson;
  let merchant: { id: string; apiKey: string };
  let stream: SseClient | undefined;
  const payout = Wallet.createRandom().address;

  before(async function () {
    h = await startWalletHarness({ config: { adminToken: ADMIN, pollMs: 20 } });
    page = h.page;
    merchant = await createMerchant(h.node.url, ADMIN, "Corner Café", payout);
    wallet = await h.createWalletInUi();
    await (await h.usd.connect(h.funder).transfer(wallet.address, 50_000_000n)).wait();
    await h.indexedToHead();
    stream = await openSse(`${h.node.url}/v1/merchants/me/events`, { authorization: `Bearer ${merchant.apiKey}` });
    expect(stream.status).to.equal(200);
  });

  after(async function () {
    stream?.close();
    await h?.stop();
  });

  const home = async (): Promise<void> => {
    await page.goto(h!.walletUrl);
    await page.locator("#screen-home").waitFor({ state: "visible" });
  };

  it("shows the invoice's amount, merchant and reference; the passkey pays it; the merchant's stream says invoice.paid", async function () {
    const node = h!.node;
    const fee = BigInt(h!.net.relayer!.fees.USD!);
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "4500000", currency: "USD", description: "Flat white ×2", expiresInSec: 900 });
    await home();
    await h!.reviewInUi(invoice.uri);
    expect(await page.locator("#confirm-amount").textContent()).to.equal("4.50 USD");
    await page.locator("#confirm-merchant-row").waitFor({ state: "visible" });
    expect(await page.locator("#confirm-merchant").textContent()).to.equal("Corner Café");
    expect(await page.locator("#confirm-description").textContent()).to.equal("Flat white ×2");
    expect(await page.locator("#confirm-expires-row").isVisible()).to.equal(true);
    expect(await page.locator("#confirm-to").textContent()).to.equal(payout);
    expect(await page.locator("#confirm-reference").textContent()).to.equal(groupedReference(invoice.reference));
    expect(await page.locator("#confirm-invoice-status").isHidden()).to.equal(true);
    expect(await page.locator("#confirm-total").textContent()).to.equal(moneyWithCurrency(4_500_000n + fee, "USD"));
    await page.locator("#confirm-balance", { hasText: "50.00 USD" }).waitFor();
    await h!.shot("invoice-1-confirm");

    const from = stream!.messages.length;
    await page.locator("#confirm-button").click();
    await page.locator('#screen-status[data-status="ok"]').waitFor({ timeout: 60_000 });
    const paid = await waitForMessage(stream!, (e) => e.invoice?.id === invoice.id && e.type === "invoice.paid", 60_000, from);
    expect(paid.event.invoice).to.include({ status: "paid", amountReceived: "4500000", refundable: "0" });
    const after = await getInvoice(node.url, merchant.apiKey, invoice.id);
    expect(after.status).to.equal("paid");
    expect(after.payments).to.have.length(1);
    expect(after.payments[0]!.txHash).to.equal(await page.locator("#status-tx").textContent());
    expect(await h!.usd.balanceOf(payout)).to.equal(4_500_000n);

    // The same URI again: the wallet knows the invoice is paid and will not pay it twice.
    await page.locator("#status-done").click();
    await h!.reviewInUi(invoice.uri);
    await page.locator("#confirm-invoice-status", { hasText: "already paid" }).waitFor();
    expect(await page.locator("#confirm-button").isDisabled()).to.equal(true);
  });

  it("says an expired invoice has expired and does not let it be confirmed (en, zh)", async function () {
    const node = h!.node;
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "1000000", currency: "USD", description: "Too late", expiresInSec: 1 });
    await waitForInvoice(node.url, merchant.apiKey, invoice.id, (i) => i.status === "expired", 30_000);
    await home();
    await h!.reviewInUi(invoice.uri);
    const notice = page.locator("#confirm-invoice-status");
    await notice.waitFor({ state: "visible" });
    expect(await notice.textContent()).to.match(/^This invoice expired on .+\. Do not pay it/);
    expect(await notice.getAttribute("data-status")).to.equal("expired");
    expect(await page.locator("#confirm-button").isDisabled()).to.equal(true);
    // Paid or expired: the description is not shown (the node withholds it).
    expect(await page.locator("#confirm-description-row").isHidden()).to.equal(true);
    await h!.shot("invoice-2-expired");
    await page.locator("#lang-toggle").click();
    expect(await notice.textContent()).to.match(/^此账单已于 .+ 过期。请勿付款/);
    await page.locator("#lang-toggle").click();
    expect((await getInvoice(node.url, merchant.apiKey, invoice.id)).amountReceived).to.equal("0");
  });

  it("an invoice that expires while its confirmation is open is not paid when confirmed", async function () {
    const node = h!.node;
    const before = await h!.usd.balanceOf(wallet.address);
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "1000000", currency: "USD", description: "Slow", expiresInSec: 3 });
    await home();
    await h!.reviewInUi(invoice.uri);
    await page.locator("#confirm-merchant-row").waitFor({ state: "visible" });
    await waitForInvoice(node.url, merchant.apiKey, invoice.id, (i) => i.status === "expired", 30_000);
    await page.locator("#confirm-button").click();
    await page.locator("#confirm-invoice-status", { hasText: "expired" }).waitFor();
    expect(await page.locator("#screen-confirm").isVisible()).to.equal(true);
    expect(await page.locator("#confirm-button").isDisabled()).to.equal(true);
    expect(await h!.usd.balanceOf(wallet.address)).to.equal(before);
  });

  it("refuses a request that carries an invoice's reference but another amount or payee (altered), in English and Chinese", async function () {
    const node = h!.node;
    const invoice = await createInvoice(node.url, merchant.apiKey, { amount: "2000000", currency: "USD", description: "Cake", expiresInSec: 900 });
    const net = h!.net;
    const notice = page.locator("#confirm-invoice-status");
    for (const altered of [
      formatPaymentUri({ chainId: net.chainId, token: net.contracts.tokens.USD!, to: payout, amount: 200_000n, reference: invoice.reference }),
      formatPaymentUri({ chainId: net.chainId, token: net.contracts.tokens.USD!, to: Wallet.createRandom().address, amount: 2_000_000n, reference: invoice.reference }),
    ]) {
      await home();
      await h!.reviewInUi(altered);
      await notice.and(page.locator('[data-status="mismatch"]')).waitFor();
      expect(await notice.textContent()).to.equal(`This request does not match the invoice with the same reference (Corner Café: 2.00 USD to ${shortAddress(payout)}). It may have been altered: do not pay it, ask the merchant for the request again.`);
      expect(await page.locator("#confirm-button").isDisabled()).to.equal(true);
      expect(await page.locator("#confirm-merchant-row").isHidden()).to.equal(true);
    }
    // The language switch re-renders the refusal on the confirmation screen.
    await page.locator("#lang-toggle").click();
    expect(await notice.textContent()).to.match(/^此请求与同一参考号的账单不符（Corner Café：2\.00 USD 付给 0x/);
    await page.locator("#lang-toggle").click();
    expect((await getInvoice(node.url, merchant.apiKey, invoice.id)).amountReceived).to.equal("0");
  });

  it("refuses a request for another chain or for a token this network does not issue, in English and Chinese", async function () {
    const net = h!.net;
    const otherChain = formatPaymentUri({ chainId: 1, token: net.contracts.tokens.USD!, to: payout, amount: 1_000_000n, reference: hexlify(randomBytes(32)) });
    const unknownToken = Wallet.createRandom().address;
    const otherToken = formatPaymentUri({ chainId: net.chainId, token: unknownToken, to: payout, amount: 1_000_000n });
    const error = page.locator("#pay-error");
    const cases: [string, string, RegExp, RegExp][] = [
      [otherChain, "chain", /^This request is for chain 1, but this wallet is on chain \d+\.$/, /^此请求属于链 1，而本钱包在链 \d+ 上。$/],
      [otherToken, "token", new RegExp(`^This request asks for a token this network does not issue \\(${unknownToken}\\)\\.`), new RegExp(`^此请求要求的代币不是本网络发行的（${unknownToken}）`)],
    ];
    for (const [uri, what, en, zh] of cases) {
      await home();
      await h!.pasteRequest(uri);
      await error.waitFor({ state: "visible" });
      expect(await error.textContent(), what).to.match(en);
      expect(await page.locator("#screen-pay").isVisible(), what).to.equal(true);
      await page.locator("#lang-toggle").click();
      await home();
      await h!.pasteRequest(uri);
      await page.locator("#pay-error", { hasText: "此请求" }).waitFor();
      expect(await error.textContent(), what).to.match(zh);
      await page.locator("#lang-toggle").click();
    }
    await h!.shot("invoice-3-refused");
  });
});
