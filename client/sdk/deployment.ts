import { readFile, writeFile, mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { CURRENCIES, type Currency } from "./currencies.ts";
import { OrioleError } from "./errors.ts";

const address = z.string().refine((s) => isAddress(s), "not an address").transform((s) => getAddress(s));
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not a 32-byte hash");

const tokensShape = Object.fromEntries(CURRENCIES.map((c) => [c, address])) as Record<Currency, typeof address>;

/**
 * `deployments/<chainId>.json`: where Oriole lives on one chain. The genesis
 * hash and the deployment block tell a restarted dev chain (same chain id,
 * new history) from the chain the contracts were deployed on.
 */
export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  genesisHash: hash,
  deploymentId: z.string().min(1),
  deployedAt: z.object({
    blockNumber: z.number().int().nonnegative(),
    blockHash: hash,
  }),
  contracts: z.object({
    tokens: z.object(tokensShape),
    /** Passkey accounts: the clone implementation, the CREATE2 factory and the relayer's batcher. */
    accounts: z.object({
      implementation: address,
      factory: address,
      relay: address,
    }),
    /** OfflineVault: offline allowances and batch settlement of offline payment codes. */
    offlineVault: address,
    /** OrioleEscrow: escrow for goods delivered later, every currency. */
    escrow: address,
  }),
});

export type Deployment = z.infer<typeof deploymentSchema>;

export const DEFAULT_DEPLOYMENTS_DIR = "deployments";

export function deploymentPath(chainId: number, dir: string = DEFAULT_DEPLOYMENTS_DIR): string {
  return path.join(dir, `${chainId}.json`);
}

/** Reads and validates a deployment file; undefined when it does not exist. */
export async function readDeployment(file: string): Promise<Deployment | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OrioleError("invalid_deployment", `${file} is not valid JSON`, { file }, { cause: e });
  }
  const parsed = deploymentSchema.safeParse(json);
  if (!parsed.success) {
    throw new OrioleError("invalid_deployment", `${file} is not a valid Oriole deployment: ${parsed.error.issues[0]?.message ?? "invalid"}`, { file });
  }
  return parsed.data;
}

/** Writes the file atomically (temp file + rename) so readers never see half of it. */
export async function writeDeployment(file: string, deployment: Deployment): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(deployment, null, 2)}\n`);
  await rename(tmp, file);
}
