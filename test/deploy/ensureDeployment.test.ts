import { expect } from "chai";
import { network } from "hardhat";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { ensureDeployment, DEV_FUNDING } from "../../scripts/deploy/ensureDeployment.ts";
import { CURRENCIES } from "../../client/sdk/currencies.ts";
import { readDeployment } from "../../client/sdk/deployment.ts";
import path from "node:path";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";

describe("ensureDeployment (hardhat node)", function () {
  let devnet: Devnet;
  const funded = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"];

  before(async function () {
    devnet = await startDevnet({ fund: funded });
  });
  after(async function () {
    await devnet.stop();
  });

  it("deploys one 6-decimal StableToken per currency and writes deployments/<chainId>.json", async function () {
    const { deployment, connection } = devnet;
    expect(deployment.chainId).to.equal(31337);
    const onDisk = await readDeployment(devnet.deploymentFile);
    expect(onDisk).to.deep.equal(deployment);
    for (const code of CURRENCIES) {
      const token = await connection.ethers.getContractAt("StableToken", deployment.contracts.tokens[code]);
      expect(await token.currency()).to.equal(code);
      expect(await token.decimals()).to.equal(6n);
      for (const who of funded) expect(await token.balanceOf(who)).to.equal(DEV_FUNDING);
    }
    const addrs = new Set(Object.values(deployment.contracts.tokens));
    expect(addrs.size).to.equal(CURRENCIES.length);
  });

  it("deploys the passkey account implementation (1-day / 2-day delays), its factory and the payment relay", async function () {
    const { deployment, connection } = devnet;
    const { implementation, factory, relay } = deployment.contracts.accounts;
    const impl = await connection.ethers.getContractAt("PasskeyAccount", implementation);
    expect(await impl.limitRaiseDelay()).to.equal(86_400n);
    expect(await impl.recoveryDelay()).to.equal(172_800n);
    const f = await connection.ethers.getContractAt("PasskeyAccountFactory", factory);
    expect(await f.implementation()).to.equal(implementation);
    const r = await connection.ethers.getContractAt("PaymentRelay", relay);
    expect(await r.factory()).to.equal(factory);
  });

  it("reuses the deployment while the chain still has it, and does not fund twice", async function () {
    const again = await ensureDeployment({
      connection: devnet.connection,
      deploymentsDir: path.dirname(devnet.deploymentFile),
      fund: funded,
    });
    expect(again.reused).to.equal(true);
    expect(again.deployment).to.deep.equal(devnet.deployment);
    const token = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD);
    expect(await token.balanceOf(funded[0]!)).to.equal(DEV_FUNDING);
  });

  it("redeploys over an outdated deployment file (one without the passkey accounts)", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "oriole-deploy-"));
    const other = await network.create({ network: "default", chainType: "l1" });
    try {
      const first = await ensureDeployment({ connection: other, deploymentsDir: dir });
      const json = JSON.parse(await readFile(first.file, "utf8")) as { contracts: Record<string, unknown> };
      delete json.contracts.accounts;
      await writeFile(first.file, JSON.stringify(json));
      const again = await ensureDeployment({ connection: other, deploymentsDir: dir });
      expect(again.reused).to.equal(false);
      expect(await readDeployment(again.file)).to.deep.equal(again.deployment);
    } finally {
      await other.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("redeploys when the recorded chain is gone (a restarted dev chain)", async function () {
    // A fresh in-process chain has the same chain id but another genesis.
    const other = await network.create({ network: "default", chainType: "l1" });
    try {
      const res = await ensureDeployment({ connection: other, deploymentsDir: path.dirname(devnet.deploymentFile) });
      expect(res.reused).to.equal(false);
      expect(res.deployment.genesisHash).to.not.equal(devnet.deployment.genesisHash);
      const code = await other.ethers.provider.getCode(res.deployment.contracts.tokens.CNY);
      expect(code).to.not.equal("0x");
    } finally {
      await other.close();
    }
  });
});
