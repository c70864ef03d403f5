import { z } from "zod";
import { replaySafeHash } from "../account/intent.ts";
import { requestJson, checkedAddress } from "../apiClient.ts";
import { BASE_UNITS_RE } from "../amount.ts";
import { CURRENCIES } from "../currencies.ts";
import { escrowAction, hashEscrowAction, type EscrowActionName, type SignedEscrowAction } from "./actions.ts";
import { ESCROW_STATUSES } from "./state.ts";

/**
 * The node's escrow API (GET /v1/accounts/{a}/escrows, GET /v1/escrows/{id},
 * POST /v1/escrows/actions), and the one way a passkey account's EscrowAction
 * is signed and relayed: the CLI (software device) and the web wallet
 * (browser passkey) differ only in `sign`.
 */

const baseUnits = z.string().regex(BASE_UNITS_RE, "not a base-unit amount");
const unixSeconds = z.string().regex(/^\d{1,20}$/, "not unix seconds");

export const escrowViewSchema = z.object({
  id: z.string().regex(/^0x[0-9a-f]{64}$/),
  status: z.enum(ESCROW_STATUSES),
  open: z.boolean(),
  buyer: z.string(),
  merchant: z.string(),
  token: z.string(),
  currency: z.enum(CURRENCIES).nullable(),
  amount: baseUnits,
  releaseTimeout: z.number(),
  disputeWindow: z.number(),
  shippedAt: unixSeconds.nullable(),
  releasableAt: unixSeconds.nullable(),
  disputeClosesAt: unixSeconds.nullable(),
  offer: z.object({ buyerAmount: baseUnits, merchantAmount: baseUnits, proposer: z.enum(["buyer", "merchant"]) }).nullable(),
});
export type EscrowView = z.infer<typeof escrowViewSchema>;

const accountEscrowSchema = z.object({
  id: z.string(),
  roles: z.array(z.enum(["buyer", "merchant"])),
  orderId: z.string(),
  fundedAmount: baseUnits,
  funded: z.object({ txHash: z.string(), blockNumber: z.number(), logIndex: z.number() }),
  escrow: escrowViewSchema.nullable(),
});
export type AccountEscrow = z.infer<typeof accountEscrowSchema>;
const accountEscrowsSchema = z.object({ items: z.array(accountEscrowSchema), nextCursor: z.string().nullable() });

/** GET /v1/accounts/{account}/escrows: the escrows it funded or is paid by, newest first. */
export async function listAccountEscrows(apiUrl: string, account: string, opts: { limit?: number; cursor?: string } = {}): Promise<z.infer<typeof accountEscrowsSchema>> {
  const q = new URLSearchParams();
  if (opts.limit !== undefined) q.set("limit", String(opts.limit));
  if (opts.cursor !== undefined) q.set("cursor", opts.cursor);
  return requestJson(apiUrl, `/v1/accounts/${checkedAddress(account)}/escrows${q.size > 0 ? `?${q.toString()}` : ""}`, accountEscrowsSchema);
}

const relayedSchema = z.object({ txHash: z.string(), blockNumber: z.number(), escrow: escrowViewSchema.nullable() });
export type RelayedEscrowAction = z.infer<typeof relayedSchema>;

/** What a party asks of an escrow: the action and, for a refund / offer / acceptance, its amounts. */
export interface EscrowActionRequest {
  action: EscrowActionName;
  escrowId: string;
  buyerAmount?: bigint;
  merchantAmount?: bigint;
}

/** How long a signed action stays valid (the node and the contract check its deadline). */
export const ESCROW_ACTION_TTL_SECONDS = 600n;

/** Escrow nonces are unordered: a random 128-bit one never collides with another action in flight. */
function randomNonce(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`);
}

/** The JSON body of POST /v1/escrows/actions. */
export function escrowActionBody(name: EscrowActionName, a: SignedEscrowAction, signature: string): Record<string, unknown> {
  return {
    action: { signer: a.signer, action: name, escrowId: a.escrowId, buyerAmount: a.buyerAmount.toString(), merchantAmount: a.merchantAmount.toString(), nonce: a.nonce.toString(), deadline: a.deadline.toString() },
    signature,
  };
}

/**
 * Signs an EscrowAction for a passkey account and has the node relay it: the
 * device asserts over the account's ERC-1271 `replaySafeHash` of the action's
 * EIP-712 digest (so the signature counts for this account and chain only),
 * with user verification; POST /v1/escrows/actions waits until it is mined.
 * @throws OrioleError `invalid_escrow_action`, or the node's code (`simulation_failed`, `nonce_used`, `action_expired`, …)
 */
export async function relayPasskeyEscrowAction(
  apiUrl: string,
  p: {
    chainId: number;
    escrow: string;
    /** The passkey account (the action's signer). */
    account: string;
    request: EscrowActionRequest;
    /** Unix seconds now (the chain's latest block time, or this machine's clock). */
    now: bigint;
    /** Signs the 32-byte challenge (0x-hex) with a device of the account; returns the passkey signature. */
    sign(challenge: string): Promise<string>;
  },
): Promise<RelayedEscrowAction> {
  const a = escrowAction({ signer: p.account, ...p.request, nonce: randomNonce(), deadline: p.now + ESCROW_ACTION_TTL_SECONDS });
  const challenge = replaySafeHash(p.chainId, p.account, hashEscrowAction(p.chainId, p.escrow, a));
  const signature = await p.sign(challenge);
  return requestJson(apiUrl, "/v1/escrows/actions", relayedSchema, { method: "POST", body: escrowActionBody(p.request.action, a, signature), timeoutMs: 120_000 });
}
