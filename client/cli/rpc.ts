import { OrioleError } from "../sdk/errors.ts";

/** eth_chainId of a JSON-RPC endpoint; `rpc_unreachable` when it does not answer. */
export async function rpcChainId(rpcUrl: string, timeoutMs = 5_000): Promise<number> {
  let body: unknown;
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await res.json();
  } catch (e) {
    throw new OrioleError("rpc_unreachable", `cannot reach the JSON-RPC at ${rpcUrl}`, { url: rpcUrl }, { cause: e });
  }
  const result = typeof body === "object" && body !== null && "result" in body ? body.result : undefined;
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new OrioleError("rpc_unreachable", `${rpcUrl} did not answer eth_chainId`, { url: rpcUrl });
  }
  return Number(BigInt(result));
}
