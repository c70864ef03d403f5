import { expect } from "chai";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgv } from "../../client/cli/argv.ts";
import { commandNames } from "../../client/cli/main.ts";
import { parseLimitArg, parseUrlOption } from "../../client/cli/options.ts";
import { parseAddressArg, parseCurrencyArg } from "../../client/cli/validate.ts";
import { parseAmount } from "../../client/sdk/amount.ts";
import { OrioleError } from "../../client/sdk/errors.ts";
import { errorCodeOf, jsonOf, runInProcess } from "./cliHarness.ts";

const DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DEV_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PAYEE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof OrioleError) return e.code;
    throw e;
  }
  return undefined;
}

describe("CLI argument validation", function () {
  describe("amounts (parseAmount)", function () {
    it("accepts human decimals with up to 6 decimals, exactly", function () {
      expect(parseAmount("12.5")).to.equal(12_500_000n);
      expect(parseAmount("0.000001")).to.equal(1n);
      expect(parseAmount("1000000")).to.equal(1_000_000_000_000n);
      expect(parseAmount("0.1")).to.equal(100_000n); // no float rounding
    });
    it("rejects 0, negatives, exponents, too many decimals and junk with invalid_amount", function () {
      for (const bad of ["0", "0.0", "-1", "-12.5", "1e5", "1E5", "1.1234567", "abc", "", " ", "1.", ".5", "01", "1,5", "+1", "0x10", "1_000", "Infinity", "NaN"]) {
        expect(codeOf(() => parseAmount(bad)), bad).to.equal("invalid_amount");
      }
    });
  });

  describe("addresses (parseAddressArg)", function () {
    it("accepts checksummed and single-case addresses and returns the checksummed form", function () {
      expect(parseAddressArg(DEV_ADDRESS)).to.equal(DEV_ADDRESS);
      expect(parseAddressArg(DEV_ADDRESS.toLowerCase())).to.equal(DEV_ADDRESS);
    });
    it("rejects bad checksums, wrong lengths, missing 0x, the zero address and ENS-like names", function () {
      const badChecksum = DEV_ADDRESS.replace("C518", "c518"); // one letter's case flipped
      for (const bad of [badChecksum, DEV_ADDRESS.slice(0, -1), DEV_ADDRESS.slice(2), `${DEV_ADDRESS}0`, "0x0000000000000000000000000000000000000000", "alice.eth", "", "XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS"]) {
        expect(codeOf(() => parseAddressArg(bad)), bad).to.equal("invalid_address");
      }
    });
    it("does not echo something that looks like a private key", function () {
      try {
        parseAddressArg(DEV_KEY);
        expect.fail("accepted a key as an address");
      } catch (e) {
        const err = e as OrioleError;
        expect(err.code).to.equal("invalid_address");
        expect(JSON.stringify({ m: err.message, d: err.details })).to.not.include(DEV_KEY.slice(2, 20));
      }
    });
  });

  it("currencies are case-insensitive and limited to CURRENCIES", function () {
    expect(parseCurrencyArg("usd")).to.equal("USD");
    expect(parseCurrencyArg("Cny")).to.equal("CNY");
    for (const bad of ["BTC", "US", "USDT", "", "oUSD"]) expect(codeOf(() => parseCurrencyArg(bad)), bad).to.equal("unknown_currency");
  });

  it("--limit is 1..100 and URLs must be http(s)", function () {
    expect(parseLimitArg("1")).to.equal(1);
    expect(parseLimitArg("100")).to.equal(100);
    for (const bad of ["0", "101", "-1", "1.5", "abc", ""]) expect(codeOf(() => parseLimitArg(bad)), bad).to.equal("usage");
    expect(parseUrlOption("--api", "http://127.0.0.1:8787/")).to.equal("http://127.0.0.1:8787");
    for (const bad of ["127.0.0.1:8787", "ftp://x", "nope"]) expect(codeOf(() => parseUrlOption("--api", bad)), bad).to.equal("usage");
  });

  describe("argv parsing", function () {
    const OPTS = { json: { type: "boolean" }, help: { type: "boolean", short: "h" }, limit: { type: "string" } } as const;
    it("treats negative numbers as arguments, honours --, --x=y and short flags", function () {
      const p = parseArgv(["pay", "0xabc", "-5", "usd", "--json", "--limit=3", "-h", "--", "--json"], OPTS);
      expect(p.positionals).to.deep.equal(["pay", "0xabc", "-5", "usd", "--json"]);
      expect(p.values.get("json")).to.equal(true);
      expect(p.values.get("limit")).to.equal("3");
      expect(p.values.get("help")).to.equal(true);
      expect(parseArgv(["x", "-.5"], OPTS).positionals).to.deep.equal(["x", "-.5"]);
    });
    it("rejects unknown options, missing values, values on flags, and key options", function () {
      expect(codeOf(() => parseArgv(["--nope"], OPTS))).to.equal("usage");
      expect(() => parseArgv(["--nope"], OPTS)).to.throw('unknown option --nope for "oriole" (see oriole --help)');
      expect(parseArgv(["--nope", "x", "-q"], OPTS, { allowUnknown: true })).to.deep.include({ positionals: ["x"], unknown: ["--nope", "-q"] });
      expect(codeOf(() => parseArgv(["-x"], OPTS))).to.equal("usage");
      expect(codeOf(() => parseArgv(["--limit"], OPTS))).to.equal("usage");
      expect(codeOf(() => parseArgv(["--limit", "--json"], OPTS))).to.equal("usage");
      expect(codeOf(() => parseArgv(["--json=yes"], OPTS))).to.equal("usage");
      for (const opt of ["--private-key", "--key", `--privkey=${DEV_KEY}`]) {
        try {
          parseArgv(["wallet", "import", opt], OPTS);
          expect.fail(opt);
        } catch (e) {
          expect((e as OrioleError).code).to.equal("usage");
          expect((e as OrioleError).details.usage).to.equal("usage.privateKeyArgument");
          expect((e as OrioleError).message).to.not.include(DEV_KEY.slice(2, 20));
        }
      }
    });
  });

  describe("the CLI in-process", function () {
    let dir: string;
    let keystore: string;
    // A keystore that does not exist, and an API that does not listen: input errors must be found first.
    let env: Record<string, string>;

    beforeEach(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "oriole-cli-"));
      keystore = path.join(dir, "keystore.json");
      env = { ORIOLE_KEYSTORE: keystore, ORIOLE_API_URL: "http://127.0.0.1:9", ORIOLE_RPC_URL: "http://127.0.0.1:9", ORIOLE_SCRYPT_N: "1024" };
    });
    afterEach(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it("pay: each kind of bad input exits 1 with its code before touching wallet, node or chain", async function () {
      const cases: [string[], string][] = [
        [["pay", PAYEE, "12.5", "BTC"], "unknown_currency"],
        [["pay", PAYEE.replace("CdDd", "cdDd"), "12.5", "USD"], "invalid_address"],
        [["pay", "0x1234", "12.5", "USD"], "invalid_address"],
        [["pay", PAYEE, "0", "USD"], "invalid_amount"],
        [["pay", PAYEE, "-5", "USD"], "invalid_amount"],
        [["pay", PAYEE, "1e5", "USD"], "invalid_amount"],
        [["pay", PAYEE, "1.1234567", "USD"], "invalid_amount"],
        [["pay", PAYEE, "abc", "USD"], "invalid_amount"],
        [["pay", PAYEE, "12.5", "usd"], "no_wallet"],
      ];
      for (const [argv, code] of cases) {
        const run = await runInProcess([...argv, "--json"], { env });
        expect(run.code, argv.join(" ")).to.equal(1);
        expect(errorCodeOf(run), argv.join(" ")).to.equal(code);
        expect(run.stderr).to.equal("");
      }
    });

    it("usage errors exit 2 with code usage, as JSON on stdout with --json", async function () {
      const cases = [
        [],
        ["wallet"],
        ["frobnicate"],
        ["wallet", "explode"],
        ["pay", PAYEE, "12.5"],
        ["pay", PAYEE, "12.5", "USD", "extra"],
        ["balance", "--force"],
        ["history", "--limit", "0"],
        ["history", "--limit"],
        ["balance", "--lang", "fr"],
        ["balance", "--api", "localhost:8787"],
        ["wallet", "import", DEV_KEY],
      ];
      for (const argv of cases) {
        const run = await runInProcess([...argv, "--json"], { env });
        expect(run.code, argv.join(" ")).to.equal(2);
        const body = jsonOf(run) as { error: { code: string; message: string } };
        expect(body.error.code, argv.join(" ")).to.equal("usage");
        expect(body.error.message).to.be.a("string").and.not.equal("");
        expect(run.stdout + run.stderr).to.not.include(DEV_KEY.slice(2, 20));
      }
      const human = await runInProcess(["pay", PAYEE], { env });
      expect(human.code).to.equal(2);
      expect(human.stdout).to.equal("");
      expect(human.stderr).to.match(/^error \[usage\]: pay needs <to> <amount> <currency>, or a payment request URI alone/);
    });

    it("an unknown option points at the help of the command it was given to, in English and Chinese", async function () {
      const cases: [string[], string][] = [
        [["--bogus"], 'unknown option --bogus for "oriole" (see oriole --help)'],
        [["--bogus", "value", "pay"], 'unknown option --bogus for "oriole" (see oriole --help)'],
        [["frobnicate", "--bogus"], 'unknown option --bogus for "oriole" (see oriole --help)'],
        [["--bogus", "pay", PAYEE, "1", "USD"], 'unknown option --bogus for "pay" (see oriole pay --help)'],
        [["wallet", "--bogus"], 'unknown option --bogus for "wallet" (see oriole wallet --help)'],
        [["wallet", "create", "-x"], 'unknown option -x for "wallet create" (see oriole wallet create --help)'],
        [["help", "pay", "--bogus=1"], 'unknown option --bogus for "pay" (see oriole pay --help)'],
        [["balance", "--force"], 'unknown option --force for "balance" (see oriole balance --help)'],
      ];
      for (const [argv, message] of cases) {
        const run = await runInProcess(argv, { env });
        expect(run.code, argv.join(" ")).to.equal(2);
        expect(run.stderr, argv.join(" ")).to.equal(`error [usage]: ${message}\n`);
      }
      const zhMain = await runInProcess(["--bogus", "--lang", "zh"], { env });
      expect(zhMain.stderr).to.equal("错误 [usage]: 命令“oriole”没有选项 --bogus（参见 oriole --help）\n");
      const zhCommand = jsonOf(await runInProcess(["refund", "cancel", "--bogus", "--json", "--lang", "zh"], { env })) as { error: { code: string; message: string } };
      expect(zhCommand.error).to.deep.equal({ code: "usage", message: "命令“refund cancel”没有选项 --bogus（参见 oriole refund cancel --help）" });
    });

    it("--help works for every command, in English and Chinese, and exits 0", async function () {
      for (const argv of [["--help"], ["-h"], ["help"], ["wallet", "--help"], ["wallet", "create", "--help"], ["wallet", "import", "-h"], ["wallet", "address", "--help"], ["balance", "--help"], ["pay", "--help"], ["history", "--help"], ["help", "pay"]]) {
        const en = await runInProcess(argv, { env });
        expect(en.code, argv.join(" ")).to.equal(0);
        expect(en.stdout).to.match(/Usage: oriole|oriole: the Oriole/);
        expect(en.stdout).to.include("--json");
        const zh = await runInProcess([...argv, "--lang", "zh"], { env });
        expect(zh.code).to.equal(0);
        expect(zh.stdout).to.match(/用法|命令行钱包/);
      }
      const json = await runInProcess(["pay", "--help", "--json"], { env });
      expect(jsonOf(json).help).to.include("oriole pay");
    });

    it("the main help lists each command exactly once, with no blank line among them, in English and Chinese", async function () {
      for (const lang of ["en", "zh"]) {
        const text = (await runInProcess(["--help", "--lang", lang], { env })).stdout;
        const block = text.split(/Commands:\n|命令：\n/)[1]?.split("\n\n")[0] ?? "";
        const lines = block.split("\n").map((l) => l.trim().split(/\s+/));
        expect(lines.length, lang).to.be.greaterThan(5);
        // A line "offline …" or "refund create|show|cancel" covers each of its group's commands.
        const covers = (line: string[], words: string[]) =>
          line[0] === words[0] && (words[1] === undefined || line[1] === "…" || (line[1] ?? "").split("|").includes(words[1]));
        for (const name of commandNames()) {
          expect(lines.filter((line) => covers(line, name.split(" "))).length, `${lang}: ${name}`).to.equal(1);
        }
        expect(text.slice(text.indexOf(block) + block.length), lang).to.match(/^\n\n(Run|运行) oriole <(command|命令)> --help/);
      }
    });

    it("picks the language from LC_ALL / LC_MESSAGES / LANG, and --lang overrides it", async function () {
      const argv = ["pay", PAYEE, "1", "BTC"];
      expect((await runInProcess(argv, { env: { ...env, LANG: "zh_CN.UTF-8" } })).stderr).to.include("未知币种");
      expect((await runInProcess(argv, { env: { ...env, LANG: "zh_CN.UTF-8", LC_ALL: "en_US.UTF-8" } })).stderr).to.include("unknown currency");
      expect((await runInProcess(argv, { env: { ...env, LANG: "en_US.UTF-8", LC_MESSAGES: "zh_TW.UTF-8" } })).stderr).to.include("未知币种");
      expect((await runInProcess([...argv, "--lang", "en"], { env: { ...env, LANG: "zh_CN.UTF-8" } })).stderr).to.include("unknown currency");
      expect((await runInProcess([...argv, "--lang=zh"], { env })).stderr).to.match(/^错误 \[unknown_currency\]/);
      const j = jsonOf(await runInProcess([...argv, "--json", "--lang", "zh"], { env })) as { error: { code: string; message: string } };
      expect(j.error.code).to.equal("unknown_currency");
      expect(j.error.message).to.include("未知币种");
    });

    it("wallet create / import / address with ORIOLE_PIN, and refuses to overwrite", async function () {
      const created = await runInProcess(["wallet", "create", "--json"], { env: { ...env, ORIOLE_PIN: "123456" } });
      expect(created.code, created.stdout).to.equal(0);
      const { address } = jsonOf(created) as { address: string };
      expect(address).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect((await stat(keystore)).mode & 0o777).to.equal(0o600);
      const before = await readFile(keystore);

      const again = await runInProcess(["wallet", "import", "--json"], { env: { ...env, ORIOLE_PIN: "123456", ORIOLE_PRIVATE_KEY: DEV_KEY } });
      expect(again.code).to.equal(1);
      expect(errorCodeOf(again)).to.equal("wallet_exists");
      expect(await readFile(keystore)).to.deep.equal(before);

      const shown = await runInProcess(["wallet", "address"], { env });
      expect(shown.stdout.trim()).to.equal(address);

      const forced = await runInProcess(["wallet", "import", "--force", "--json"], { env: { ...env, ORIOLE_PIN: "123456", ORIOLE_PRIVATE_KEY: DEV_KEY } });
      expect(forced.code).to.equal(0);
      expect(jsonOf(forced).address).to.equal(DEV_ADDRESS);
      expect(forced.stdout + forced.stderr).to.not.include(DEV_KEY.slice(2, 20));
      expect((await readFile(keystore, "utf8")).toLowerCase()).to.not.include(DEV_KEY.slice(2));
    });

    it("reads the key and PINs from stdin lines when stdin is not a terminal", async function () {
      const ok = await runInProcess(["wallet", "import", "--json"], { env, stdin: `${DEV_KEY}\nsecret-pin\nsecret-pin\n` });
      expect(ok.code, ok.stdout).to.equal(0);
      expect(jsonOf(ok).address).to.equal(DEV_ADDRESS);
      expect(ok.stdout + ok.stderr).to.not.include("secret-pin");
    });

    it("rejects weak PINs, mismatched PINs, missing PINs and bad keys, writing nothing", async function () {
      const cases: [string[], { stdin?: string; env?: Record<string, string> }, string][] = [
        [["wallet", "create"], { env: { ORIOLE_PIN: "12345" } }, "weak_pin"],
        [["wallet", "create"], { stdin: "123456\n654321\n" }, "pin_mismatch"],
        [["wallet", "create"], { stdin: "" }, "pin_required"],
        [["wallet", "import"], { stdin: "" }, "key_required"],
        [["wallet", "import"], { env: { ORIOLE_PRIVATE_KEY: "0x1234", ORIOLE_PIN: "123456" } }, "invalid_private_key"],
        [["wallet", "address"], {}, "no_wallet"],
        [["balance"], {}, "no_wallet"],
        [["history"], {}, "no_wallet"],
      ];
      for (const [argv, o, code] of cases) {
        const run = await runInProcess([...argv, "--json"], { env: { ...env, ...o.env }, stdin: o.stdin });
        expect(run.code, argv.join(" ")).to.equal(1);
        expect(errorCodeOf(run), argv.join(" ")).to.equal(code);
        try {
          await stat(keystore);
          expect.fail("a keystore was written");
        } catch (e) {
          expect((e as NodeJS.ErrnoException).code).to.equal("ENOENT");
        }
      }
    });

    it("a node that does not answer gives node_unreachable", async function () {
      const run = await runInProcess(["balance", DEV_ADDRESS, "--json"], { env });
      expect(run.code).to.equal(1);
      expect(errorCodeOf(run)).to.equal("node_unreachable");
    });
  });
});
