import { concat, getAddress, getBytes, keccak256, recoverAddress, Signature } from "ethers";
import { replaySafeHash } from "../account/intent.ts";
import { decodePasskeySignature, verifyPasskeySignature } from "../account/webauthn.ts";
import { OrioleError } from "../errors.ts";
import { hashOfflineCode, type OfflineCode } from "./code.ts";
import type { PayerState, VaultSnapshot } from "./vault.ts";

/** What the merchant's verifier knows, all of it local: no network is needed to check a code. */
export interface VerifyContext {
  merchant: string;
  /** Tokens the merchant accepts (the network's currencies). */
  tokens: readonly string[];
  /** The last sync of the vault (chain, vault, delays, payers' reserves and device keys). */
  snapshot: VaultSnapshot;
  /** Now, in seconds (the merchant's clock). */
  now: bigint;
  /** What this merchant already accepted from the code's payer in its token and has not seen settled as of the sync. */
  acceptedFromPayer: bigint;
  /** Whether this merchant already accepted a code with this payer and nonce. */
  nonceSeen: boolean;
}

export interface VerifiedCode {
  codeHash: string;
  /** What is left of the payer's free reserve for this merchant after this code. */
  remaining: bigint;
  /** Settle before this time (seconds) for the guarantee to hold: min(validBefore + window, sync + withdrawal delay). */
  settleBy: bigint;
}

const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

function refuse(code: string, message: string, details: Record<string, unknown> = {}): OrioleError {
  return new OrioleError(code, message, details);
}

/**
 * The payer's reserve a merchant may count on: balance - debt - pending withdrawal (0 if negative).
 * See OfflineVault's guarantee: within it, and settled in time, a code cannot bounce.
 */
export function freeReserve(s: PayerState): bigint {
  const free = s.balance - s.debt - s.pendingWithdrawal;
  return free > 0n ? free : 0n;
}

/** The oldest a sync may be when a code is accepted for the vault's guarantee to cover it (seconds). */
export function maxSyncAge(snapshot: VaultSnapshot): bigint {
  const { withdrawalDelay, maxValidity, settlementWindow } = snapshot.params;
  return withdrawalDelay - maxValidity - settlementWindow;
}

function signatureIsValid(c: OfflineCode, payer: PayerState, codeHash: string): boolean {
  if (payer.signer.kind === "eoa") {
    // The contract's rules (OpenZeppelin ECDSA): 65 bytes, low s, v 27 or 28.
    const sig = getBytes(c.signature);
    if (sig.length !== 65 || (sig[64] !== 27 && sig[64] !== 28)) return false;
    try {
      const parsed = Signature.from(c.signature);
      if (BigInt(parsed.s) > SECP256K1_HALF_N) return false;
      return getAddress(recoverAddress(codeHash, parsed)) === getAddress(c.payer);
    } catch {
      return false;
    }
  }
  // A passkey account: one of its devices (as last synced) signed OrioleMessage(codeHash) with user verification.
  let keyId: string;
  try {
    const d = decodePasskeySignature(c.signature);
    keyId = keccak256(concat([d.qx, d.qy])).toLowerCase();
  } catch {
    return false;
  }
  return payer.signer.deviceIds.includes(keyId) && verifyPasskeySignature(replaySafeHash(c.chainId, c.payer, codeHash), c.signature);
}

/**
 * Checks a code offline, as the merchant's terminal does before accepting it.
 * @throws OrioleError with a stable code: offline_wrong_chain, offline_wrong_vault, offline_wrong_merchant,
 *   offline_unsupported_token, offline_not_yet_valid, offline_expired, offline_validity_too_long,
 *   offline_stale_sync, offline_unknown_payer, offline_payer_defaulted, offline_nonce_seen,
 *   offline_bad_signature, offline_allowance_exceeded.
 */
export function verifyOfflineCode(c: OfflineCode, ctx: VerifyContext): VerifiedCode {
  const { snapshot } = ctx;
  if (c.chainId !== snapshot.chainId) throw refuse("offline_wrong_chain", `the code is for chain ${c.chainId.toString()}, not ${snapshot.chainId.toString()}`);
  if (getAddress(c.vault) !== getAddress(snapshot.vault)) throw refuse("offline_wrong_vault", `the code is for vault ${c.vault}, not ${snapshot.vault}`);
  if (getAddress(c.merchant) !== getAddress(ctx.merchant)) throw refuse("offline_wrong_merchant", `the code pays ${c.merchant}, not this merchant`);
  if (!ctx.tokens.some((t) => getAddress(t) === getAddress(c.token))) throw refuse("offline_unsupported_token", `${c.token} is not a currency this merchant accepts`);
  if (ctx.now <= c.validAfter) throw refuse("offline_not_yet_valid", `the code is valid only after ${c.validAfter.toString()}`);
  if (ctx.now >= c.validBefore) throw refuse("offline_expired", `the code expired at ${c.validBefore.toString()}`);
  if (c.validBefore - c.validAfter > snapshot.params.maxValidity) throw refuse("offline_validity_too_long", `a code is valid at most ${snapshot.params.maxValidity.toString()} s`);
  const age = ctx.now - snapshot.syncedAt;
  if (age > maxSyncAge(snapshot)) throw refuse("offline_stale_sync", `the last sync is ${age.toString()} s old; sync before accepting offline codes`);
  const payer = snapshot.payers.find((p) => getAddress(p.payer) === getAddress(c.payer) && getAddress(p.token) === getAddress(c.token));
  if (!payer) throw refuse("offline_unknown_payer", `${c.payer} had no offline reserve of this currency at the last sync`);
  if (payer.debt > 0n) throw refuse("offline_payer_defaulted", `${c.payer} owes ${payer.debt.toString()} for bounced codes`, { debt: payer.debt.toString() });
  if (ctx.nonceSeen) throw refuse("offline_nonce_seen", `a code with nonce ${c.nonce.toString()} from ${c.payer} was already accepted`);
  const codeHash = hashOfflineCode(c.chainId, c.vault, c);
  if (!signatureIsValid(c, payer, codeHash)) throw refuse("offline_bad_signature", "the code's signature is not the payer's");
  const left = freeReserve(payer) - ctx.acceptedFromPayer;
  if (c.amount > left) {
    throw refuse("offline_allowance_exceeded", `the code is for ${c.amount.toString()}, the payer's offline allowance left is ${(left > 0n ? left : 0n).toString()}`, { left: (left > 0n ? left : 0n).toString() });
  }
  const windowEnd = c.validBefore + snapshot.params.settlementWindow;
  const noticeEnd = snapshot.syncedAt + snapshot.params.withdrawalDelay;
  return { codeHash, remaining: left - c.amount, settleBy: windowEnd < noticeEnd ? windowEnd : noticeEnd };
}
