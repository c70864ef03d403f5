import { expect } from "chai";
import { bodyText } from "../../node/src/chain/rpc.ts";

/** JSON-RPC bodies: ASCII takes the Latin-1 fast path, and anything else must still decode as UTF-8. */
describe("rpc: response body decoding", function () {
  it("decodes an ASCII body to the same text", function () {
    const json = JSON.stringify({ jsonrpc: "2.0", id: 1, result: [{ data: `0x${"ab".repeat(32)}` }] });
    expect(bodyText(Buffer.from(json, "utf8"))).to.equal(json);
  });

  it("decodes multi-byte UTF-8 (an error message, a token name) as UTF-8, not byte by byte", function () {
    const json = JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: 3, message: "révert: €100 over the limit 🙅" } });
    const text = bodyText(Buffer.from(json, "utf8"));
    expect(text).to.equal(json);
    expect((JSON.parse(text) as { error: { message: string } }).error.message).to.equal("révert: €100 over the limit 🙅");
  });

  it("decodes an empty body to an empty string", function () {
    expect(bodyText(Buffer.alloc(0))).to.equal("");
  });
});
