import { expect } from "chai";
import { decodePayment, encodePayment, paymentOfRow } from "../../node/src/store/paymentCodec.ts";
import type { Payment } from "../../node/src/store/store.ts";

describe("node: stored payment rows (paymentCodec)", function () {
  const payment: Payment = {
    txHash: `0x${"ab".repeat(32)}`,
    logIndex: 7,
    blockNumber: 123_456,
    timestamp: 1_760_000_000,
    from: "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B",
    to: "0x00000000000000000000000000000000000000bB",
    currency: "EUR",
    amount: "123456789012345678901234567890",
    reference: `0x${"01".repeat(32)}`,
    fee: "250",
    kind: "payment",
  };

  it("round-trips every field, null reference included, with the API's key order", function () {
    for (const p of [payment, { ...payment, reference: null, fee: "0", kind: "transfer" as const }]) {
      const text = encodePayment(p);
      expect(text.startsWith("[")).to.equal(true);
      expect(text).to.not.include("txHash");
      const back = decodePayment(text);
      expect(back).to.deep.equal(p);
      expect(Object.keys(back)).to.deep.equal(Object.keys(payment));
      expect(JSON.stringify(back)).to.equal(JSON.stringify(p));
    }
  });

  it("is smaller than the object's JSON", function () {
    expect(encodePayment(payment).length).to.be.lessThan(JSON.stringify(payment).length * 0.8);
  });

  it("refuses anything but a row of 11 fields (a store written by another layout is a bug, not data)", function () {
    for (const bad of [JSON.stringify(payment), "[]", "[1,2,3]", JSON.stringify([...JSON.parse(encodePayment(payment)) as unknown[], "extra"]), "null"]) {
      expect(() => decodePayment(bad), bad).to.throw(/row of 11 fields/);
    }
    expect(() => paymentOfRow({ length: 11 })).to.throw(/row of 11 fields/);
  });
});
