import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import express from "express";
import { isOrioleError } from "../../client/sdk/errors.ts";
import { listen, type HttpServer } from "../../node/src/api/server.ts";
import { buildWebApps, webAppsRouter, WALLET_CSP, type WebApps } from "../../node/src/api/webApps.ts";

const WALLET_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../client/web/wallet");

describe("web apps (the wallet bundled by the node)", function () {
  this.timeout(60_000);
  let apps: WebApps;
  let server: HttpServer;

  before(async function () {
    apps = await buildWebApps();
    const app = express();
    app.use(webAppsRouter(apps));
    server = await listen(app, { host: "127.0.0.1", port: 0 });
  });
  after(async function () {
    await server.close();
  });

  it("bundles main.ts into one browser ES module", function () {
    const js = apps.wallet.get("main.js");
    expect(js?.contentType).to.match(/^text\/javascript/);
    const text = js!.body.toString("utf8");
    expect(text.length).to.be.greaterThan(10_000);
    // Guards the zod-locales trim: about 450 kB today, 700 kB with every zod locale.
    expect(text.length).to.be.lessThan(550_000);
    // Nothing Node-only may reach the page.
    expect(text).not.to.match(/\brequire\(["']node:|from["']node:/);
  });

  it("serves the page, its script and styles with a strict CSP", async function () {
    for (const [file, type] of [["", /^text\/html/], ["main.js", /^text\/javascript/], ["base.css", /^text\/css/], ["styles.css", /^text\/css/], ["icon.svg", /^image\/svg\+xml/]] as const) {
      const res = await fetch(`${server.url}/wallet/${file}`);
      expect(res.status, file).to.equal(200);
      expect(res.headers.get("content-type"), file).to.match(type);
      expect(res.headers.get("content-security-policy")).to.equal(WALLET_CSP);
      expect(res.headers.get("x-content-type-options")).to.equal("nosniff");
      expect(res.headers.get("x-frame-options")).to.equal("DENY");
    }
    expect(WALLET_CSP).to.include("script-src 'self'");
    expect(WALLET_CSP).not.to.include("unsafe");
    const html = await (await fetch(`${server.url}/wallet/`)).text();
    // No inline script: the CSP would block it.
    expect(html).to.match(/<script type="module" src="main\.js"><\/script>/);
    expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it("gives the wallet and the POS one shared <head> (client/web/common/head.html), base.css and icon", async function () {
    const heads: string[] = [];
    for (const app of ["wallet", "pos"]) {
      const html = await (await fetch(`${server.url}/${app}/`)).text();
      expect(html, app).not.to.include("<!--oriole:head-->");
      expect(html, app).to.match(/<head>\s*<meta charset="utf-8">/);
      expect(html, app).to.match(/<link rel="stylesheet" href="base\.css">\s*<link rel="stylesheet" href="styles\.css">/);
      heads.push(html.slice(html.indexOf("<head>"), html.indexOf("<title>")));
    }
    expect(heads[0]).to.equal(heads[1]);
    expect(apps.pos.get("base.css")?.body.equals(apps.wallet.get("base.css")!.body)).to.equal(true);
    expect(apps.pos.get("icon.svg")?.body.equals(apps.wallet.get("icon.svg")!.body)).to.equal(true);
  });

  it("sends the bundle gzipped to browsers that accept it, and plain otherwise", async function () {
    const js = apps.wallet.get("main.js")!;
    const zipped = await fetch(`${server.url}/wallet/main.js`, { headers: { "accept-encoding": "gzip" } });
    expect(zipped.headers.get("content-encoding")).to.equal("gzip");
    expect(zipped.headers.get("vary")).to.match(/accept-encoding/i);
    expect(Buffer.from(await zipped.arrayBuffer()).equals(js.body)).to.equal(true);
    expect(js.gzipped.length).to.be.lessThan(js.body.length / 2);
    const plain = await fetch(`${server.url}/wallet/main.js`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("content-encoding")).to.equal(null);
    expect(Buffer.from(await plain.arrayBuffer()).equals(js.body)).to.equal(true);
  });

  it("redirects /wallet to /wallet/ (relative asset URLs) and serves nothing else", async function () {
    const res = await fetch(`${server.url}/wallet?x=1`, { redirect: "manual" });
    expect(res.status).to.equal(301);
    expect(res.headers.get("location")).to.equal("/wallet/?x=1");
    expect((await fetch(`${server.url}/wallet/index.html`)).status).to.equal(404);
    expect((await fetch(`${server.url}/wallet/main.ts`)).status).to.equal(404);
    expect((await fetch(`${server.url}/wallet/..%2Fpackage.json`)).status).to.equal(404);
  });

  it("fails with web_build_failed naming the file and line when the wallet does not bundle", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-web-"));
    try {
      await cp(WALLET_DIR, dir, { recursive: true });
      await writeFile(path.join(dir, "main.ts"), 'import { nothing } from "./missing.ts";\nconsole.log(nothing);\n');
      let error: unknown;
      try {
        await buildWebApps({ walletDir: dir });
      } catch (e) {
        error = e;
      }
      expect(isOrioleError(error) && error.code).to.equal("web_build_failed");
      expect((error as Error).message).to.match(/main\.ts:1:\d+: Could not resolve "\.\/missing\.ts"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
