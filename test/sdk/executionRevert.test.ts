import { expect } from "chai";
import { JsonRpcProvider, makeError } from "ethers";
import { isExecutionRevert } from "../../client/sdk/executionRevert.ts";
import { startRpcProxy } from "../helpers/rpcProxy.ts";

/** ethers' CALL_EXCEPTION as its JSON-RPC provider builds it from a node's error answer. */
const callException = (data: string | null, nodeMessage?: string) =>
  makeError("missing revert data", "CALL_EXCEPTION", {
    action: "call",
    data,
    reason: null,
    transaction: { to: null, data: "0x" },
    invocation: null,
    revert: null,
    ...(nodeMessage === undefined ? {} : { info: { error: { code: -32000, message: nodeMessage } } }),
  });

describe("sdk/executionRevert: a revert vs an RPC failing", function () {
  it("revert data (also empty), or a node message saying the execution failed, is a revert", function () {
    expect(isExecutionRevert(callException("0x08c379a0"))).to.equal(true);
    expect(isExecutionRevert(callException("0x"))).to.equal(true);
    for (const m of ["execution reverted", "VM Exception while processing transaction: reverted with reason string 'x'", "out of gas", "gas required exceeds allowance (30000000)", "invalid opcode: INVALID"]) {
      expect(isExecutionRevert(callException(null, m)), m).to.equal(true);
    }
    // Without the node's message there is nothing to tell them apart by: a revert, as ethers says.
    expect(isExecutionRevert(callException(null))).to.equal(true);
  });

  it("an error answer about the request (rate limit, missing header, unknown block) is not a revert; nor is any other error", function () {
    for (const m of ["rate limit exceeded, retry later", "header not found", "unknown block", "request timed out"]) {
      expect(isExecutionRevert(callException(null, m)), m).to.equal(false);
    }
    expect(isExecutionRevert(makeError("could not coalesce error", "UNKNOWN_ERROR", {}))).to.equal(false);
    expect(isExecutionRevert(new Error("execution reverted"))).to.equal(false);
    expect(isExecutionRevert(undefined)).to.equal(false);
  });

  it("what ethers really throws for a rate-limited eth_call is not a revert", async function () {
    // No chain needed: the proxy answers every call with a JSON-RPC error and forwards nothing.
    const proxy = await startRpcProxy("http://127.0.0.1:1");
    proxy.mode = "rpcError";
    const provider = new JsonRpcProvider(proxy.url, 31337, { staticNetwork: true });
    try {
      const e: unknown = await provider.call({ to: "0x0000000000000000000000000000000000000001", data: "0x" }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e, "the call should have failed").to.be.instanceOf(Error);
      // ethers calls it CALL_EXCEPTION, as it does a revert: why the check exists.
      expect((e as { code?: unknown }).code).to.equal("CALL_EXCEPTION");
      expect(isExecutionRevert(e)).to.equal(false);
    } finally {
      provider.destroy();
      await proxy.close();
    }
  });
});
