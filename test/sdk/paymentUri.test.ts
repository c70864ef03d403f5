import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { OrioleError } from "../../client/sdk/errors.ts";
import { formatPaymentUri, MAX_PAYMENT_URI_LENGTH, parsePaymentUri, type PaymentRequest } from "../../client/sdk/paymentUri.ts";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const REF = keccak256(toUtf8Bytes("invoice 42"));
const BASE = `ethereum:${TOKEN}@31337/transfer`;

/** The OrioleError a parse throws (fails the test when it does not throw one). */
function refusal(uri: string, opts?: { defaultChainId?: number }): OrioleError {
  try {
    parsePaymentUri(uri, opts);
  } catch (e) {
    expect(e, uri).to.be.instanceOf(OrioleError);
    expect((e as OrioleError).code, uri).to.equal("invalid_payment_uri");
    return e as OrioleError;
  }
  expect.fail(`${uri} was accepted`);
}

describe("sdk/paymentUri", function () {
  it("formats the EIP-681 transfer form and parses it back", function () {
    const req: PaymentRequest = { chainId: 31337, token: TOKEN, to: TO, amount: 12_500_000n, reference: REF };
    const uri = formatPaymentUri(req);
    expect(uri).to.equal(`ethereum:${TOKEN}@31337/transfer?address=${TO}&uint256=12500000&reference=${REF}`);
    expect(parsePaymentUri(uri)).to.deep.equal(req);
    const noRef = formatPaymentUri({ chainId: 1, token: TOKEN.toLowerCase(), to: TO.toLowerCase(), amount: 1n });
    expect(noRef).to.equal(`ethereum:${TOKEN}@1/transfer?address=${TO}&uint256=1`);
    expect(parsePaymentUri(noRef)).to.deep.equal({ chainId: 1, token: TOKEN, to: TO, amount: 1n });
    const max = (1n << 256n) - 1n;
    expect(parsePaymentUri(formatPaymentUri({ ...req, amount: max })).amount).to.equal(max);
  });

  it("refuses to format a bad request", function () {
    const req: PaymentRequest = { chainId: 31337, token: TOKEN, to: TO, amount: 1n };
    for (const bad of [{ ...req, amount: 0n }, { ...req, amount: -1n }, { ...req, amount: 1n << 256n }, { ...req, to: "shop.eth" }, { ...req, token: "0x12" }, { ...req, chainId: 0 }, { ...req, chainId: 1.5 }, { ...req, reference: "0x12" }]) {
      expect(() => formatPaymentUri(bad)).to.throw(OrioleError).with.property("code", "invalid_payment_uri");
    }
  });

  it("reads EIP-681 variants: pay- prefix, scientific notation, lowercase addresses, no chain id with a default", function () {
    const expected = { chainId: 1, token: TOKEN, to: TO, amount: 2_014_000_000_000_000_000n };
    expect(parsePaymentUri(`ethereum:pay-${TOKEN.toLowerCase()}@1/transfer?address=${TO.toLowerCase()}&uint256=2.014e18`)).to.deep.equal(expected);
    expect(parsePaymentUri(`ethereum:${TOKEN}@1/transfer?uint256=2014e15&address=${TO}`)).to.deep.equal(expected);
    expect(parsePaymentUri(`ETHEREUM:${TOKEN}@1/transfer?address=${TO}&uint256=2.0140E18`)).to.deep.equal(expected);
    expect(parsePaymentUri(`  ethereum:${TOKEN}@1/transfer?address=${TO}&uint256=2014000000000000000\n`)).to.deep.equal(expected);
    expect(parsePaymentUri(`${BASE}?address=${TO}&uint256=2.5e6`).amount).to.equal(2_500_000n);
    expect(parsePaymentUri(`${BASE}?address=${TO}&uint256=1.50e1`).amount).to.equal(15n);
    expect(parsePaymentUri(`${BASE}?address=${TO}&uint256=+7`).amount).to.equal(7n);
    expect(parsePaymentUri(`ethereum:${TOKEN}/transfer?address=${TO}&uint256=5`, { defaultChainId: 31337 }).chainId).to.equal(31337);
    expect(parsePaymentUri(`${BASE}?address=${TO}&uint256=5&reference=${REF.toUpperCase().replace("0X", "0x")}`).reference).to.equal(REF);
  });

  it("refuses malformed requests with a message that says what is wrong", function () {
    const cases: [string, RegExp][] = [
      [`${BASE}?uint256=1`, /recipient \(address=\) is missing/],
      [`${BASE}?address=${TO}`, /amount \(uint256=\) is missing/],
      [`ethereum:@31337/transfer?address=${TO}&uint256=1`, /token is missing/],
      [`ethereum:usd.oriole.eth@31337/transfer?address=${TO}&uint256=1`, /ENS name/],
      [`${BASE}?address=shop.eth&uint256=1`, /ENS name/],
      [`${BASE}?address=0x1234&uint256=1`, /not an address/],
      [`${BASE}?address=${TO.replace("C5", "c5")}&uint256=1`, /checksum/],
      [`ethereum:${TOKEN}@31337/approve?address=${TO}&uint256=1`, /function "approve" is not supported/],
      [`ethereum:${TOKEN}@31337?value=1`, /not a token transfer/],
      [`${BASE}?address=${TO}&uint256=1.5`, /not a whole number/],
      [`${BASE}?address=${TO}&uint256=2.0145e3`, /not a whole number/],
      [`${BASE}?address=${TO}&uint256=-5`, /negative/],
      [`${BASE}?address=${TO}&uint256=0`, /greater than zero/],
      [`${BASE}?address=${TO}&uint256=0x10`, /not a number/],
      [`${BASE}?address=${TO}&uint256=1e`, /not a number/],
      [`${BASE}?address=${TO}&uint256=`, /not a number/],
      [`${BASE}?address=${TO}&uint256=1e100`, /too large/],
      [`${BASE}?address=${TO}&uint256=1e99999999999999999999`, /too large/],
      [`${BASE}?address=${TO}&uint256=${(1n << 256n).toString()}`, /too large/],
      [`ethereum:${TOKEN}@0/transfer?address=${TO}&uint256=1`, /chain id "0"/],
      [`ethereum:${TOKEN}@0x1/transfer?address=${TO}&uint256=1`, /chain id "0x1"/],
      [`ethereum:${TOKEN}@-1/transfer?address=${TO}&uint256=1`, /chain id "-1"/],
      [`ethereum:${TOKEN}@/transfer?address=${TO}&uint256=1`, /chain id ""/],
      [`ethereum:${TOKEN}@99999999999999999/transfer?address=${TO}&uint256=1`, /chain id/],
      [`ethereum:${TOKEN}/transfer?address=${TO}&uint256=1`, /no chain id/],
      [`${BASE}?address=${TO}&uint256=1&reference=0x1234`, /reference "0x1234"/],
      [`${BASE}?address=${TO}&uint256=1&reference=${REF.slice(2)}`, /reference/],
      [`bitcoin:1BoatSLRHtKNngkdXEeobR76b53LETtpyT?amount=1`, /unknown scheme "bitcoin:"/],
      [TOKEN, /not a payment request URI/],
      [`ethereum:foo-${TOKEN}@1/transfer?address=${TO}&uint256=1`, /unknown prefix "foo-"/],
      [`${BASE}?address=${TO}&uint256=1&uint256=2`, /"uint256" appears twice/],
      [`${BASE}?address=${TO}&address=${TOKEN}&uint256=1`, /"address" appears twice/],
      [`${BASE}?address=${TO}&uint256=1&value=5`, /unknown parameter "value"/],
      [`${BASE}?address=${TO}&uint256=1&`, /not key=value/],
      [`${BASE}?address=${TO}&uint256=1#x`, /fragment/],
      [`${BASE}?address=${TO}&uint256=1&reference=${"0".repeat(MAX_PAYMENT_URI_LENGTH)}`, /too long/],
    ];
    for (const [uri, message] of cases) expect(refusal(uri).message, uri).to.match(message);
  });
});
