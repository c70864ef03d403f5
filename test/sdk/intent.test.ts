import { expect } from "chai";
import { AbiCoder, concat, getAddress, keccak256, toUtf8Bytes, TypedDataEncoder } from "ethers";
import { OrioleError } from "../../client/sdk/errors.ts";
import {
  ACCOUNT_CALL_TYPES,
  accountDomain,
  hashAccountCall,
  hashPaymentIntent,
  hashRecovery,
  PAYMENT_INTENT_TYPES,
  type PaymentIntent,
  paymentIntentJsonSchema,
  paymentIntentToJson,
  parsePaymentIntentJson,
  replaySafeHash,
} from "../../client/sdk/account/intent.ts";
import { codeOf } from "../helpers/orioleErrors.ts";

const ACCOUNT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const INTENT: PaymentIntent = {
  token: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  amount: 12_500_000n,
  reference: keccak256(toUtf8Bytes("invoice 42")),
  nonce: 257n,
  deadline: 1_900_000_000n,
  maxRelayerFee: 10_000n,
};
const abi = AbiCoder.defaultAbiCoder();
const h = (s: string) => keccak256(toUtf8Bytes(s));

/** EIP-712 by hand: the spec's type strings, abi.encode and the 0x1901 prefix. */
function domainSeparator(chainId: bigint, account: string): string {
  return keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [h("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"), h("Oriole PasskeyAccount"), h("1"), chainId, account],
    ),
  );
}
function digest(chainId: bigint, account: string, structHash: string): string {
  return keccak256(concat(["0x1901", domainSeparator(chainId, account), structHash]));
}

describe("sdk/intent", function () {
  it("uses the spec's type strings", function () {
    expect(TypedDataEncoder.from(PAYMENT_INTENT_TYPES).encodeType("PaymentIntent")).to.equal(
      "PaymentIntent(address token,address to,uint256 amount,bytes32 reference,uint256 nonce,uint256 deadline,uint256 maxRelayerFee)",
    );
    expect(TypedDataEncoder.from(ACCOUNT_CALL_TYPES).encodeType("AccountCall")).to.equal("AccountCall(bytes data,uint256 nonce,uint256 deadline)");
    expect(accountDomain(31337, ACCOUNT.toLowerCase())).to.deep.equal({ name: "Oriole PasskeyAccount", version: "1", chainId: 31337n, verifyingContract: ACCOUNT });
  });

  it("hashes a payment intent as EIP-712 by hand", function () {
    const typeHash = h("PaymentIntent(address token,address to,uint256 amount,bytes32 reference,uint256 nonce,uint256 deadline,uint256 maxRelayerFee)");
    const structHash = keccak256(
      abi.encode(
        ["bytes32", "address", "address", "uint256", "bytes32", "uint256", "uint256", "uint256"],
        [typeHash, INTENT.token, INTENT.to, INTENT.amount, INTENT.reference, INTENT.nonce, INTENT.deadline, INTENT.maxRelayerFee],
      ),
    );
    expect(hashPaymentIntent(31337, ACCOUNT, INTENT)).to.equal(digest(31337n, ACCOUNT, structHash));
    expect(hashPaymentIntent(31337n, ACCOUNT, INTENT)).to.equal(digest(31337n, ACCOUNT, structHash));
    // Any field, the chain and the account change the digest.
    expect(hashPaymentIntent(1, ACCOUNT, INTENT)).to.not.equal(digest(31337n, ACCOUNT, structHash));
    expect(hashPaymentIntent(31337, INTENT.to, INTENT)).to.not.equal(digest(31337n, ACCOUNT, structHash));
    expect(hashPaymentIntent(31337, ACCOUNT, { ...INTENT, maxRelayerFee: 10_001n })).to.not.equal(digest(31337n, ACCOUNT, structHash));
  });

  it("hashes an account call, a recovery and an ERC-1271 message by hand", function () {
    const data = "0xdeadbeef00";
    const callStruct = keccak256(abi.encode(["bytes32", "bytes32", "uint256", "uint256"], [h("AccountCall(bytes data,uint256 nonce,uint256 deadline)"), keccak256(data), 7n, 99n]));
    expect(hashAccountCall(10, ACCOUNT, { data, nonce: 7n, deadline: 99n })).to.equal(digest(10n, ACCOUNT, callStruct));

    const qx = h("qx");
    const qy = h("qy");
    const recStruct = keccak256(abi.encode(["bytes32", "bytes32", "bytes32", "uint256", "uint256"], [h("Recovery(bytes32 qx,bytes32 qy,uint256 recoveryNonce,uint256 deadline)"), qx, qy, 3n, 1000n]));
    expect(hashRecovery(10, ACCOUNT, { qx, qy, recoveryNonce: 3n, deadline: 1000n })).to.equal(digest(10n, ACCOUNT, recStruct));

    const msgStruct = keccak256(abi.encode(["bytes32", "bytes32"], [h("OrioleMessage(bytes32 hash)"), qx]));
    expect(replaySafeHash(10, ACCOUNT, qx)).to.equal(digest(10n, ACCOUNT, msgStruct));
  });

  it("round-trips the JSON form (decimal strings, checksummed addresses, lowercase reference)", function () {
    const json = paymentIntentToJson({ ...INTENT, to: INTENT.to.toLowerCase(), reference: INTENT.reference.toUpperCase().replace("0X", "0x") });
    expect(json).to.deep.equal({
      token: INTENT.token,
      to: INTENT.to,
      amount: "12500000",
      reference: INTENT.reference,
      nonce: "257",
      deadline: "1900000000",
      maxRelayerFee: "10000",
    });
    expect(parsePaymentIntentJson(JSON.parse(JSON.stringify(json)))).to.deep.equal(INTENT);
    expect(paymentIntentJsonSchema.parse({ ...json, token: json.token.toLowerCase() }).token).to.equal(INTENT.token);
    const max = ((1n << 256n) - 1n).toString();
    expect(parsePaymentIntentJson({ ...json, amount: max, nonce: "0" }).amount).to.equal((1n << 256n) - 1n);
  });

  it("refuses malformed JSON with invalid_intent naming the field", function () {
    const json = paymentIntentToJson(INTENT);
    const badChecksum = getAddress(INTENT.to).replace("c", "C");
    const cases: [string, unknown, string][] = [
      ["bad address", { ...json, to: "0x1234" }, "to"],
      ["bad checksum", { ...json, to: badChecksum }, "to"],
      ["ENS name", { ...json, to: "shop.eth" }, "to"],
      ["negative amount", { ...json, amount: "-1" }, "amount"],
      ["float amount", { ...json, amount: "1.5" }, "amount"],
      ["number amount", { ...json, amount: 1 }, "amount"],
      ["exponent amount", { ...json, amount: "1e6" }, "amount"],
      ["leading zero", { ...json, amount: "0100" }, "amount"],
      ["huge amount", { ...json, amount: (1n << 256n).toString() }, "amount"],
      ["very long amount", { ...json, amount: "9".repeat(200) }, "amount"],
      ["short reference", { ...json, reference: "0x1234" }, "reference"],
      ["long reference", { ...json, reference: `${json.reference}00` }, "reference"],
      ["missing nonce", { ...json, nonce: undefined }, "nonce"],
      ["unknown field", { ...json, value: "1" }, ""],
      ["not an object", "intent", ""],
    ];
    for (const [name, value, path] of cases) {
      let err: unknown;
      try {
        parsePaymentIntentJson(value);
      } catch (e) {
        err = e;
      }
      expect(err, name).to.be.instanceOf(OrioleError);
      expect((err as OrioleError).code, name).to.equal("invalid_intent");
      expect((err as OrioleError).details.path, name).to.equal(path);
      expect((err as OrioleError).message, name).to.match(/^invalid payment intent: /);
    }
    expect(codeOf(() => parsePaymentIntentJson({ ...json, value: "1" }))).to.equal("invalid_intent");
  });
});
