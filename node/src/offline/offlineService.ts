import { AbiCoder, Interface, keccak256, type JsonRpcProvider } from "ethers";
import { CURRENCIES, type Currency } from "../../../client/sdk/currencies.ts";
import { hashWithdrawalRequest, readReserve, readWithdrawalNonce, reserveAuthorization } from "../../../client/sdk/offline/payer.ts";
import { OFFLINE_VAULT_ABI } from "../../../client/sdk/offline/vault.ts";
import { offlineReserveSchema, offlineWithdrawalCompletionSchema, offlineWithdrawalRequestSchema, type OfflineReservesJson, type RelayedCallRecordJson } from "../../../client/sdk/relayedCalls.ts";
import { ApiError } from "../api/errors.ts";
import { parseBody } from "../api/params.ts";
import { checkAuthorization } from "../escrow/escrowService.ts";
import { callView, type CallSender, type StoredCall } from "../relayer/callSender.ts";
import { chainTime, revertName, signedCall, tokenNames } from "../relayer/signedCalls.ts";
import type { AccountContracts } from "../relayer/validate.ts";

/**
 * The node's relay of OfflineVault calls for payers that sign but do not
 * send (passkey accounts): a reserve on an ERC-3009 authorization
 * (`reserveWithAuthorization`), a signed withdrawal request
 * (`requestWithdrawalWithSig`), and the completion of an unlocked withdrawal
 * (`withdraw`, which anyone may call: the tokens only go to the payer). Each
 * is checked (schema, token, nonce, validity, signature by ECDSA or ERC-1271,
 * an eth_call simulation; a passkey payer not deployed yet is deployed by the
 * same transaction, see signedCall) and sent by the escrow relayer's CallSender, which
 * records it under an id so that a retry returns the first record:
 * - reserve: the authorization's EIP-712 digest;
 * - withdrawal request: the request's EIP-712 digest;
 * - completion: keccak256(chainId, vault, payer, token, unlockAt) of the
 *   withdrawal it completes; once done, asking again returns that record.
 */

export interface OfflineDeps {
  provider: JsonRpcProvider;
  chainId: number;
  vault: string;
  tokens: Record<Currency, string>;
  /** The escrow relayer; absent: the POSTs answer 403 relayer_disabled. */
  sender?: CallSender | undefined;
  /** The passkey account contracts: a reserve or request from an account not deployed yet deploys it (PaymentRelay.deployAndCall). */
  accounts?: AccountContracts | undefined;
}

const vaultInterface = new Interface(OFFLINE_VAULT_ABI);
const abi = AbiCoder.defaultAbiCoder();

export class OfflineService {
  readonly #d: OfflineDeps;
  readonly #tokenName: (token: string) => Promise<string>;

  constructor(deps: OfflineDeps) {
    this.#d = deps;
    this.#tokenName = tokenNames(deps.provider);
  }

  #sender(): CallSender {
    const sender = this.#d.sender;
    if (!sender) throw new ApiError(403, "relayer_disabled", "this node runs without a relayer key: it does not relay offline vault calls");
    return sender;
  }

  #token(token: string): string {
    if (!Object.values(this.#d.tokens).includes(token)) throw new ApiError(400, "unsupported_token", `${token} is not a token of this network`);
    return token;
  }

  /** An earlier record of `id` that stands (not failed), brought up to date; undefined to (re)send. */
  async #earlier(sender: CallSender, id: string): Promise<StoredCall | undefined> {
    const r = await sender.get(id);
    return r && r.status !== "failed" ? sender.refresh(r) : undefined;
  }

  /** Relays a payer's ERC-3009 reserve authorization (`reserveWithAuthorization`). */
  reserve(body: unknown): Promise<RelayedCallRecordJson> {
    const sender = this.#sender();
    return sender.run(async () => {
      const b = parseBody(offlineReserveSchema, body, "{from, token, amount, validAfter, validBefore, nonce, signature, deployment?}");
      const token = this.#token(b.token);
      const { provider, chainId, vault } = this.#d;
      const auth = reserveAuthorization({ chainId, account: b.from, vault, token, tokenName: await this.#tokenName(token), amount: b.amount, validAfter: b.validAfter, validBefore: b.validBefore, nonce: b.nonce });
      const id = auth.digest.toLowerCase();
      const earlier = await this.#earlier(sender, id);
      if (earlier) return callView(earlier);
      if (b.amount === 0n) throw new ApiError(400, "invalid_amount", "the amount must be positive");
      await checkAuthorization(provider, { token, from: b.from, nonce: b.nonce, validAfter: b.validAfter, validBefore: b.validBefore });
      const data = vaultInterface.encodeFunctionData("reserveWithAuthorization", [token, b.from, b.amount, b.validAfter, b.validBefore, b.nonce, b.signature]);
      const call = await signedCall({ provider, chainId, accounts: this.#d.accounts }, { signer: b.from, digest: auth.digest, signature: b.signature, deployment: b.deployment, target: vault, data });
      const gas = await sender.simulate(call.to, call.data, revertName);
      return callView(await sender.send({ id, kind: "offline_reserve", account: b.from, token, amount: b.amount.toString(), to: call.to, data: call.data, gas }));
    });
  }

  /** Relays a payer's signed WithdrawalRequest (`requestWithdrawalWithSig`). */
  requestWithdrawal(body: unknown): Promise<RelayedCallRecordJson> {
    const sender = this.#sender();
    return sender.run(async () => {
      const b = parseBody(offlineWithdrawalRequestSchema, body, "{payer, token, amount, nonce, deadline, signature, deployment?}");
      const token = this.#token(b.token);
      const { provider, chainId, vault } = this.#d;
      const request = { payer: b.payer, token, amount: b.amount, nonce: b.nonce, deadline: b.deadline };
      const digest = hashWithdrawalRequest(chainId, vault, request);
      const id = digest.toLowerCase();
      const earlier = await this.#earlier(sender, id);
      if (earlier) return callView(earlier);
      const [current, now] = await Promise.all([readWithdrawalNonce(provider, vault, b.payer), chainTime(provider)]);
      if (b.nonce < current) throw new ApiError(409, "nonce_used", `withdrawal nonce ${b.nonce.toString()} of ${b.payer} was used: a signed request is relayed once`);
      if (b.nonce > current) throw new ApiError(422, "invalid_nonce", `the vault expects withdrawal nonce ${current.toString()} from ${b.payer}, not ${b.nonce.toString()}`);
      if (now + 1n > b.deadline) throw new ApiError(422, "request_expired", `the request's deadline ${b.deadline.toString()} has passed (chain time ${now.toString()})`);
      const data = vaultInterface.encodeFunctionData("requestWithdrawalWithSig", [b.payer, token, b.amount, b.deadline, b.signature]);
      const call = await signedCall({ provider, chainId, accounts: this.#d.accounts }, { signer: b.payer, digest, signature: b.signature, deployment: b.deployment, target: vault, data });
      const gas = await sender.simulate(call.to, call.data, revertName);
      return callView(await sender.send({ id, kind: "offline_withdrawal_request", account: b.payer, token, amount: b.amount.toString(), to: call.to, data: call.data, gas }));
    });
  }

  /** Completes a payer's unlocked withdrawal (`withdraw`); once done, the completion's record. */
  completeWithdrawal(body: unknown): Promise<RelayedCallRecordJson> {
    const sender = this.#sender();
    return sender.run(async () => {
      const b = parseBody(offlineWithdrawalCompletionSchema, body, "{payer, token}");
      const token = this.#token(b.token);
      const { provider, chainId, vault } = this.#d;
      const latestKey = `${b.payer.toLowerCase()}!${token.toLowerCase()}`;
      const [r, now] = await Promise.all([readReserve(provider, vault, b.payer, token), chainTime(provider)]);
      if (r.unlockAt === 0n) {
        const done = await sender.latest(latestKey);
        if (done && done.status !== "failed") return callView(await sender.refresh(done));
        throw new ApiError(409, "no_withdrawal", `${b.payer} has no withdrawal of ${token} pending`);
      }
      const id = keccak256(abi.encode(["string", "uint256", "address", "address", "address", "uint256"], ["OfflineWithdrawal", chainId, vault, b.payer, token, r.unlockAt])).toLowerCase();
      const earlier = await this.#earlier(sender, id);
      if (earlier) return callView(earlier);
      if (now + 1n < r.unlockAt) throw new ApiError(422, "withdrawal_locked", `the withdrawal unlocks at ${r.unlockAt.toString()} (chain time ${now.toString()})`);
      if (r.debt > 0n) throw new ApiError(422, "offline_payer_in_default", `the reserve owes ${r.debt.toString()} for bounced codes: withdrawals wait until it is repaid`);
      const data = vaultInterface.encodeFunctionData("withdraw", [b.payer, token]);
      const gas = await sender.simulate(vault, data, revertName);
      return callView(await sender.send({ id, kind: "offline_withdrawal", account: b.payer, token, amount: r.pendingWithdrawal.toString(), to: vault, data, gas }, latestKey));
    });
  }

  /** `payer`'s reserve of every currency, its next withdrawal nonce and the chain's time: what a wallet without an RPC needs to sign a request. */
  async reserves(payer: string): Promise<OfflineReservesJson> {
    const { provider, vault, tokens } = this.#d;
    const [nonce, now, ...states] = await Promise.all([readWithdrawalNonce(provider, vault, payer), chainTime(provider), ...CURRENCIES.map((c) => readReserve(provider, vault, payer, tokens[c]))]);
    const reserves = Object.fromEntries(
      CURRENCIES.map((c, i) => {
        const r = states[i];
        return [c, { token: tokens[c], balance: String(r?.balance ?? 0n), debt: String(r?.debt ?? 0n), pendingWithdrawal: String(r?.pendingWithdrawal ?? 0n), unlockAt: String(r?.unlockAt ?? 0n) }];
      }),
    ) as OfflineReservesJson["reserves"];
    return { payer, vault, withdrawalNonce: nonce.toString(), chainTime: now.toString(), reserves };
  }

  /** A reserve, withdrawal request or completion record by id, brought up to date; undefined when unknown or of another kind. */
  async record(id: string, kinds: readonly RelayedCallRecordJson["kind"][]): Promise<RelayedCallRecordJson | undefined> {
    const sender = this.#d.sender;
    const r = await sender?.get(id);
    if (!sender || !r || !kinds.includes(r.kind)) return undefined;
    return callView(await sender.refresh(r));
  }
}
