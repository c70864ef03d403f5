import { Contract, type ContractRunner, getAddress } from "ethers";
import { z } from "zod";
import { STABLE_TOKEN_ABI } from "../abi.ts";
import { OrioleError } from "../errors.ts";
import { ESCROW_ABI } from "./abi.ts";

/** The contract's `Status` enum, by index. Released, refunded, resolved and settled are final. */
export const ESCROW_STATUSES = ["none", "funded", "shipped", "disputed", "released", "refunded", "resolved", "settled"] as const;
export type EscrowStatus = (typeof ESCROW_STATUSES)[number];
const OPEN: readonly EscrowStatus[] = ["funded", "shipped", "disputed"];

export interface EscrowOffer {
  buyerAmount: bigint;
  merchantAmount: bigint;
  proposer: "buyer" | "merchant";
}

/** One escrow as the chain has it, with the times that follow from it (unix seconds). */
export interface EscrowState {
  id: string;
  status: EscrowStatus;
  /** funded, shipped or disputed: it still holds `amount`. */
  open: boolean;
  buyer: string;
  merchant: string;
  token: string;
  /** What the escrow still holds for it (0 once final). */
  amount: bigint;
  releaseTimeout: number;
  disputeWindow: number;
  shippedAt: bigint | null;
  /** From when anyone may release (shipped, no dispute); null before shipping. */
  releasableAt: bigint | null;
  /** When the dispute window closes after shipping; null before shipping (a dispute is possible until then). */
  disputeClosesAt: bigint | null;
  offer: EscrowOffer | null;
}

// What ethers decodes for getEscrow / getOffer (tuples as arrays), checked before use.
const escrowTuple = z.tuple([z.string(), z.bigint(), z.bigint(), z.bigint(), z.string(), z.bigint(), z.string(), z.bigint()]);
const offerTuple = z.tuple([z.bigint(), z.bigint(), z.bigint()]);

/**
 * Reads escrow `id` from the OrioleEscrow at `escrow`; undefined when it does not exist.
 * @throws OrioleError `invalid_escrow_state` when the contract answers something else than an escrow.
 */
export async function readEscrow(runner: ContractRunner, escrow: string, id: string): Promise<EscrowState | undefined> {
  const c = new Contract(escrow, ESCROW_ABI, runner);
  const [rawEscrow, rawOffer] = (await Promise.all([c.getFunction("getEscrow").staticCall(id), c.getFunction("getOffer").staticCall(id)])) as [unknown, unknown];
  const e = escrowTuple.safeParse(toArray(rawEscrow));
  const o = offerTuple.safeParse(toArray(rawOffer));
  if (!e.success || !o.success) throw new OrioleError("invalid_escrow_state", `${escrow} did not return an escrow for ${id}`, { escrow, id });
  const [buyer, statusIndex, shippedAt, releaseTimeout, merchant, disputeWindow, token, amount] = e.data;
  const status = ESCROW_STATUSES[Number(statusIndex)];
  if (status === undefined) throw new OrioleError("invalid_escrow_state", `unknown escrow status ${statusIndex.toString()}`, { escrow, id });
  if (status === "none") return undefined;
  const shipped = shippedAt === 0n ? null : shippedAt;
  const [offerBuyer, offerMerchant, proposer] = o.data;
  return {
    id: id.toLowerCase(),
    status,
    open: OPEN.includes(status),
    buyer: getAddress(buyer),
    merchant: getAddress(merchant),
    token: getAddress(token),
    amount,
    releaseTimeout: Number(releaseTimeout),
    disputeWindow: Number(disputeWindow),
    shippedAt: shipped,
    releasableAt: shipped === null ? null : shipped + releaseTimeout,
    disputeClosesAt: shipped === null ? null : shipped + disputeWindow,
    offer: proposer === 0n ? null : { buyerAmount: offerBuyer, merchantAmount: offerMerchant, proposer: proposer === 1n ? "buyer" : "merchant" },
  };
}

/** Whether `signer`'s signed-action `nonce` was used or invalidated on the escrow. */
export async function isEscrowNonceUsed(runner: ContractRunner, escrow: string, signer: string, nonce: bigint): Promise<boolean> {
  const used: unknown = await new Contract(escrow, ESCROW_ABI, runner).getFunction("isNonceUsed").staticCall(signer, nonce);
  return used === true;
}

/** The token's EIP-712 name (from ERC-5267 `eip712Domain()`), needed to sign its authorizations. */
export async function readTokenDomainName(runner: ContractRunner, token: string): Promise<string> {
  const domain: unknown = await new Contract(token, STABLE_TOKEN_ABI, runner).getFunction("eip712Domain").staticCall();
  const name = toArray(domain)[1];
  if (typeof name !== "string") throw new OrioleError("invalid_token", `${token} has no EIP-712 domain name`, { token });
  return name;
}

function toArray(v: unknown): unknown[] {
  return Array.isArray(v) ? Array.from(v as unknown[], (x) => (Array.isArray(x) ? toArray(x) : x)) : [];
}
