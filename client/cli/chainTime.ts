import { paymentProvider } from "../sdk/payments.ts";
import type { CliContext } from "./context.ts";

/** The chain's latest block time (signatures' validity is judged by it, not by this machine's clock). */
export async function chainNow(ctx: CliContext, chainId: number): Promise<bigint> {
  const provider = paymentProvider(ctx.rpcUrl, chainId);
  try {
    return BigInt((await provider.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000));
  } finally {
    provider.destroy();
  }
}
