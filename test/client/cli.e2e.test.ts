import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Contract, Wallet, type Provider } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { CURRENCIES, type Currency } from "../../client/sdk/currencies.ts";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { spawnNode, type NodeProcess } from "../helpers/nodeProcess.ts";
import { errorCodeOf, jsonOf, runProcess, type CliRun } from "./cliHarness.ts";

// Hardhat account #1, funded by the devnet with 1,000,000 of every currency.
const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PIN = "e2e-pin-123";

interface PaymentJson {
  txHash: string;
  blockNumber: number;
  from: string;
  to: string;
  currency: string;
  amount: string;
}

interface HistoryJson {
  address: string;
  items: { direction: string; counterparty: string; amount: string; amountBaseUnits: string; currency: string; txHash: string; time: string }[];
  nextCursor: string | null;
}

/**
 * End to end: the real `oriole` executable as a child process, against a real
 * `hardhat node` with Oriole deployed and the real settlement node.
 */
describe("oriole CLI end to end (hardhat node + settlement node)", function () {
  this.timeout(120_000);
  let devnet: Devnet;
  let started: NodeProcess | undefined;
  /** The settlement node (started in `before`). */
  const node = (): NodeProcess => {
    if (!started) throw new Error("the settlement node is not running");
    return started;
  };
  let provider: Provider;
  let env: Record<string, string>;
  const payee = Wallet.createRandom().address;
  let paid: PaymentJson | undefined;

  const oriole = (argv: readonly string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => runProcess(argv, { env: { ...env, ...extraEnv } });

  async function chainBalance(currency: Currency, who: string): Promise<bigint> {
    const token = new Contract(devnet.deployment.contracts.tokens[currency], STABLE_TOKEN_ABI, provider);
    const v: unknown = await token.getFunction("balanceOf").staticCall(who);
    if (typeof v !== "bigint") throw new Error("balanceOf did not return a bigint");
    return v;
  }

  /** Everything an error case must leave unchanged. */
  async function snapshot() {
    const balances: Record<string, string> = {};
    for (const c of CURRENCIES) {
      balances[`payer.${c}`] = (await chainBalance(c, PAYER)).toString();
      balances[`payee.${c}`] = (await chainBalance(c, payee)).toString();
    }
    return {
      balances,
      nonce: await provider.getTransactionCount(PAYER, "latest"),
      pendingNonce: await provider.getTransactionCount(PAYER, "pending"),
      block: await provider.getBlockNumber(),
      apiPayer: (await node().get(`/v1/accounts/${PAYER}/balances`)).body,
    };
  }

  before(async function () {
    devnet = await startDevnet({ fund: [PAYER] });
    provider = devnet.connection.ethers.provider;
    started = await spawnNode({ args: ["--rpc", devnet.chain.rpcUrl, "--deployment", devnet.deploymentFile, "--data", path.join(devnet.dir, "node-data"), "--port", "0", "--host", "127.0.0.1"] });
    await node().waitForIndexed(await provider.getBlockNumber());
    env = {
      ORIOLE_KEYSTORE: path.join(devnet.dir, "wallet", "keystore.json"),
      ORIOLE_API_URL: node().url,
      ORIOLE_RPC_URL: devnet.chain.rpcUrl,
      ORIOLE_SCRYPT_N: "1024", // tests only: real keystores use 2^17
    };
  });

  after(async function () {
    // `before` may have failed half-way.
    await started?.kill();
    await (devnet as Devnet | undefined)?.stop();
  });

  it("imports a funded Hardhat account from ORIOLE_PRIVATE_KEY", async function () {
    const run = await oriole(["wallet", "import", "--json"], { ORIOLE_PRIVATE_KEY: PAYER_KEY, ORIOLE_PIN: PIN });
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(jsonOf(run)).to.deep.equal({ address: PAYER, keystore: env.ORIOLE_KEYSTORE });
    expect(run.stdout + run.stderr).to.not.include(PAYER_KEY.slice(2, 20));
    const addr = await oriole(["wallet", "address"]);
    expect(addr.stdout.trim()).to.equal(PAYER);
  });

  it("shows the funded balance from the node", async function () {
    const run = await oriole(["balance", "--json"]);
    expect(run.code, run.stdout).to.equal(0);
    const body = jsonOf(run) as { address: string; balances: Record<string, { amount: string; baseUnits: string }> };
    expect(body.address).to.equal(PAYER);
    for (const c of CURRENCIES) expect(body.balances[c]).to.deep.equal({ amount: "1000000", baseUnits: "1000000000000" });
    const human = await oriole(["balance", "--lang", "zh"]);
    expect(human.stdout).to.include("的余额").and.include("USD  1000000");
  });

  it("pays a fresh address 12.5 USD; the node shows it within 1 s of the CLI returning", async function () {
    const before = await snapshot();
    const run = await oriole(["pay", payee, "12.5", "usd", "--json"], { ORIOLE_PIN: PIN });
    const returnedAt = performance.now();
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    paid = jsonOf(run) as unknown as PaymentJson;
    expect(paid).to.include({ from: PAYER, to: payee, currency: "USD", amount: "12.5" });
    expect(paid.txHash).to.match(/^0x[0-9a-f]{64}$/);

    // Poll the node until both the payee's payments and balance show it.
    let seenAt: number | undefined;
    let polls = 0;
    while (performance.now() - returnedAt < 5_000) {
      polls++;
      const [payments, balances] = await Promise.all([node().get(`/v1/accounts/${payee}/payments`), node().get(`/v1/accounts/${payee}/balances`)]);
      const items = (payments.body as { items: { txHash: string; amount: string; currency: string; from: string }[] }).items;
      const usd = (balances.body as { balances: Record<string, string> }).balances.USD;
      if (items.some((i) => i.txHash === paid?.txHash && i.amount === "12500000" && i.currency === "USD" && i.from === PAYER) && usd === "12500000") {
        seenAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seenAt, "payment never became visible").to.not.equal(undefined);
    const latency = (seenAt ?? 0) - returnedAt;
    console.log(`      oriole pay took ${run.ms.toFixed(0)} ms (process start to exit); visible in the node's API ${latency.toFixed(0)} ms after it returned (${polls} polls)`);
    expect(latency).to.be.below(1_000);

    const after = await snapshot();
    expect(after.nonce).to.equal(before.nonce + 1);
    expect(BigInt(after.balances["payer.USD"] ?? "")).to.equal(BigInt(before.balances["payer.USD"] ?? "") - 12_500_000n);
    expect(await chainBalance("USD", payee)).to.equal(12_500_000n);
  });

  it("history shows the payment for payee (in) and payer (out)", async function () {
    if (!paid) this.skip();
    const payeeRun = await oriole(["history", payee, "--json"]);
    expect(payeeRun.code).to.equal(0);
    const payeeHist = jsonOf(payeeRun) as unknown as HistoryJson;
    expect(payeeHist.items).to.have.length(1);
    expect(payeeHist.items[0]).to.include({ direction: "in", counterparty: PAYER, amount: "12.5", amountBaseUnits: "12500000", currency: "USD", txHash: paid.txHash });
    expect(payeeHist.nextCursor).to.equal(null);

    const own = await oriole(["history", "--limit", "1", "--json"]);
    expect(own.code).to.equal(0);
    const ownHist = jsonOf(own) as unknown as HistoryJson;
    expect(ownHist.address).to.equal(PAYER);
    expect(ownHist.items[0]).to.include({ direction: "out", counterparty: payee, amount: "12.5", currency: "USD", txHash: paid.txHash });
    // The payer also received mints: a second page exists and is reachable with the cursor.
    expect(ownHist.nextCursor).to.be.a("string");
    const next = await oriole(["history", "--limit", "1", "--cursor", ownHist.nextCursor ?? "", "--json"]);
    expect(next.code, next.stdout).to.equal(0);
    expect((jsonOf(next) as unknown as HistoryJson).items[0]?.txHash).to.not.equal(paid.txHash);

    const human = await oriole(["history", payee]);
    expect(human.stdout).to.match(/ in\s+\+12\.5 USD\s+from 0x70997970C51812dc3A010C7d01b50e0d17dc79C8/);
    const zh = await oriole(["history", "--lang", "zh", "--limit", "1"]);
    expect(zh.stdout).to.match(/支出\s+-12\.5 USD\s+付给 /);
  });

  describe("errors exit non-zero with a stable code and change nothing", function () {
    let fakeChain: http.Server;
    let fakeRpc: string;

    before(async function () {
      // A JSON-RPC endpoint that claims to be another chain (mainnet).
      fakeChain = http.createServer((req, res) => {
        let body = "";
        req.on("data", (b: Buffer) => (body += b.toString()));
        req.on("end", () => {
          const { id } = JSON.parse(body) as { id: number };
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x1" }));
        });
      });
      await new Promise<void>((r) => fakeChain.listen(0, "127.0.0.1", r));
      fakeRpc = `http://127.0.0.1:${(fakeChain.address() as AddressInfo).port}`;
    });
    after(async function () {
      await new Promise((r) => fakeChain.close(r));
    });

    const cases: { name: string; argv: () => string[]; env?: () => Record<string, string>; code: string }[] = [
      { name: "wrong PIN", argv: () => ["pay", payee, "1", "USD"], env: () => ({ ORIOLE_PIN: "not-the-pin" }), code: "wrong_pin" },
      { name: "unknown currency", argv: () => ["pay", payee, "1", "BTC"], code: "unknown_currency" },
      { name: "insufficient funds", argv: () => ["pay", payee, "2000000", "EUR"], code: "insufficient_funds" },
      { name: "insufficient funds (just over)", argv: () => ["pay", payee, "999987.500001", "USD"], code: "insufficient_funds" },
      { name: "malformed address (bad checksum)", argv: () => ["pay", payee.slice(0, 2) + swapCase(payee.slice(2)), "1", "USD"], code: "invalid_address" },
      { name: "malformed address (too short)", argv: () => ["pay", payee.slice(0, 40), "1", "USD"], code: "invalid_address" },
      { name: "malformed amount 1e5", argv: () => ["pay", payee, "1e5", "USD"], code: "invalid_amount" },
      { name: "malformed amount -1", argv: () => ["pay", payee, "-1", "USD"], code: "invalid_amount" },
      { name: "malformed amount 0", argv: () => ["pay", payee, "0", "USD"], code: "invalid_amount" },
      { name: "malformed amount 1.1234567", argv: () => ["pay", payee, "1.1234567", "USD"], code: "invalid_amount" },
      { name: "malformed amount abc", argv: () => ["pay", payee, "abc", "USD"], code: "invalid_amount" },
      { name: "RPC on another chain", argv: () => ["pay", payee, "1", "USD", "--rpc", fakeRpc], code: "chain_mismatch" },
      { name: "node unreachable", argv: () => ["pay", payee, "1", "USD", "--api", "http://127.0.0.1:9"], code: "node_unreachable" },
    ];

    for (const c of cases) {
      it(c.name, async function () {
        const before = await snapshot();
        const run = await oriole([...c.argv(), "--json"], { ORIOLE_PIN: PIN, ...c.env?.() });
        expect(run.code, run.stdout + run.stderr).to.equal(1);
        expect(errorCodeOf(run)).to.equal(c.code);
        expect((jsonOf(run).error as { message: string }).message).to.be.a("string").and.not.equal("");
        expect(run.stderr).to.equal("");
        expect(await snapshot()).to.deep.equal(before);
      });
    }
  });
});

/** Flips the case of every letter: a mixed-case address whose checksum is wrong. */
function swapCase(s: string): string {
  return s.replace(/[a-fA-F]/g, (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()));
}
