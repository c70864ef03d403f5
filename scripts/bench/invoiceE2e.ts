import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Deployment } from "../../client/sdk/deployment.ts";
import { writeDeployment } from "../../client/sdk/deployment.ts";
import { openSse } from "../../client/sdk/eventStream.ts";
import { createInvoice } from "../../client/sdk/invoiceClient.ts";
import { parsePaymentUri } from "../../client/sdk/paymentUri.ts";
import { paymentProvider, sendPayment } from "../../client/sdk/payments.ts";
import { nodeArgv } from "../../node/src/runtime.ts";
import { freePort } from "../devchain/hardhatNode.ts";
import { percentile, type Metrics } from "./results.ts";
import { waitReady } from "./ready.ts";

/** Hardhat's default account #2: a well-known dev key, never a real one (account #1 pays in e2e.ts). */
const PAYER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

export interface InvoiceE2eOptions {
  root: string;
  connection: NetworkConnection<"l1">;
  rpcUrl: string;
  deployment: Deployment;
  invoices: number;
  log: (line: string) => void;
}

/**
 * Invoice latency as a point of sale sees it: the invoice is created, the
 * payer pays its URI, and the merchant's SSE stream says invoice.paid. The
 * node runs as its own process with its default settings.
 */
export async function benchInvoiceE2e(opts: InvoiceE2eOptions): Promise<Metrics> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "oriole-bench-invoice-"));
  const deploymentFile = path.join(scratch, "deployment.json");
  await writeDeployment(deploymentFile, opts.deployment);
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port.toString()}`;
  const node = spawn(process.execPath, nodeArgv(["--rpc", opts.rpcUrl, "--deployment", deploymentFile, "--data", path.join(scratch, "data"), "--port", String(port), "--log-level", "warn"]), {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ORIOLE_ADMIN_TOKEN: ADMIN_TOKEN },
  });
  const provider = paymentProvider(opts.rpcUrl, opts.deployment.chainId);
  try {
    const payer = new Wallet(PAYER_KEY, provider);
    const [minter] = await opts.connection.ethers.getSigners();
    if (!minter) throw new Error("no signer");
    const token = await opts.connection.ethers.getContractAt("StableToken", opts.deployment.contracts.tokens.USD, minter);
    await (await token.mint(payer.address, 10n ** 12n)).wait();
    await waitReady(apiUrl);
    const created = await fetch(`${apiUrl}/v1/merchants`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Bench POS", payout: getAddress(hexlify(randomBytes(20))) }),
    });
    if (created.status !== 201) throw new Error(`creating the bench merchant failed: ${created.status.toString()} ${await created.text()}`);
    const { apiKey } = (await created.json()) as { apiKey: string };
    const stream = await openSse(`${apiUrl}/v1/merchants/me/events`, { authorization: `Bearer ${apiKey}` });
    const total: number[] = [];
    try {
      for (let i = 0; i < opts.invoices; i++) {
        const t0 = performance.now();
        const invoice = await createInvoice(apiUrl, apiKey, { amount: 1_000_000n + BigInt(i), currency: "USD", description: `bench ${i.toString()}`, expiresInSec: 600 }, randomUUID());
        const req = parsePaymentUri(invoice.uri);
        const from = stream.messages.length;
        await sendPayment({ signer: payer, tokenAddress: req.token, to: req.to, amount: req.amount, reference: req.reference ?? "" });
        // Payment events come first; the invoice's own event follows them.
        for (let n = from + 1; ; n++) {
          const messages = await stream.waitFor(n, 30_000);
          const m = messages[n - 1];
          const e = JSON.parse(m?.data ?? "{}") as { type?: string; invoice?: { id?: string } };
          if (e.type === "invoice.paid" && e.invoice?.id === invoice.id) break;
        }
        total.push(performance.now() - t0);
        if ((i + 1) % 50 === 0) opts.log(`  ${(i + 1).toString()}/${opts.invoices.toString()} invoices`);
      }
    } finally {
      stream.close();
    }
    const r = (n: number): number => Math.round(n * 10) / 10;
    return { "e2e.invoice.count": total.length, "e2e.invoice.paidMs.p50": r(percentile(total, 50)), "e2e.invoice.paidMs.p99": r(percentile(total, 99)) };
  } finally {
    provider.destroy();
    node.kill("SIGTERM");
    await new Promise((resolve) => node.once("exit", resolve));
    await rm(scratch, { recursive: true, force: true });
  }
}
