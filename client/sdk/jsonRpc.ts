import { OrioleError } from "./errors.ts";

/**
 * Keeps the scheme, host and port of a URL and hides the path, query and
 * credentials, which hosted RPC providers use for API keys.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.username || u.password || (u.pathname !== "/" && u.pathname !== "") || u.search;
    return `${u.protocol}//${u.host}${hidden ? "/…" : ""}`;
  } catch {
    return "<invalid url>";
  }
}

/**
 * One JSON-RPC request over a plain fetch: no provider, no network detection
 * and no retries, so that an unreachable endpoint fails at once with one
 * clear error. `rpc_unreachable` when nothing answers, `rpc_error` when the
 * endpoint answers with an error or something that is not JSON-RPC.
 */
export async function jsonRpcRequest(url: string, method: string, params: readonly unknown[] = [], timeoutMs = 10_000): Promise<unknown> {
  let body: unknown;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await res.json();
  } catch (e) {
    throw new OrioleError("rpc_unreachable", `the chain's JSON-RPC endpoint ${redactUrl(url)} does not answer: ${(e as Error).message}`, { url: redactUrl(url) }, { cause: e });
  }
  if (typeof body !== "object" || body === null) {
    throw new OrioleError("rpc_error", `${method}: ${redactUrl(url)} did not answer with JSON-RPC`, { method });
  }
  if ("error" in body && body.error) {
    const message = typeof body.error === "object" && "message" in body.error ? String(body.error.message) : JSON.stringify(body.error);
    throw new OrioleError("rpc_error", `${method}: ${message}`, { method, reason: message });
  }
  if (!("result" in body)) throw new OrioleError("rpc_error", `${method}: no result from ${redactUrl(url)}`, { method });
  return body.result;
}

/** The chain id of a JSON-RPC endpoint. */
export async function fetchChainId(url: string, timeoutMs = 10_000): Promise<number> {
  const result = await jsonRpcRequest(url, "eth_chainId", [], timeoutMs);
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new OrioleError("rpc_error", `${redactUrl(url)} answered eth_chainId without a chain id`, { url: redactUrl(url) });
  }
  return Number(BigInt(result));
}
