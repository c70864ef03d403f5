import { p256 } from "@noble/curves/nist.js";
import { expect } from "chai";
import { concat, getBytes, hexlify, keccak256, sha256, toUtf8Bytes } from "ethers";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { base64UrlEncode, derToRS, encodePasskeySignature, P256_HALF_N, P256_N, verifyPasskeySignature } from "../../client/sdk/account/webauthn.ts";
import { codeOf } from "../helpers/orioleErrors.ts";

const CHALLENGE = keccak256(toUtf8Bytes("pay the merchant"));

describe("sdk/softwareDevice", function () {
  it("writes clientDataJSON in the browser's exact layout", function () {
    const device = SoftwareDevice.generate();
    const a = device.assert(CHALLENGE, { origin: "http://localhost:8787" });
    expect(a.clientDataJSON).to.equal(`{"type":"webauthn.get","challenge":"${base64UrlEncode(CHALLENGE)}","origin":"http://localhost:8787","crossOrigin":false}`);
    expect(Object.keys(JSON.parse(a.clientDataJSON) as object)).to.deep.equal(["type", "challenge", "origin", "crossOrigin"]);
    expect(device.assert(CHALLENGE).clientDataJSON).to.contain('"origin":"http://localhost"');
  });

  it("writes authenticatorData = sha256(rpId) ‖ flags ‖ signCount, UV following the option", function () {
    const device = SoftwareDevice.generate();
    const uv = device.assert(CHALLENGE, { rpId: "wallet.example" });
    expect(hexlify(uv.authenticatorData)).to.equal(concat([sha256(toUtf8Bytes("wallet.example")), "0x05", "0x00000000"]));
    const noUv = device.assert(CHALLENGE, { userVerified: false, signCount: 0x01020304 });
    expect(hexlify(noUv.authenticatorData)).to.equal(concat([sha256(toUtf8Bytes("localhost")), "0x01", "0x01020304"]));
  });

  it("signs sha256(authenticatorData ‖ sha256(clientDataJSON)) in DER, s not normalised, like an authenticator", function () {
    const device = SoftwareDevice.generate();
    const pub = getBytes(concat(["0x04", device.publicKey.qx, device.publicKey.qy]));
    let sawHigh = false;
    for (let i = 0; i < 64 && !sawHigh; i++) {
      const challenge = keccak256(toUtf8Bytes(`intent ${i}`));
      const a = device.assert(challenge);
      const msg = concat([a.authenticatorData, sha256(toUtf8Bytes(a.clientDataJSON))]);
      expect(p256.verify(a.signature, getBytes(msg), pub, { prehash: true, lowS: false, format: "der" })).to.be.true;
      const raw = p256.Signature.fromBytes(a.signature, "der");
      if (raw.s > P256_HALF_N) {
        sawHigh = true;
        expect(derToRS(a.signature).s).to.equal(P256_N - raw.s);
        expect(verifyPasskeySignature(challenge, device.sign(challenge))).to.be.true;
      }
    }
    expect(sawHigh, "some of 64 assertions have a high s").to.be.true;
  });

  it("sign() is encodePasskeySignature of assert() and verifies", function () {
    const device = SoftwareDevice.generate();
    const sig = device.sign(CHALLENGE, { origin: "https://pay.example" });
    // RFC 6979 signatures are deterministic: the same assertion twice encodes the same.
    expect(sig).to.equal(encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...device.assert(CHALLENGE, { origin: "https://pay.example" }) }));
    expect(verifyPasskeySignature(CHALLENGE, sig)).to.be.true;
  });

  it("round-trips its private key and refuses invalid ones", function () {
    const device = SoftwareDevice.generate();
    const again = SoftwareDevice.fromPrivateKey(device.privateKeyHex());
    expect(again.publicKey).to.deep.equal(device.publicKey);
    expect(device.privateKeyHex()).to.match(/^0x[0-9a-f]{64}$/);
    expect(SoftwareDevice.generate().publicKey).to.not.deep.equal(device.publicKey);
    const n = P256_N.toString(16);
    for (const bad of ["0x00", `0x${"00".repeat(32)}`, `0x${n}`, `0x${"ff".repeat(32)}`, `0x${"11".repeat(31)}`, "nothex", `0x${"11".repeat(33)}`]) {
      expect(codeOf(() => SoftwareDevice.fromPrivateKey(bad)), bad).to.equal("invalid_private_key");
    }
    expect(codeOf(() => device.assert("0x1234"))).to.equal("invalid_challenge");
  });
});
