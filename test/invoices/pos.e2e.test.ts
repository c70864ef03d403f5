import { existsSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { startNode, type RunningNode } from "../../node/src/app.ts";
import { configWith } from "../../node/src/config.ts";
import { createLogger } from "../../node/src/log.ts";
import { listInvoices } from "../../client/sdk/invoiceClient.ts";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { paymentProvider, sendPayment } from "../../client/sdk/payments.ts";
import { ACCOUNTS } from "../node/fixtures.ts";
import { ADMIN, getInvoice } from "./helpers.ts";
import { createMerchant } from "../helpers/merchants.ts";

const CHROMIUM = "/usr/bin/chromium";
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/** The node on the devnet's data dir; `port` 0 picks a free one, a restart passes the old one (the page's origin). */
function startPosNode(devnet: Devnet, port: number): Promise<RunningNode> {
  return startNode(configWith({ rpcUrl: devnet.chain.rpcUrl, dataDir: path.join(devnet.dir, "node-data"), deployment: devnet.deployment, pollMs: 20, adminToken: ADMIN, logLevel: "warn", port }), {
    log: createLogger({ level: "warn" }),
  });
}

/** The point of sale in headless Chromium: create an invoice, another account pays it, the page turns green. */
describe("pos: the /pos page in headless Chromium", function () {
  this.timeout(180_000);
  let devnet: Devnet | undefined;
  let node: RunningNode | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let apiKey: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's chromium; it never downloads a browser`);
    devnet = await startDevnet({ fund: [ACCOUNTS[0]] });
    node = await startPosNode(devnet, 0);
    apiKey = (await createMerchant(node.url, ADMIN, "Corner shop", ACCOUNTS[2])).apiKey;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    const context = await browser.newContext({ viewport: { width: 360, height: 780 }, locale: "en-US" });
    page = await context.newPage();
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await node?.stop().catch(() => undefined);
    await devnet?.stop().catch(() => undefined);
  });

  it("serves /pos with the strict CSP", async function () {
    const res = await fetch(`${node?.url ?? ""}/pos/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-security-policy")).to.include("default-src 'none'").and.include("script-src 'self'");
    expect((await fetch(`${node?.url ?? ""}/pos`, { redirect: "manual" })).headers.get("location")).to.equal("/pos/");
  });

  it("a refused API key is forgotten and the key form asks again; nothing is charged", async function () {
    if (!node) throw new Error("not started");
    await page.goto(`${node.url}/pos/`);
    await page.getByLabel("Merchant API key").fill(`ok_live_${"0".repeat(32)}`);
    await page.getByRole("button", { name: "Start" }).click();
    await page.getByLabel("Amount").fill("1.00");
    await page.getByLabel("Description").fill("Tea");
    await page.getByRole("button", { name: "Charge" }).click();
    await page.locator("#error", { hasText: "The API key was refused" }).waitFor();
    expect(await page.locator("#key-form").isVisible()).to.equal(true);
    expect(await page.locator("#invoice").isHidden()).to.equal(true);
    expect(await page.evaluate(() => sessionStorage.getItem("oriole.pos.apiKey"))).to.equal(null);
    expect((await listInvoices(node.url, apiKey)).items).to.deep.equal([]);
  });

  it("creates an invoice, shows its QR code, and turns green when another account pays it", async function () {
    if (!node || !devnet) throw new Error("not started");
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${node.url}/pos/`);
    await page.getByLabel("Merchant API key").fill(apiKey);
    await page.getByRole("button", { name: "Start" }).click();
    await page.getByLabel("Amount").fill("8.80");
    await page.locator("#currency").selectOption("CNY");
    await page.getByLabel("Description").fill("Dumplings");
    await page.getByRole("button", { name: "Charge" }).click();
    await page.locator("#invoice").waitFor({ state: "visible" });
    expect(await page.locator("#invoice-amount").textContent()).to.equal("8.80 CNY");
    expect(await page.locator("#invoice-status").textContent()).to.equal("Scan to pay");
    const qrLoaded = await page.locator("#invoice-qr").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0 && img.src.startsWith("blob:"));
    expect(qrLoaded).to.equal(true);
    expect(await page.evaluate(() => sessionStorage.getItem("oriole.pos.apiKey"))).to.equal(apiKey);
    expect(await page.evaluate(() => localStorage.length)).to.equal(0);

    const id = (await page.locator("#invoice").getAttribute("data-invoice-id")) ?? "";
    const invoice = await getInvoice(node.url, apiKey, id);
    const req = parsePaymentUri(invoice.uri);
    const provider = paymentProvider(devnet.chain.rpcUrl, node.chainId);
    try {
      await sendPayment({ signer: new Wallet(PAYER_KEY, provider), tokenAddress: req.token, to: req.to, amount: req.amount, reference: req.reference ?? "" });
    } finally {
      provider.destroy();
    }
    await page.waitForFunction(() => document.body.classList.contains("paid"), undefined, { timeout: 5000 });
    expect(await page.locator("#invoice-status").textContent()).to.equal("Paid ✓");
    const bg = await page.locator("#invoice").evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(bg).to.equal("rgb(25, 135, 84)");
    await page.getByRole("button", { name: "中文" }).click();
    expect(await page.locator("#invoice-status").textContent()).to.equal("已付款 ✓");
    expect(errors).to.deep.equal([]);
  });
  it("a stream cut by a node restart resumes: a payment made while the node was down still turns the page green", async function () {
    if (!node || !devnet) throw new Error("not started");
    await page.locator("#lang-toggle").click(); // back to English after the test before
    await page.locator("#new-sale").click();
    await page.locator("#amount").fill("3");
    await page.locator("#currency").selectOption("USD");
    await page.locator("#description").fill("Tea");
    await page.locator("#charge").click();
    await page.locator("#invoice-status", { hasText: "Scan to pay" }).waitFor();
    expect(await page.locator("#invoice-amount").textContent()).to.equal("3.00 USD");
    const id = (await page.locator("#invoice").getAttribute("data-invoice-id")) ?? "";
    const req = parsePaymentUri((await getInvoice(node.url, apiKey, id)).uri);

    const port = Number(new URL(node.url).port);
    await node.stop();
    node = undefined;
    const provider = paymentProvider(devnet.chain.rpcUrl, 31337);
    try {
      await sendPayment({ signer: new Wallet(PAYER_KEY, provider), tokenAddress: req.token, to: req.to, amount: req.amount, reference: req.reference ?? "" });
    } finally {
      provider.destroy();
    }
    expect(await page.evaluate(() => document.body.classList.contains("paid")), "no node, no news").to.equal(false);
    node = await startPosNode(devnet, port);
    await page.waitForFunction(() => document.body.classList.contains("paid"), undefined, { timeout: 20_000 });
    expect(await page.locator("#invoice-status").textContent()).to.equal("Paid ✓");
  });
});
