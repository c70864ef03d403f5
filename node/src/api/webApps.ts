import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Message, type Plugin } from "esbuild";
import express from "express";
import { OrioleError } from "../../../client/sdk/errors.ts";

/**
 * The browser apps the node serves (today: the passkey wallet at /wallet).
 * Their TypeScript is bundled with esbuild once, when the node starts, so
 * neither `npm start` nor `npm test` needs a build step; a bundling failure
 * stops the node with `web_build_failed` instead of serving a broken page.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const WALLET_DIR = path.join(ROOT, "client", "web", "wallet");
const POS_DIR = path.join(ROOT, "client", "web", "pos");
/** What every page shares: head.html (put where a page's index.html says HEAD_MARKER), base.css, icon.svg. */
const COMMON_DIR = path.join(ROOT, "client", "web", "common");
const HEAD_MARKER = "<!--oriole:head-->";

export interface WebAsset {
  contentType: string;
  body: Buffer;
  /** The body gzipped once at build time, sent to browsers that accept it. */
  gzipped: Buffer;
}

/** The wallet's files, by the path they are served under (relative to /wallet/). */
export interface WebApps {
  wallet: ReadonlyMap<string, WebAsset>;
  /** The point of sale at /pos (same layout and headers as the wallet). */
  pos: ReadonlyMap<string, WebAsset>;
}

/**
 * Content-Security-Policy of the wallet: its own origin only, no inline
 * script or style, no frames; camera frames arrive as blob:/mediastream.
 */
export const WALLET_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function formatMessages(messages: readonly Message[]): string {
  return messages
    .map((m) => (m.location ? `${path.relative(ROOT, m.location.file)}:${m.location.line}:${m.location.column}: ${m.text}` : m.text))
    .join("\n");
}

/**
 * zod re-exports every language's error messages as `z.locales` (about 250 kB
 * minified); the wallet shows its own messages and never switches zod's
 * locale, so only the English one (zod's default) is bundled.
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: path.join(path.dirname(args.importer), "../locales/en.js"), namespace: "zod-locales" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};

/**
 * Bundles the wallet's main.ts for the browser and reads its static files
 * (`walletDir` defaults to client/web/wallet; tests point it elsewhere).
 */
export async function buildWebApps(opts: { walletDir?: string } = {}): Promise<WebApps> {
  const both = async (walletDir: string): Promise<WebApps> => {
    const [wallet, pos] = await Promise.all([bundle(walletDir), bundle(POS_DIR)]);
    return { wallet, pos };
  };
  if (opts.walletDir !== undefined) return both(opts.walletDir);
  // The sources do not change while the process runs: nodes started in one process (tests, bench) share one build.
  built ??= both(WALLET_DIR).catch((e: unknown) => {
    built = undefined;
    throw e;
  });
  return built;
}

let built: Promise<WebApps> | undefined;

async function bundle(walletDir: string): Promise<ReadonlyMap<string, WebAsset>> {
  let js: Buffer;
  try {
    const result = await build({
      entryPoints: [path.join(walletDir, "main.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022"],
      write: false,
      minify: true,
      legalComments: "none",
      logLevel: "silent",
      plugins: [zodEnglishOnly],
      // `process.env` does not exist in a page; nothing in the bundle may depend on it.
      define: { "process.env.NODE_ENV": '"production"' },
    });
    const out = result.outputFiles[0];
    if (!out) throw new Error("esbuild produced no output");
    js = Buffer.from(out.contents);
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors;
    const detail = Array.isArray(errors) && errors.length > 0 ? formatMessages(errors) : (e as Error).message;
    throw new OrioleError("web_build_failed", `cannot bundle the web wallet (${path.relative(ROOT, path.join(walletDir, "main.ts"))}):\n${detail}`, {}, { cause: e });
  }
  const readStatic = async (dir: string, name: string): Promise<Buffer> => {
    try {
      return await readFile(path.join(dir, name));
    } catch (e) {
      throw new OrioleError("web_build_failed", `cannot read the web page's ${path.relative(ROOT, path.join(dir, name))}: ${(e as Error).message}`, {}, { cause: e });
    }
  };
  const [page, head, base, css, icon] = await Promise.all([
    readStatic(walletDir, "index.html"),
    readStatic(COMMON_DIR, "head.html"),
    readStatic(COMMON_DIR, "base.css"),
    readStatic(walletDir, "styles.css"),
    readStatic(COMMON_DIR, "icon.svg"),
  ]);
  const pageText = page.toString("utf8");
  if (!pageText.includes(HEAD_MARKER)) throw new OrioleError("web_build_failed", `${path.relative(ROOT, path.join(walletDir, "index.html"))} has no ${HEAD_MARKER} in its <head>`);
  const html = Buffer.from(pageText.replace(HEAD_MARKER, head.toString("utf8").trim()), "utf8");
  const asset = (contentType: string, body: Buffer): WebAsset => ({ contentType, body, gzipped: gzipSync(body, { level: 9 }) });
  return new Map([
    ["", asset("text/html; charset=utf-8", html)],
    ["main.js", asset("text/javascript; charset=utf-8", js)],
    ["base.css", asset("text/css; charset=utf-8", base)],
    ["styles.css", asset("text/css; charset=utf-8", css)],
    ["icon.svg", asset("image/svg+xml", icon)],
  ]);
}

/**
 * GET /wallet (redirects to /wallet/) and its files, with the page's security
 * headers. Given the bundle's promise, requests wait for it (the node starts
 * serving the API while it is built).
 */
export function webAppsRouter(built: WebApps | (() => Promise<WebApps>)): express.Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  for (const app of ["wallet", "pos"] as const) {
    router.get(`/${app}`, (req, res) => {
      const q = req.originalUrl.indexOf("?");
      res.redirect(301, `/${app}/${q >= 0 ? req.originalUrl.slice(q) : ""}`);
    });
  }
  const serve = async (app: keyof WebApps, name: string, req: express.Request, res: express.Response, next: express.NextFunction): Promise<void> => {
    const apps = typeof built === "function" ? await built() : built;
    const asset = apps[app].get(name);
    if (!asset) {
      next();
      return;
    }
    res.set({
      "content-type": asset.contentType,
      "content-security-policy": WALLET_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "permissions-policy": "camera=(self), publickey-credentials-create=(self), publickey-credentials-get=(self), microphone=(), geolocation=()",
    });
    res.vary("accept-encoding");
    if (/\bgzip\b/.test(req.get("accept-encoding") ?? "")) {
      res.set("content-encoding", "gzip");
      res.send(asset.gzipped);
    } else {
      res.send(asset.body);
    }
  };
  router.get("/wallet/", (req, res, next) => serve("wallet", "", req, res, next));
  router.get("/wallet/:file", (req, res, next) => serve("wallet", req.params.file, req, res, next));
  router.get("/pos/", (req, res, next) => serve("pos", "", req, res, next));
  router.get("/pos/:file", (req, res, next) => serve("pos", req.params.file, req, res, next));
  return router;
}
