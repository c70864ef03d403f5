import { getAddress } from "ethers";
import { type PasskeySign, signForAccount } from "../account/erc1271.ts";
import { type AccountDeploymentParams, deploymentJson, type EscrowFundingJson, type RelayedCallRecord, submitEscrowFunding } from "../relayedCalls.ts";
import { escrowId, fundingAuthorization, type EscrowTerms } from "./actions.ts";

/**
 * Funding an escrow from an account that signs but does not send (a passkey
 * account): its device signs the ERC-3009 authorization through ERC-1271 and
 * the node relays `fundWithAuthorization` (POST /v1/escrows/fundings). With
 * the account's `deployment`, a buyer whose account is not deployed yet (a
 * wallet's first action) is deployed by the same transaction.
 */

/** How long a funding authorization stays valid by default: long enough for a slow relay, short enough to die unused. */
export const FUNDING_TTL_SECONDS = 3600n;

export interface EscrowFundingParams {
  chainId: bigint | number;
  escrow: string;
  /** The token's EIP-712 name (readTokenDomainName, or the currency's name). */
  tokenName: string;
  /** The buyer: the passkey account. */
  buyer: string;
  terms: EscrowTerms;
  /** Unix seconds now (default: this machine's clock). */
  now?: bigint;
  /** Seconds the authorization stays valid (default FUNDING_TTL_SECONDS). */
  validFor?: bigint;
  sign: PasskeySign;
  /** The buyer account's deployment (first device key and salt): the node deploys it if it has no code yet, and ignores it otherwise. */
  deployment?: AccountDeploymentParams;
}

/** The signed body of POST /v1/escrows/fundings, its record id (the authorization's digest) and the escrow id it opens. */
export async function signEscrowFunding(p: EscrowFundingParams): Promise<{ id: string; escrowId: string; body: EscrowFundingJson }> {
  const now = p.now ?? BigInt(Math.floor(Date.now() / 1000));
  // validAfter a minute back: a chain clock slightly behind this one still accepts it.
  const validAfter = now > 60n ? now - 60n : 0n;
  const validBefore = now + (p.validFor ?? FUNDING_TTL_SECONDS);
  const auth = fundingAuthorization({ chainId: p.chainId, tokenName: p.tokenName, escrow: p.escrow, buyer: p.buyer, terms: p.terms, validAfter, validBefore });
  const signature = await signForAccount(p.sign, p.chainId, p.buyer, auth.digest);
  const t = p.terms;
  return {
    id: auth.digest.toLowerCase(),
    escrowId: escrowId(p.buyer, t.merchant, t.token, t.orderId).toLowerCase(),
    body: {
      buyer: getAddress(p.buyer),
      terms: { token: getAddress(t.token), merchant: getAddress(t.merchant), amount: t.amount.toString(), orderId: t.orderId.toLowerCase(), releaseTimeout: t.releaseTimeout, disputeWindow: t.disputeWindow },
      validAfter: validAfter.toString(),
      validBefore: validBefore.toString(),
      signature,
      ...(p.deployment === undefined ? {} : { deployment: deploymentJson(p.deployment) }),
    },
  };
}

/**
 * Signs and submits a passkey buyer's funding; resolves with the node's record once mined
 * (status `submitted` if the node's wait ran out: poll getRelayedCall).
 * @throws OrioleError with the node's code (`nonce_used`, `invalid_signature`, `simulation_failed`, ...)
 */
export async function fundEscrowViaNode(apiUrl: string, p: EscrowFundingParams): Promise<RelayedCallRecord> {
  const { body } = await signEscrowFunding(p);
  return submitEscrowFunding(apiUrl, body);
}
