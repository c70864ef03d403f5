import { concat, Contract, getAddress, Interface, keccak256, toUtf8Bytes, verifyTypedData, zeroPadValue, type JsonRpcProvider } from "ethers";
import { z } from "zod";
import { STABLE_TOKEN_ABI } from "../../../client/sdk/abi.ts";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import { isOrioleError } from "../../../client/sdk/errors.ts";
import { ESCROW_ABI } from "../../../client/sdk/escrow/abi.ts";
import {
  ESCROW_ACTION_TYPES,
  ESCROW_ACTIONS,
  encodeExecuteSigned,
  encodeFundWithAuthorization,
  escrowAction,
  escrowDomain,
  escrowId,
  fundingAuthorization,
  type EscrowActionName,
  type SignedEscrowAction,
} from "../../../client/sdk/escrow/actions.ts";
import { jsonUint256 } from "../../../client/sdk/account/intent.ts";
import { isEscrowNonceUsed, readEscrow, type EscrowState } from "../../../client/sdk/escrow/state.ts";
import { escrowFundingSchema, type RelayedCallRecordJson } from "../../../client/sdk/relayedCalls.ts";
import { ApiError } from "../api/errors.ts";
import { parseBody } from "../api/params.ts";
import type { Logger } from "../log.ts";
import { callView, type CallSender } from "../relayer/callSender.ts";
import { chainTime, ESCROW_ERRORS, revertName, signedCall, tokenNames } from "../relayer/signedCalls.ts";
import type { AccountContracts } from "../relayer/validate.ts";
import type { LogPosition } from "../store/keys.ts";

/**
 * The node's view of OrioleEscrow, kept off the token indexer: an escrow's
 * state is read from the contract when asked (always current, nothing to
 * undo on a reorg), and an account's escrows come from its EscrowFunded
 * logs (buyer and merchant are indexed topics), fetched with eth_getLogs.
 * Logs at least `reorgDepth` deep are cached per account; the shallower
 * tail is fetched again on every request, so a reorg cannot leave a stale entry.
 *
 * Signed EscrowActions are validated (schema, the contract's amount rules,
 * deadline, ECDSA signature off-chain for an EOA signer, nonce unused, an
 * eth_call of `executeSigned`) and sent one at a time by the escrow relayer.
 * ERC-3009 fundings (`fundWithAuthorization`, how a passkey buyer funds) are
 * validated likewise (token, authorization unused, validity, the buyer's
 * signature: ECDSA or ERC-1271 by eth_call, simulation), recorded under the
 * authorization's digest (a retry returns the first record) and sent; a
 * buyer's passkey account not deployed yet is deployed by the same
 * transaction (see signedCall).
 * That is not the payment relayer's Sender: the Sender owns its EOA's nonce
 * and only sends PaymentRelay batches of intents, so sharing its EOA would
 * race its nonces. The escrow relayer is a second EOA derived from the
 * relayer key (see escrowRelayerKey), shared with the offline vault's relayed
 * calls through one CallSender; the operator funds its gas.
 */

/** The escrow relayer's key: keccak256(relayer key ‖ "oriole/escrow-relayer"), a separate EOA with its own nonces. */
export function escrowRelayerKey(relayerKey: string): string {
  return keccak256(concat([relayerKey, toUtf8Bytes("oriole/escrow-relayer")]));
}

const escrowInterface = new Interface([...ESCROW_ABI, ...ESCROW_ERRORS]);
const FUNDED_TOPIC = escrowInterface.getEvent("EscrowFunded")?.topicHash ?? "";

/** An escrow as the API serves it: amounts and times as decimal strings. */
export interface EscrowView {
  id: string;
  status: EscrowState["status"];
  open: boolean;
  buyer: string;
  merchant: string;
  token: string;
  currency: Currency | null;
  amount: string;
  releaseTimeout: number;
  disputeWindow: number;
  shippedAt: string | null;
  releasableAt: string | null;
  disputeClosesAt: string | null;
  offer: { buyerAmount: string; merchantAmount: string; proposer: "buyer" | "merchant" } | null;
}

/** One entry of an account's escrow list: the funding, the account's role, the current state. */
export interface AccountEscrow {
  id: string;
  roles: ("buyer" | "merchant")[];
  orderId: string;
  fundedAmount: string;
  funded: { txHash: string; blockNumber: number; logIndex: number };
  escrow: EscrowView | null;
}

interface FundedLog {
  id: string;
  buyer: string;
  merchant: string;
  orderId: string;
  amount: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

export interface EscrowDeps {
  provider: JsonRpcProvider;
  chainId: number;
  escrow: string;
  tokens: Record<Currency, string>;
  /** The escrow's deployment block: no log is older. */
  fromBlock: number;
  reorgDepth: number;
  maxBlockRange: number;
  /** The escrow relayer (its EOA from escrowRelayerKey); absent: the POSTs answer 403 relayer_disabled. */
  sender?: CallSender | undefined;
  /** The passkey account contracts: a funding from an account not deployed yet deploys it (PaymentRelay.deployAndCall). */
  accounts?: AccountContracts | undefined;
  log: Logger;
}

const actionNames = Object.keys(ESCROW_ACTIONS) as [EscrowActionName, ...EscrowActionName[]];
const submissionSchema = z.strictObject({
  action: z.strictObject({
    signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address"),
    action: z.enum(actionNames),
    escrowId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 64 hex digits"),
    buyerAmount: jsonUint256.optional(),
    merchantAmount: jsonUint256.optional(),
    // The SDK's uint256: past 2^256 - 1 is a 400 here, not an ABI-encoder failure (503) later.
    nonce: jsonUint256,
    deadline: jsonUint256,
  }),
  signature: z.string().regex(/^0x([0-9a-fA-F]{2}){1,2048}$/, "must be 0x-hex bytes"),
});

/** An escrow id path segment: 0x and 64 hex digits; returned lowercase. */
const MAX_CACHED_ACCOUNTS = 10_000;

export class EscrowService {
  readonly #d: EscrowDeps;
  /** Per lowercase account: its EscrowFunded logs (as buyer or merchant) up to `through`, a block at least reorgDepth deep. */
  readonly #cache = new Map<string, { through: number; logs: FundedLog[] }>();
  readonly #tokenName: (token: string) => Promise<string>;

  constructor(deps: EscrowDeps) {
    this.#d = deps;
    this.#tokenName = tokenNames(deps.provider);
  }

  get escrowAddress(): string {
    return this.#d.escrow;
  }

  /** The escrow relayer's address, or null without a relayer key. */
  get relayerAddress(): string | null {
    return this.#d.sender?.address ?? null;
  }

  #sender(): CallSender {
    const sender = this.#d.sender;
    if (!sender) throw new ApiError(403, "relayer_disabled", "this node runs without a relayer key: it does not relay escrow calls");
    return sender;
  }

  #view(s: EscrowState): EscrowView {
    const currency = CURRENCIES.find((c) => this.#d.tokens[c] === s.token) ?? null;
    return {
      id: s.id,
      status: s.status,
      open: s.open,
      buyer: s.buyer,
      merchant: s.merchant,
      token: s.token,
      currency,
      amount: s.amount.toString(),
      releaseTimeout: s.releaseTimeout,
      disputeWindow: s.disputeWindow,
      shippedAt: s.shippedAt?.toString() ?? null,
      releasableAt: s.releasableAt?.toString() ?? null,
      disputeClosesAt: s.disputeClosesAt?.toString() ?? null,
      offer: s.offer === null ? null : { buyerAmount: s.offer.buyerAmount.toString(), merchantAmount: s.offer.merchantAmount.toString(), proposer: s.offer.proposer },
    };
  }

  async get(id: string): Promise<EscrowView | undefined> {
    const s = await readEscrow(this.#d.provider, this.#d.escrow, id);
    return s === undefined ? undefined : this.#view(s);
  }

  async #logs(account: string, from: number, to: number): Promise<FundedLog[]> {
    const topic = zeroPadValue(account, 32);
    const out: FundedLog[] = [];
    for (let start = from; start <= to; start += this.#d.maxBlockRange) {
      const end = Math.min(to, start + this.#d.maxBlockRange - 1);
      const filter = (topics: (string | null)[]) => ({ fromBlock: `0x${start.toString(16)}`, toBlock: `0x${end.toString(16)}`, address: this.#d.escrow, topics });
      const [asBuyer, asMerchant] = (await Promise.all([
        this.#d.provider.send("eth_getLogs", [filter([FUNDED_TOPIC, null, topic])]),
        this.#d.provider.send("eth_getLogs", [filter([FUNDED_TOPIC, null, null, topic])]),
      ])) as [unknown, unknown];
      for (const raw of [asBuyer, asMerchant].flat() as { topics: string[]; data: string; transactionHash: string; blockNumber: string; logIndex: string }[]) {
        const ev = escrowInterface.parseLog(raw);
        if (!ev) continue;
        const [id, buyer, merchant, , amount, orderId] = ev.args as unknown as [string, string, string, string, bigint, string];
        out.push({ id: id.toLowerCase(), buyer: getAddress(buyer), merchant: getAddress(merchant), orderId, amount: amount.toString(), txHash: raw.transactionHash, blockNumber: Number(raw.blockNumber), logIndex: Number(raw.logIndex) });
      }
    }
    return out;
  }

  /** The escrows `account` funded or is paid by, newest funding first, `limit` at a time before `before`. */
  async listForAccount(account: string, opts: { limit: number; before?: LogPosition | undefined }): Promise<{ items: AccountEscrow[]; next: LogPosition | null }> {
    const key = account.toLowerCase();
    const head = await this.#d.provider.getBlockNumber();
    const deep = head - this.#d.reorgDepth;
    let cached = this.#cache.get(key) ?? { through: this.#d.fromBlock - 1, logs: [] };
    if (deep > cached.through) {
      cached = { through: deep, logs: [...cached.logs, ...(await this.#logs(account, cached.through + 1, deep))] };
      this.#cache.delete(key);
      if (this.#cache.size >= MAX_CACHED_ACCOUNTS) this.#cache.delete(this.#cache.keys().next().value ?? "");
      this.#cache.set(key, cached);
    }
    const tail = head > cached.through ? await this.#logs(account, cached.through + 1, head) : [];
    const seen = new Set<string>();
    const all = [...cached.logs, ...tail]
      .filter((l) => {
        // A log appears twice when the account is both buyer and merchant.
        const k = `${l.blockNumber.toString()}:${l.logIndex.toString()}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .sort((a, b) => b.blockNumber - a.blockNumber || b.logIndex - a.logIndex)
      .filter((l) => opts.before === undefined || l.blockNumber < opts.before.blockNumber || (l.blockNumber === opts.before.blockNumber && l.logIndex < opts.before.logIndex));
    const page = all.slice(0, opts.limit);
    const states = await Promise.all(page.map((l) => readEscrow(this.#d.provider, this.#d.escrow, l.id)));
    const items = page.map((l, i): AccountEscrow => {
      const s = states[i];
      const roles: ("buyer" | "merchant")[] = [];
      if (l.buyer.toLowerCase() === key) roles.push("buyer");
      if (l.merchant.toLowerCase() === key) roles.push("merchant");
      return { id: l.id, roles, orderId: l.orderId, fundedAmount: l.amount, funded: { txHash: l.txHash, blockNumber: l.blockNumber, logIndex: l.logIndex }, escrow: s === undefined ? null : this.#view(s) };
    });
    const last = page.at(-1);
    return { items, next: all.length > opts.limit && last ? { blockNumber: last.blockNumber, logIndex: last.logIndex } : null };
  }

  /** Validates and relays a signed EscrowAction, one at a time; resolves once it is mined. */
  submit(body: unknown): Promise<{ txHash: string; blockNumber: number; escrow: EscrowView | null }> {
    const sender = this.#sender();
    return sender.run(() => this.#submit(sender, body));
  }

  async #submit(sender: CallSender, body: unknown): Promise<{ txHash: string; blockNumber: number; escrow: EscrowView | null }> {
    const parsed = parseBody(submissionSchema, body, "{action: {signer, action, escrowId, buyerAmount?, merchantAmount?, nonce, deadline}, signature}");
    const { action: a, signature } = parsed;
    let action: SignedEscrowAction;
    try {
      action = escrowAction({
        signer: a.signer,
        action: a.action,
        escrowId: a.escrowId,
        buyerAmount: a.buyerAmount ?? 0n,
        merchantAmount: a.merchantAmount ?? 0n,
        nonce: a.nonce,
        deadline: a.deadline,
      });
    } catch (e) {
      if (isOrioleError(e)) throw new ApiError(400, e.code, e.message);
      throw new ApiError(400, "invalid_request", "action.signer has a wrong EIP-55 checksum");
    }
    const { provider, escrow, chainId } = this.#d;
    // provider.send, not getBlock: ethers caches identical requests for 250 ms, and "latest" must be the latest.
    const [latest, code, used] = (await Promise.all([provider.send("eth_getBlockByNumber", ["latest", false]), provider.getCode(action.signer), isEscrowNonceUsed(provider, escrow, action.signer, action.nonce)])) as [{ timestamp?: unknown } | null, string, boolean];
    if (used) throw new ApiError(409, "nonce_used", `nonce ${action.nonce.toString()} of ${action.signer} was used or invalidated: a signed action is relayed once`);
    if (typeof latest?.timestamp === "string" && BigInt(latest.timestamp) > action.deadline) throw new ApiError(422, "action_expired", `the action's deadline ${action.deadline.toString()} has passed`);
    // An EOA's ECDSA signature is checked here; a contract signer's (ERC-1271) by the simulation below.
    if (code === "0x") {
      let recovered: string;
      try {
        recovered = verifyTypedData(escrowDomain(chainId, escrow), ESCROW_ACTION_TYPES, action, signature);
      } catch {
        throw new ApiError(422, "invalid_signature", "the signature is not a valid ECDSA signature");
      }
      if (recovered !== action.signer) throw new ApiError(422, "invalid_signature", `the action is signed by ${recovered}, not by its signer ${action.signer}`);
    }
    const data = encodeExecuteSigned(action, signature);
    const gas = await sender.simulate(escrow, data, revertName);
    const sent = await sender.sendAndWait(escrow, data, gas);
    this.#d.log.info("escrow action relayed", { escrowId: action.escrowId, action: a.action, signer: action.signer, txHash: sent.txHash });
    return { ...sent, escrow: (await this.get(action.escrowId)) ?? null };
  }

  /**
   * Validates and relays a buyer's ERC-3009 funding (`fundWithAuthorization`),
   * one call at a time. The same authorization again returns its first record
   * (`created` false) and sends nothing. Resolves once mined, or with the
   * record still submitted when the receipt takes longer than the wait.
   */
  fund(body: unknown): Promise<{ record: RelayedCallRecordJson; created: boolean }> {
    const sender = this.#sender();
    return sender.run(() => this.#fund(sender, body));
  }

  async #fund(sender: CallSender, body: unknown): Promise<{ record: RelayedCallRecordJson; created: boolean }> {
    const f = parseBody(escrowFundingSchema, body, "{buyer, terms: {token, merchant, amount, orderId, releaseTimeout, disputeWindow}, validAfter, validBefore, signature, deployment?}");
    const { provider, escrow, chainId } = this.#d;
    const terms = f.terms;
    if (!Object.values(this.#d.tokens).includes(terms.token)) throw new ApiError(400, "unsupported_token", `${terms.token} is not a token of this network`);
    const auth = fundingAuthorization({ chainId, tokenName: await this.#tokenName(terms.token), escrow, buyer: f.buyer, terms, validAfter: f.validAfter, validBefore: f.validBefore });
    const id = auth.digest.toLowerCase();
    const earlier = await sender.get(id);
    if (earlier && earlier.status !== "failed") return { record: callView(await sender.refresh(earlier)), created: false };
    await checkAuthorization(provider, { token: terms.token, from: f.buyer, nonce: auth.message.nonce, validAfter: f.validAfter, validBefore: f.validBefore });
    const call = await signedCall(
      { provider, chainId, accounts: this.#d.accounts },
      { signer: f.buyer, digest: auth.digest, signature: f.signature, deployment: f.deployment, target: escrow, data: encodeFundWithAuthorization(terms, f.buyer, f.validAfter, f.validBefore, f.signature) },
    );
    const gas = await sender.simulate(call.to, call.data, revertName);
    const record = await sender.send({
      id,
      kind: "escrow_funding",
      account: f.buyer,
      token: terms.token,
      amount: terms.amount.toString(),
      to: call.to,
      data: call.data,
      gas,
      extra: { escrowId: escrowId(f.buyer, terms.merchant, terms.token, terms.orderId).toLowerCase() },
    });
    return { record: callView(record), created: true };
  }

  /** A funding's record by id (brought up to date with the chain); undefined when unknown. */
  async funding(id: string): Promise<RelayedCallRecordJson | undefined> {
    const sender = this.#d.sender;
    const r = await sender?.get(id);
    if (!sender || r?.kind !== "escrow_funding") return undefined;
    return callView(await sender.refresh(r));
  }
}

/**
 * The checks of an ERC-3009 authorization the chain would make before its
 * signature: unused nonce, inside its validity window.
 * @throws ApiError 409 `nonce_used`, 422 `authorization_expired` or `authorization_not_yet_valid`
 */
export async function checkAuthorization(provider: JsonRpcProvider, a: { token: string; from: string; nonce: string; validAfter: bigint; validBefore: bigint }): Promise<void> {
  const token = new Contract(a.token, STABLE_TOKEN_ABI, provider);
  const [used, now] = (await Promise.all([token.getFunction("authorizationState")(a.from, a.nonce), chainTime(provider)])) as [boolean, bigint];
  if (used) throw new ApiError(409, "nonce_used", `authorization nonce ${a.nonce} of ${a.from} was used or canceled: an authorization is relayed once`);
  // The next block is at least one second later: an authorization valid only until now cannot be mined.
  if (now + 1n >= a.validBefore) throw new ApiError(422, "authorization_expired", `the authorization expired at ${a.validBefore.toString()} (chain time ${now.toString()})`);
  if (now + 1n <= a.validAfter) throw new ApiError(422, "authorization_not_yet_valid", `the authorization is valid only after ${a.validAfter.toString()} (chain time ${now.toString()})`);
}
