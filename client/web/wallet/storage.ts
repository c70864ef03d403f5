import { z } from "zod";

/**
 * What the wallet keeps in localStorage: public data only. The private key
 * stays in the authenticator; without it these values cannot spend anything.
 */
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const walletSchema = z.object({
  version: z.literal(1),
  /** The passkey's credential id, base64url. */
  credentialId: z.string().regex(/^[A-Za-z0-9_-]+$/),
  qx: hex32,
  qy: hex32,
  /** The factory salt, a decimal string (0 for the first account of a key). */
  salt: z.string().regex(/^(0|[1-9]\d*)$/),
  /** The counterfactual account address, as predicted from the node's factory. */
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  createdAt: z.number().int().nonnegative(),
});
export type StoredWallet = z.infer<typeof walletSchema>;

const KEY = "oriole.wallet.v1";

/** The saved wallet; undefined when there is none (a malformed entry counts as none, and is kept for inspection). */
export function loadWallet(): StoredWallet | undefined {
  const raw = localStorage.getItem(KEY);
  if (raw === null) return undefined;
  try {
    const parsed = walletSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function saveWallet(w: StoredWallet): void {
  localStorage.setItem(KEY, JSON.stringify(walletSchema.parse(w)));
}
