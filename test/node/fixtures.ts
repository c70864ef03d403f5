import { expect } from "chai";
import { dataSlice, getAddress, id, Interface, toBigInt, toQuantity, ZeroAddress } from "ethers";
import { STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import { CURRENCIES, type Currency } from "../../client/sdk/currencies.ts";
import type { Deployment } from "../../client/sdk/deployment.ts";
import type { Devnet } from "../helpers/devnet.ts";
import type { PaymentItem as Payment } from "../../node/src/store/store.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";

/** Hardhat's default accounts 1..5 (account 0 deploys and mints). */
export const ACCOUNTS = [
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
] as const;

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body, headers: res.headers };
}

export interface PaymentPageBody {
  items: Payment[];
  nextCursor: string | null;
}

/** Walks every page of an account's payments; checks each page's size and that no item repeats. */
export async function allPayments(nodeUrl: string, address: string, limit: number): Promise<Payment[]> {
  const items: Payment[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const q: string = cursor === null ? `limit=${limit}` : `limit=${limit}&cursor=${cursor}`;
    const { status, body } = await getJson(`${nodeUrl}/v1/accounts/${address}/payments?${q}`);
    expect(status, JSON.stringify(body)).to.equal(200);
    const p = body as PaymentPageBody;
    expect(p.items.length).to.be.at.most(limit);
    if (p.nextCursor !== null) expect(p.items.length).to.equal(limit);
    for (const item of p.items) {
      const key = `${item.blockNumber}:${item.logIndex}`;
      expect(seen.has(key), `duplicate ${key}`).to.equal(false);
      seen.add(key);
      items.push(item);
    }
    if (p.nextCursor === null) return items;
    cursor = p.nextCursor;
  }
  throw new Error("too many pages");
}

export interface ChainTruth {
  /** Newest first, per checksummed account. */
  payments: Map<string, Payment[]>;
  accounts: Set<string>;
}

/**
 * What the node should have indexed, computed independently of it: the raw
 * Transfer and Payment logs of every token (Payment decoded by ethers through
 * the ABI), and block timestamps from the block headers. A Payment's
 * transfers are found by log index: the contract emits them right before it,
 * with nothing in between (payment transfer at index − 1 without a fee; at
 * index − 2, and the fee transfer at index − 1, with one).
 */
export async function chainTruth(devnet: Devnet, deployment: Deployment, toBlock: number): Promise<ChainTruth> {
  const payments = new Map<string, Payment[]>();
  const accounts = new Set<string>();
  const iface = new Interface(STABLE_TOKEN_ABI);
  const currencyOf = new Map(CURRENCIES.map((c) => [deployment.contracts.tokens[c].toLowerCase(), c]));
  const transferTopic = iface.getEvent("Transfer")!.topicHash;
  const paymentTopic = iface.getEvent("Payment")!.topicHash;
  const logs = (await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getLogs", [
    {
      fromBlock: toQuantity(deployment.deployedAt.blockNumber),
      toBlock: toQuantity(toBlock),
      address: Object.values(deployment.contracts.tokens),
      topics: [[transferTopic, paymentTopic]],
    },
  ])) as { address: string; topics: string[]; data: string; blockNumber: string; transactionHash: string; logIndex: string }[];
  const blocks = [...new Set(logs.map((l) => Number(l.blockNumber)))];
  const headers = await Promise.all(blocks.map((n) => jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBlockByNumber", [toQuantity(n), false])));
  const timestamps = new Map(blocks.map((n, i) => [n, Number((headers[i] as { timestamp: string }).timestamp)]));
  const byPosition = new Map<string, Payment>();
  const all: Payment[] = [];
  for (const log of logs) {
    // (ethers' ABI decoding costs ~0.2-0.4 ms per field under the test runner: slice instead.)
    if (log.topics.length !== 3 || log.topics[0] !== transferTopic) continue;
    const from = dataSlice(log.topics[1]!, 12);
    const to = dataSlice(log.topics[2]!, 12);
    const value = toBigInt(log.data);
    const blockNumber = Number(log.blockNumber);
    const p: Payment = {
      txHash: log.transactionHash,
      logIndex: Number(log.logIndex),
      blockNumber,
      timestamp: timestamps.get(blockNumber)!,
      from: getAddress(from),
      to: getAddress(to),
      currency: currencyOf.get(log.address.toLowerCase())!,
      amount: value.toString(),
      reference: null,
      fee: "0",
      kind: "transfer",
      // Every block of the truth is at least 1 deep: confirmed at the default --confirmations 1.
      status: "confirmed",
    };
    byPosition.set(`${blockNumber}:${p.logIndex}`, p);
    all.push(p);
  }
  for (const log of logs) {
    if (log.topics[0] !== paymentTopic) continue;
    const ev = iface.parseLog(log)!;
    const [ref, payer, payee, amount, fee] = ev.args as unknown as [string, string, string, bigint, bigint];
    const blockNumber = Number(log.blockNumber);
    const at = (i: number): Payment => {
      const t = byPosition.get(`${blockNumber}:${Number(log.logIndex) - i}`);
      if (!t || t.txHash !== log.transactionHash || t.from !== payer) throw new Error(`no transfer ${i} before Payment ${blockNumber}:${log.logIndex}`);
      return t;
    };
    const main = at(fee > 0n ? 2 : 1);
    expect(main.to).to.equal(payee);
    expect(BigInt(main.amount)).to.equal(amount - fee);
    Object.assign(main, { reference: ref, fee: fee.toString(), kind: "payment" });
    if (fee > 0n) {
      const feeTransfer = at(1);
      expect(BigInt(feeTransfer.amount)).to.equal(fee);
      Object.assign(feeTransfer, { reference: ref, kind: "fee" });
    }
  }
  for (const p of all) {
    for (const who of new Set([p.from, p.to])) {
      if (who === ZeroAddress) continue;
      accounts.add(who);
      const list = payments.get(who) ?? [];
      list.push(p);
      payments.set(who, list);
    }
  }
  for (const list of payments.values()) list.sort((a, b) => b.blockNumber - a.blockNumber || b.logIndex - a.logIndex);
  return { payments, accounts };
}

/** On-chain balanceOf of `account` in every currency, as decimal strings. */
export async function chainBalances(devnet: Devnet, deployment: Deployment, account: string): Promise<Record<Currency, string>> {
  const out = {} as Record<Currency, string>;
  for (const currency of CURRENCIES) {
    const token = await devnet.connection.ethers.getContractAt("StableToken", deployment.contracts.tokens[currency]);
    out[currency] = (await token.balanceOf(account)).toString();
  }
  return out;
}

/** `n` distinct pseudo-random recipient addresses. */
export function recipients(n: number, seed = "oriole"): string[] {
  return Array.from({ length: n }, (_, i) => getAddress(id(`${seed}-${i}`).slice(0, 42)));
}

/**
 * Emits `txs × perTx` USD Transfer events from `sender` through
 * TransferSpray, one spray per transaction (one block each on automine).
 * Returns the block number of the last one.
 */
export async function spray(devnet: Devnet, opts: { sender: string; txs: number; perTx: number; to: readonly string[]; amountEach?: bigint }): Promise<number> {
  const { ethers } = devnet.connection;
  const signer = await ethers.getSigner(opts.sender);
  const sprayer = await ethers.deployContract("TransferSpray", [], signer);
  await sprayer.waitForDeployment();
  const token = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, signer);
  const amountEach = opts.amountEach ?? 1_000n;
  await (await token.approve(await sprayer.getAddress(), amountEach * BigInt(opts.txs * opts.perTx))).wait();
  let nonce = await signer.getNonce("pending");
  const sent = [];
  for (let i = 0; i < opts.txs; i++) {
    const batch = Array.from({ length: opts.perTx }, (_, j) => opts.to[(i * opts.perTx + j) % opts.to.length]!);
    sent.push(await sprayer.getFunction("spray")(await token.getAddress(), batch, amountEach, { nonce: nonce++, gasLimit: 15_000_000n }));
  }
  let last = 0;
  for (const tx of sent) {
    const receipt = await tx.wait();
    last = Math.max(last, receipt?.blockNumber ?? 0);
  }
  return last;
}
