/**
 * What the web wallet's browser tests share: a real hardhat node with Oriole
 * deployed, an in-process node (with its relayer) serving /wallet, and
 * headless Chromium on a small phone's viewport with a CDP virtual
 * authenticator playing the phone's secure chip and biometric check.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Wallet, getBytes, type Signer } from "ethers";
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from "playwright-core";
import type { StableToken } from "../../types/ethers-contracts/index.ts";
import { encodePasskeySignature } from "../../client/sdk/account/webauthn.ts";
import { startNode, type RunningNode } from "../../node/src/app.ts";
import { configWith, type NodeConfig } from "../../node/src/config.ts";
import { createLogger } from "../../node/src/log.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Hardhat's default account #1 (funded by the devnet) pays the wallet its first money. */
export const FUNDER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/** Hardhat's default account #2: the relayer's key (it has ETH for gas). */
export const RELAYER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
/** Hardhat's default account #3: pays gas for what the tests send themselves. */
export const FORCER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

export interface NetworkBody {
  chainId: number;
  contracts: { tokens: Record<string, string>; accounts: { implementation: string; factory: string; relay: string }; escrow?: string };
  relayer: { address: string; fees: Record<string, string> } | null;
}

/** What the wallet keeps in localStorage (public data only). */
export interface StoredWalletJson {
  credentialId: string;
  qx: string;
  qy: string;
  salt: string;
  address: string;
}

export interface WalletHarness {
  devnet: Devnet;
  node: RunningNode;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  /** http://localhost:<port>/wallet/ (localhost: a secure context and a valid WebAuthn RP ID). */
  walletUrl: string;
  net: NetworkBody;
  usd: StableToken;
  funder: Signer;
  /** Saves a full-page screenshot when ORIOLE_SCREENSHOTS names a folder. */
  shot(name: string): Promise<void>;
  /** Waits until the node has indexed the chain's head. */
  indexedToHead(): Promise<void>;
  /** From the home screen: pastes a request on the pay screen and presses Continue (the confirmation or an error follows). */
  pasteRequest(uri: string): Promise<void>;
  /** pasteRequest, then waits for the confirmation screen. */
  reviewInUi(uri: string): Promise<void>;
  /** Opens the wallet, creates a passkey wallet through the welcome screen, and returns what it stored. */
  createWalletInUi(): Promise<StoredWalletJson>;
  /**
   * Has the page's passkey (the virtual authenticator) assert over a 32-byte
   * `challenge`, outside the wallet's code: the account's passkey signature of it.
   * `userVerification` "discouraged" makes an assertion without the UV flag.
   */
  passkeySign(w: StoredWalletJson, challenge: string, userVerification?: UserVerificationRequirement): Promise<string>;
  /** Stops the browser, the node and the chain; each step runs even if one throws. */
  stop(): Promise<void>;
}

/** Starts chain, node and browser. `config` adds node settings (e.g. an admin token). */
export async function startWalletHarness(opts: { config?: Partial<NodeConfig> } = {}): Promise<WalletHarness> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's chromium (apt-get install -y chromium); it never downloads a browser`);
  }
  let devnet: Devnet | undefined;
  let node: RunningNode | undefined;
  let browser: Browser | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await node?.stop().catch(() => undefined);
    await devnet?.stop().catch(() => undefined);
  };
  try {
    const funderAddress = new Wallet(FUNDER_KEY).address;
    devnet = await startDevnet({ fund: [funderAddress] });
    node = await startNode(
      configWith({ rpcUrl: devnet.chain.rpcUrl, dataDir: path.join(devnet.dir, "node-data"), deployment: devnet.deployment, relayerKey: RELAYER_KEY, logLevel: "warn", ...opts.config }),
      { log: createLogger({ level: "warn" }) },
    );
    const walletUrl = `${node.url.replace("127.0.0.1", "localhost")}/wallet/`;
    const net = (await (await fetch(`${node.url}/v1/network`)).json()) as NetworkBody;
    const funder = new Wallet(FUNDER_KEY, devnet.connection.ethers.provider);
    const usdAddress = net.contracts.tokens.USD;
    if (usdAddress === undefined) throw new Error("no USD token");
    const usd = await devnet.connection.ethers.getContractAt("StableToken", usdAddress);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    // A small phone's viewport: the page is mobile-first.
    const context = await browser.newContext({ viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, locale: "en-US" });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const d = devnet;
    const n = node;
    const screenshots = process.env.ORIOLE_SCREENSHOTS;
    const pasteRequest = async (uri: string): Promise<void> => {
      await page.locator("#pay-button").click();
      await page.locator("#payment-uri").fill(uri);
      await page.locator("#pay-continue").click();
    };
    return {
      devnet: d,
      node: n,
      browser,
      context,
      page,
      cdp,
      authenticatorId,
      walletUrl,
      net,
      usd,
      funder,
      async shot(name) {
        if (screenshots !== undefined) await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
      },
      async indexedToHead() {
        await n.waitForIndexed(await d.connection.ethers.provider.getBlockNumber(), 30_000);
      },
      pasteRequest,
      async reviewInUi(uri) {
        await pasteRequest(uri);
        await page.locator("#screen-confirm").waitFor({ state: "visible" });
      },
      async createWalletInUi() {
        await page.goto(walletUrl);
        await page.locator("#create-wallet").click();
        await page.locator("#screen-home").waitFor({ state: "visible" });
        const raw = await page.evaluate(() => localStorage.getItem("oriole.wallet.v1"));
        if (raw === null) throw new Error("the wallet saved nothing");
        return JSON.parse(raw) as StoredWalletJson;
      },
      async passkeySign(w, challenge, userVerification = "required") {
        // No named helpers inside: the test runner's TS loader would wrap them in a __name() the page lacks.
        const out = await page.evaluate(
          async ({ credentialId, challengeBytes, uv }) => {
            const cred = (await navigator.credentials.get({
              publicKey: {
                challenge: new Uint8Array(challengeBytes),
                rpId: location.hostname,
                allowCredentials: [{ type: "public-key", id: Uint8Array.from(atob(credentialId.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)) }],
                userVerification: uv,
              },
            })) as PublicKeyCredential;
            const r = cred.response as AuthenticatorAssertionResponse;
            return { authenticatorData: [...new Uint8Array(r.authenticatorData)], clientDataJSON: [...new Uint8Array(r.clientDataJSON)], signature: [...new Uint8Array(r.signature)] };
          },
          { credentialId: w.credentialId, challengeBytes: [...getBytes(challenge)], uv: userVerification },
        );
        return encodePasskeySignature({ qx: w.qx, qy: w.qy, challenge, authenticatorData: Uint8Array.from(out.authenticatorData), clientDataJSON: Uint8Array.from(out.clientDataJSON), signature: Uint8Array.from(out.signature) });
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
