import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of a JSON-RPC endpoint that can pass requests
 * through, fail them (503), or never answer: a flaky RPC for tests.
 */
export interface RpcProxy {
  url: string;
  mode: "pass" | "fail" | "hang";
  close(): Promise<void>;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const state: { mode: RpcProxy["mode"] } = { mode: "pass" };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (state.mode === "hang") return;
      if (state.mode === "fail") {
        res.writeHead(503).end("unavailable");
        return;
      }
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
        .then(async (r) => {
          res.writeHead(r.status, { "content-type": "application/json" }).end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
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
