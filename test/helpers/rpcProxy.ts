import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What the proxy does with one HTTP request (a JSON-RPC call or batch):
 * - "pass": forward it;
 * - "fail": answer 503 without forwarding;
 * - "hang": never answer;
 * - "lose": forward it, then answer 503 (the chain has it, the caller does not know);
 * - "rpcError": a JSON-RPC error answer to each call (-32005, rate limited), not forwarded.
 */
export type RpcProxyAction = "pass" | "fail" | "hang" | "lose" | "rpcError";

/** An HTTP proxy in front of a JSON-RPC endpoint: a flaky RPC for tests. */
export interface RpcProxy {
  url: string;
  /** Decides per request, from its methods (one, or a batch's). */
  rule: (methods: readonly string[]) => RpcProxyAction;
  /** The same action for every request (setting it replaces `rule`); "custom" while a `rule` is set. */
  mode: RpcProxyAction | "custom";
  close(): Promise<void>;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  let rule: RpcProxy["rule"] = () => "pass";
  let mode: RpcProxy["mode"] = "pass";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      type Call = { id?: unknown; method?: string };
      let parsed: Call | Call[] = [];
      try {
        parsed = JSON.parse(body.toString("utf8")) as Call | Call[];
      } catch {
        // Not JSON-RPC (e.g. an empty probe): no methods, forwarded as the rule says.
      }
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      const action = rule(calls.map((c) => c.method ?? ""));
      if (action === "hang") return;
      if (action === "fail") {
        res.writeHead(503).end("unavailable");
        return;
      }
      if (action === "rpcError") {
        const errors = calls.map((c) => ({ jsonrpc: "2.0", id: c.id ?? null, error: { code: -32005, message: "rate limit exceeded, retry later" } }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Array.isArray(parsed) ? errors : errors[0]));
        return;
      }
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (r) => {
          const answer = Buffer.from(await r.arrayBuffer());
          if (action === "lose") res.writeHead(503).end("lost");
          else res.writeHead(r.status, { "content-type": "application/json" }).end(answer);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port.toString()}`,
    get rule() {
      return rule;
    },
    set rule(r) {
      rule = r;
      mode = "custom";
    },
    get mode() {
      return mode;
    },
    set mode(m) {
      if (m === "custom") return;
      mode = m;
      rule = () => m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
