import { expect } from "chai";
import { PAYMENT_TOPIC } from "../../client/sdk/abi.ts";
import { decodePaymentLog, type PaymentLog, type TransferLog } from "../../node/src/chain/transfers.ts";
import { applyTransfers, linkPayments } from "../../node/src/indexer/derive.ts";

const TOKEN = "0x00000000000000000000000000000000000000aa";
const OTHER_TOKEN = "0x00000000000000000000000000000000000000bb";
const A = "0x000000000000000000000000000000000000000a";
const B = "0x000000000000000000000000000000000000000b";
const FC = "0x00000000000000000000000000000000000000fc";
const REF = `0x${"12".repeat(32)}`;
const REF2 = `0x${"34".repeat(32)}`;

const t = (logIndex: number, from: string, to: string, value: bigint, over: Partial<TransferLog> = {}): TransferLog => ({
  blockNumber: 1,
  blockHash: `0x${"00".repeat(32)}`,
  logIndex,
  txHash: `0x${"01".repeat(32)}`,
  token: TOKEN,
  from,
  to,
  value,
  timestamp: 1_700_000_000,
  ...over,
});
const p = (logIndex: number, payer: string, payee: string, amount: bigint, fee: bigint, reference = REF, over: Partial<PaymentLog> = {}): PaymentLog => ({
  blockNumber: 1,
  logIndex,
  txHash: `0x${"01".repeat(32)}`,
  token: TOKEN,
  reference,
  payer,
  payee,
  amount,
  fee,
  ...over,
});

/** Pure derive tests: how Payment events attach to Transfers (the rule documented in derive.ts). */
describe("node: linking Payment events to Transfers (pure)", function () {
  it("decodes a Payment log by hand", function () {
    const word = (hex: string): string => `0x${hex.slice(2).padStart(64, "0")}`;
    const log = {
      address: "0x00000000000000000000000000000000000000AA",
      topics: [PAYMENT_TOPIC, REF, word(A), word(B)],
      data: `${word("0x3e8")}${word("0x19").slice(2)}`,
      blockNumber: "0x5",
      blockHash: `0x${"00".repeat(32)}`,
      transactionHash: `0x${"AB".repeat(32)}`,
      logIndex: "0x2",
    };
    expect(decodePaymentLog(log)).to.deep.equal({ blockNumber: 5, logIndex: 2, txHash: `0x${"ab".repeat(32)}`, token: TOKEN, reference: REF, payer: A, payee: B, amount: 1000n, fee: 25n });
    expect(decodePaymentLog({ ...log, topics: log.topics.slice(0, 3) })).to.equal(undefined);
    expect(decodePaymentLog({ ...log, data: log.data.slice(0, 66) })).to.equal(undefined);
  });

  it("links plain, fee and batch payments; leaves other transfers alone", function () {
    const transfers = [
      t(0, A, B, 5n), // plain, same tx
      t(1, A, B, 100n), // payment, no fee
      t(3, A, B, 975n), // payment with fee: net
      t(4, A, FC, 25n), // its fee
      t(6, A, B, 7n, { token: OTHER_TOKEN }), // another token in between
      t(7, B, B, 9n), // a self payment
    ];
    const payments = [p(2, A, B, 100n, 0n), p(5, A, B, 1000n, 25n, REF2), p(8, B, B, 9n, 0n)];
    const links = linkPayments(transfers, payments);
    expect([...links.entries()].sort((x, y) => x[0] - y[0])).to.deep.equal([
      [1, { kind: "payment", reference: REF, fee: 0n }],
      [2, { kind: "payment", reference: REF2, fee: 25n }],
      [3, { kind: "fee", reference: REF2, fee: 25n }],
      [5, { kind: "payment", reference: REF, fee: 0n }],
    ]);
    const changes = applyTransfers({
      transfers,
      payments,
      currencyOf: new Map([[TOKEN, "USD"], [OTHER_TOKEN, "EUR"]]),
      priorBalances: new Map([[`${A}!USD`, 10_000n], [`${A}!EUR`, 10n], [`${B}!USD`, 9n]]),
      priorSupply: { USD: 0n, CNY: 0n, EUR: 0n, HKD: 0n },
    });
    const ofB = changes.payments.filter((x) => x.account === B).map((x) => [x.payment.logIndex, x.payment.kind, x.payment.reference, x.payment.fee]);
    expect(ofB).to.deep.equal([
      [0, "transfer", null, "0"],
      [1, "payment", REF, "0"],
      [3, "payment", REF2, "25"],
      [6, "transfer", null, "0"],
      [7, "payment", REF, "0"],
    ]);
    const ofFc = changes.payments.filter((x) => x.account === FC).map((x) => x.payment);
    expect(ofFc).to.have.length(1);
    expect(ofFc[0]).to.include({ kind: "fee", reference: REF2, fee: "0", amount: "25" });
  });

  it("refuses a Payment without its transfers (state_invariant), never guesses", function () {
    const cases: [TransferLog[], PaymentLog][] = [
      [[], p(1, A, B, 1n, 0n)],
      [[t(0, A, B, 2n)], p(1, A, B, 1n, 0n)], // wrong amount
      [[t(0, B, A, 1n)], p(1, A, B, 1n, 0n)], // wrong direction
      [[t(0, A, B, 1n, { txHash: `0x${"02".repeat(32)}` })], p(1, A, B, 1n, 0n)], // another transaction
      [[t(0, A, B, 1n, { token: OTHER_TOKEN })], p(1, A, B, 1n, 0n)], // another token
      [[t(0, A, B, 1000n)], p(1, A, B, 1000n, 25n)], // fee transfer missing
      [[t(2, A, B, 1n)], p(1, A, B, 1n, 0n)], // after the Payment
    ];
    for (const [transfers, payment] of cases) {
      let error: unknown;
      try {
        linkPayments(transfers, [payment]);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(transfers, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).to.have.property("code", "state_invariant");
    }
    // A transfer claimed by one Payment is not claimed again by the next.
    let error: unknown;
    try {
      linkPayments([t(0, A, B, 1n)], [p(1, A, B, 1n, 0n), p(2, A, B, 1n, 0n)]);
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property("code", "state_invariant");
  });
});
