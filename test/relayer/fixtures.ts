import { Interface, toQuantity, Wallet } from "ethers";
import { predictAccountAddress } from "../../client/sdk/account/accountAddress.ts";
import { hashPaymentIntent, type PaymentIntent } from "../../client/sdk/account/intent.ts";
import { intentSubmissionToJson, type IntentSubmissionJson } from "../../client/sdk/account/relayerApi.ts";
import { SoftwareDevice, type AssertOptions } from "../../client/sdk/account/softwareDevice.ts";
import { PAYMENT_TOPIC, STABLE_TOKEN_ABI } from "../../client/sdk/abi.ts";
import type { Deployment } from "../../client/sdk/deployment.ts";
import type { Devnet } from "../helpers/devnet.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";

const minter = new Interface(["function mint(address to, uint256 amount)"]);

/** Calldata of StableToken.mint (the devnet's first signer is a minter). */
export function mintData(to: string, amount: bigint): string {
  return minter.encodeFunctionData("mint", [to, amount]);
}

/** A passkey account of the tests: a software device and the counterfactual address it owns. */
export interface PasskeyWallet {
  device: SoftwareDevice;
  account: string;
  salt: bigint;
}

export function passkeyWallet(deployment: Deployment, salt = 0n, device = SoftwareDevice.generate()): PasskeyWallet {
  const { factory, implementation } = deployment.contracts.accounts;
  const account = predictAccountAddress({ factory, implementation, qx: device.publicKey.qx, qy: device.publicKey.qy, salt });
  return { device, account, salt };
}

export interface IntentFields {
  token: string;
  to: string;
  amount: bigint;
  nonce: bigint;
  deadline: bigint;
  reference?: string;
  maxRelayerFee?: bigint;
}

export function intentOf(f: IntentFields): PaymentIntent {
  return {
    token: f.token,
    to: f.to,
    amount: f.amount,
    reference: f.reference ?? `0x${f.nonce.toString(16).padStart(64, "0")}`,
    nonce: f.nonce,
    deadline: f.deadline,
    maxRelayerFee: f.maxRelayerFee ?? 50_000n,
  };
}

/** A POST /v1/intents body: the intent signed by the wallet's device (or `signer`), with the deployment when asked. */
export function submission(
  chainId: number,
  w: PasskeyWallet,
  intent: PaymentIntent,
  opts: { deploy?: boolean; signer?: SoftwareDevice; assert?: AssertOptions; challenge?: string } = {},
): IntentSubmissionJson {
  const challenge = opts.challenge ?? hashPaymentIntent(chainId, w.account, intent);
  const signature = (opts.signer ?? w.device).sign(challenge, opts.assert);
  return intentSubmissionToJson({
    account: w.account,
    intent,
    signature,
    deployment: opts.deploy ? { qx: w.device.publicKey.qx, qy: w.device.publicKey.qy, salt: w.salt } : undefined,
  });
}

export interface JsonResponse {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

export async function postIntent(nodeUrl: string, body: unknown, init: { raw?: string; contentType?: string } = {}): Promise<JsonResponse> {
  const res = await fetch(`${nodeUrl}/v1/intents`, {
    method: "POST",
    headers: { "content-type": init.contentType ?? "application/json" },
    body: init.raw ?? JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as JsonResponse["body"] };
}

export async function getJsonBody(url: string): Promise<JsonResponse> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as JsonResponse["body"] };
}

/** Polls GET /v1/intents/{id} until every id is confirmed or failed; returns the final records. */
export async function waitAllFinal(nodeUrl: string, ids: readonly string[], timeoutMs = 120_000): Promise<Map<string, JsonResponse["body"]>> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, JsonResponse["body"]>();
  for (;;) {
    const open = ids.filter((id) => !done.has(id));
    const results = await Promise.all(open.map((id) => getJsonBody(`${nodeUrl}/v1/intents/${id}`)));
    for (const [i, r] of results.entries()) {
      const s = r.body.status;
      if (s === "confirmed" || s === "failed") done.set(open[i] ?? "", r.body);
    }
    if (done.size === ids.length) return done;
    if (Date.now() > deadline) throw new Error(`${ids.length - done.size} intents not final after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every Payment event of the token since `fromBlock`: ref, payer, payee, amount, tx. */
export async function paymentEvents(rpcUrl: string, token: string, fromBlock: number): Promise<{ ref: string; payer: string; payee: string; amount: bigint; txHash: string }[]> {
  const iface = new Interface(STABLE_TOKEN_ABI);
  const logs = (await jsonRpcRequest(rpcUrl, "eth_getLogs", [{ fromBlock: toQuantity(fromBlock), toBlock: "latest", address: token, topics: [PAYMENT_TOPIC] }])) as {
    topics: string[];
    data: string;
    transactionHash: string;
  }[];
  return logs.map((l) => {
    const ev = iface.parseLog(l);
    if (!ev) throw new Error("not a Payment event");
    return { ref: String(ev.args[0]), payer: String(ev.args[1]), payee: String(ev.args[2]), amount: ev.args[3] as bigint, txHash: l.transactionHash };
  });
}

export async function txCount(rpcUrl: string, address: string, tag: "latest" | "pending" = "latest"): Promise<number> {
  return Number(await jsonRpcRequest(rpcUrl, "eth_getTransactionCount", [address, tag]));
}

export async function chainTime(rpcUrl: string): Promise<bigint> {
  const block = (await jsonRpcRequest(rpcUrl, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
  const t = BigInt(block.timestamp);
  const wall = BigInt(Math.floor(Date.now() / 1000));
  return t > wall ? t : wall;
}

/** A fresh relayer EOA with 100 ETH for gas (and nothing else: its token balances are the fees). */
export async function fundedRelayerKey(rpcUrl: string): Promise<string> {
  const w = Wallet.createRandom();
  await jsonRpcRequest(rpcUrl, "hardhat_setBalance", [w.address, toQuantity(10n ** 20n)]);
  return w.privateKey;
}

/** Sends `data` to `to` from the devnet's first dev account and waits until it is mined. */
export async function devSend(devnet: Devnet, to: string, data: string): Promise<void> {
  const [signer] = await devnet.connection.ethers.getSigners();
  if (!signer) throw new Error("no signer");
  await (await signer.sendTransaction({ to, data })).wait();
}
