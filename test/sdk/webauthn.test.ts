import { p256 } from "@noble/curves/nist.js";
import { expect } from "chai";
import { concat, getBytes, hexlify, keccak256, sha256, toBeHex, toUtf8Bytes } from "ethers";
import { generateKeyPairSync } from "node:crypto";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import {
  base64UrlDecode,
  base64UrlEncode,
  CLIENT_DATA_PREFIX,
  decodePasskeySignature,
  derToRS,
  encodePasskeySignature,
  P256_HALF_N,
  P256_N,
  publicKeyFromSpki,
  verifyPasskeySignature,
} from "../../client/sdk/account/webauthn.ts";
import { codeOf } from "../helpers/orioleErrors.ts";

const CHALLENGE = keccak256(toUtf8Bytes("an intent"));
const OTHER = keccak256(toUtf8Bytes("another intent"));

/** Minimal DER for (r, s) as an authenticator writes it. */
function der(r: bigint, s: bigint): Uint8Array {
  const int = (v: bigint) => {
    let b = getBytes(toBeHex(v));
    if ((b[0] ?? 0) & 0x80) b = getBytes(concat(["0x00", b]));
    return getBytes(concat([new Uint8Array([0x02, b.length]), b]));
  };
  const body = getBytes(concat([int(r), int(s)]));
  return getBytes(concat([new Uint8Array([0x30, body.length]), body]));
}

/** Flips one byte of a 0x-hex string at byte offset `at`. */
function tamper(hex: string, at: number, xor = 0x01): string {
  const b = getBytes(hex);
  b[at] = (b[at] ?? 0) ^ xor;
  return hexlify(b);
}

describe("sdk/webauthn", function () {
  describe("base64url", function () {
    it("round-trips without padding and refuses other alphabets and non-canonical text", function () {
      for (let n = 0; n < 40; n++) {
        const bytes = getBytes(keccak256(new Uint8Array([n]))).subarray(0, n % 33);
        const text = base64UrlEncode(bytes);
        expect(text).to.match(/^[A-Za-z0-9_-]*$/);
        expect(hexlify(base64UrlDecode(text))).to.equal(hexlify(bytes));
      }
      expect(base64UrlEncode(new Uint8Array([0xfb, 0xff]))).to.equal("-_8");
      expect(base64UrlEncode(getBytes(CHALLENGE))).to.have.length(43);
      expect(codeOf(() => base64UrlDecode("+/8"))).to.equal("invalid_base64url");
      expect(codeOf(() => base64UrlDecode("-_8="))).to.equal("invalid_base64url");
      expect(codeOf(() => base64UrlDecode("A"))).to.equal("invalid_base64url");
      expect(codeOf(() => base64UrlDecode("-_9"))).to.equal("invalid_base64url"); // unused bits set
    });
  });

  describe("derToRS", function () {
    it("keeps a low s and normalises a high s to n - s", function () {
      const secret = p256.utils.randomSecretKey();
      let sawHigh = false;
      let sawLow = false;
      for (let i = 0; i < 64 && !(sawHigh && sawLow); i++) {
        const msg = toUtf8Bytes(`message ${i}`);
        const sigDer = p256.sign(msg, secret, { prehash: true, lowS: false, format: "der" });
        const raw = p256.Signature.fromBytes(sigDer, "der");
        const { r, s } = derToRS(sigDer);
        expect(r).to.equal(raw.r);
        expect(s <= P256_HALF_N).to.be.true;
        if (raw.s > P256_HALF_N) {
          sawHigh = true;
          expect(s).to.equal(P256_N - raw.s);
        } else {
          sawLow = true;
          expect(s).to.equal(raw.s);
        }
        // The normalised signature still verifies (and is the only one lowS accepts).
        const compact = getBytes(concat([toBeHex(r, 32), toBeHex(s, 32)]));
        expect(p256.verify(compact, msg, p256.getPublicKey(secret), { prehash: true, lowS: true })).to.be.true;
      }
      expect(sawHigh && sawLow, "64 signatures include both a high and a low s").to.be.true;
    });

    it("accepts hex and short r/s (leading zero bytes dropped)", function () {
      expect(derToRS(hexlify(der(1n, 2n)))).to.deep.equal({ r: 1n, s: 2n });
      expect(derToRS(der(0x80n, P256_N - 1n))).to.deep.equal({ r: 0x80n, s: 1n });
    });

    it("refuses malformed DER with invalid_der_signature", function () {
      const good = der(0x1234n, 0x5678n);
      const bad: [string, Uint8Array][] = [
        ["empty", new Uint8Array()],
        ["not a SEQUENCE", getBytes(concat(["0x31", good.subarray(1)]))],
        ["wrong SEQUENCE length", getBytes(concat(["0x3009", good.subarray(2)]))],
        ["trailing byte", getBytes(concat([new Uint8Array([0x30, good.length - 1]), good.subarray(2), "0x00"]))],
        ["truncated", good.subarray(0, good.length - 1)],
        ["not an INTEGER", getBytes(concat(["0x3008", "0x03021234", "0x02025678"]))],
        ["negative r", getBytes(concat(["0x3007", "0x020180", "0x02025678"]))],
        ["non-minimal r", getBytes(concat(["0x3008", "0x02020012", "0x02025678"]))],
        ["zero-length INTEGER", getBytes(concat(["0x3006", "0x0200", "0x02025678"]))],
        ["r = 0", getBytes(concat(["0x3007", "0x020100", "0x02025678"]))],
        ["s = n", der(1n, P256_N)],
        ["r too long", der((1n << 263n) + 1n, 1n)],
      ];
      for (const [name, b] of bad) expect(codeOf(() => derToRS(b)), name).to.equal("invalid_der_signature");
      expect(codeOf(() => derToRS("0x30zz"))).to.equal("invalid_der_signature");
    });
  });

  describe("publicKeyFromSpki", function () {
    it("reads qx, qy from a node:crypto P-256 SPKI", function () {
      const { publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
      const jwk = publicKey.export({ format: "jwk" });
      const { qx, qy } = publicKeyFromSpki(spki);
      expect(qx).to.equal(hexlify(base64UrlDecode(jwk.x ?? "")));
      expect(qy).to.equal(hexlify(base64UrlDecode(jwk.y ?? "")));
      expect(publicKeyFromSpki(hexlify(spki))).to.deep.equal({ qx, qy });
    });

    it("refuses other curves, compressed points, off-curve points and junk", function () {
      const p384 = new Uint8Array(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "der" }));
      const k1 = new Uint8Array(generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({ type: "spki", format: "der" }));
      const good = new Uint8Array(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" }));
      const offCurve = Uint8Array.from(good);
      offCurve[90] = (offCurve[90] ?? 0) ^ 1;
      const compressed = Uint8Array.from(good);
      compressed[26] = 0x02;
      for (const b of [p384, k1, offCurve, compressed, good.subarray(0, 90), new Uint8Array(91)]) {
        expect(codeOf(() => publicKeyFromSpki(b))).to.equal("invalid_public_key");
      }
    });
  });

  describe("encode / decode / verify", function () {
    const device = SoftwareDevice.generate();

    it("encodes the spec §1 layout and decodes it back", function () {
      const a = device.assert(CHALLENGE, { origin: "http://localhost:8787" });
      const sig = encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a });
      const b = getBytes(sig);
      const { r, s } = derToRS(a.signature);
      const suffix = '","origin":"http://localhost:8787","crossOrigin":false}';
      expect(hexlify(b.subarray(0, 32))).to.equal(device.publicKey.qx);
      expect(hexlify(b.subarray(32, 64))).to.equal(device.publicKey.qy);
      expect(BigInt(hexlify(b.subarray(64, 96)))).to.equal(r);
      expect(BigInt(hexlify(b.subarray(96, 128)))).to.equal(s);
      expect(((b[128] ?? 0) << 8) | (b[129] ?? 0)).to.equal(37);
      expect(hexlify(b.subarray(130, 167))).to.equal(hexlify(a.authenticatorData));
      expect(new TextDecoder().decode(b.subarray(167))).to.equal(suffix);
      expect(b.length).to.equal(167 + suffix.length);

      const d = decodePasskeySignature(sig);
      expect(d).to.deep.equal({ ...device.publicKey, r, s, authenticatorData: hexlify(a.authenticatorData), clientDataJSONSuffix: suffix, flags: { userPresent: true, userVerified: true } });
      // Bytes and text clientDataJSON encode alike.
      expect(encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a, clientDataJSON: toUtf8Bytes(a.clientDataJSON) })).to.equal(sig);
    });

    it("decodes the flags", function () {
      const off = decodePasskeySignature(device.sign(CHALLENGE, { userVerified: false }));
      expect(off.flags).to.deep.equal({ userPresent: true, userVerified: false });
      const a = device.assert(CHALLENGE);
      a.authenticatorData[32] = 0x04;
      expect(decodePasskeySignature(encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a })).flags).to.deep.equal({ userPresent: false, userVerified: true });
    });

    it("refuses a clientDataJSON over another challenge or of another type", function () {
      const a = device.assert(CHALLENGE);
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: OTHER, ...a }))).to.equal("webauthn_challenge_mismatch");
      const create = a.clientDataJSON.replace("webauthn.get", "webauthn.create");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a, clientDataJSON: create }))).to.equal("webauthn_challenge_mismatch");
      // The challenge text must be followed by the closing quote, not by more characters.
      const longer = a.clientDataJSON.replace(`${base64UrlEncode(CHALLENGE)}"`, `${base64UrlEncode(CHALLENGE)}A"`);
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a, clientDataJSON: longer }))).to.equal("webauthn_challenge_mismatch");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a, clientDataJSON: CLIENT_DATA_PREFIX }))).to.equal("webauthn_challenge_mismatch");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: "0x1234", ...a }))).to.equal("invalid_challenge");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: "not hex", ...a }))).to.equal("invalid_challenge");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, qx: "0x1234", challenge: CHALLENGE, ...a }))).to.equal("invalid_public_key");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a, authenticatorData: a.authenticatorData.subarray(0, 36) }))).to.equal("invalid_authenticator_data");
      expect(codeOf(() => encodePasskeySignature({ ...device.publicKey, challenge: CHALLENGE, ...a, signature: a.signature.subarray(1) }))).to.equal("invalid_der_signature");
    });

    it("refuses malformed signatures when decoding", function () {
      const sig = device.sign(CHALLENGE);
      const b = getBytes(sig);
      const withLen = (n: number) => {
        const c = Uint8Array.from(b);
        c[128] = n >> 8;
        c[129] = n & 0xff;
        return c;
      };
      const noQuote = Uint8Array.from(b);
      noQuote[167] = 0x41;
      const notUtf8 = getBytes(concat([b, "0xff"]));
      for (const [name, bad] of [
        ["too short", b.subarray(0, 167)],
        ["authenticatorData < 37", withLen(36)],
        ["authenticatorData past the end", withLen(b.length - 130)],
        ["suffix without opening quote", noQuote],
        ["suffix not UTF-8", notUtf8],
      ] as const) {
        expect(codeOf(() => decodePasskeySignature(bad)), name).to.equal("invalid_passkey_signature");
        expect(verifyPasskeySignature(CHALLENGE, bad), name).to.be.false;
      }
      expect(codeOf(() => decodePasskeySignature("0xnothex"))).to.equal("invalid_passkey_signature");
      expect(verifyPasskeySignature(CHALLENGE, "0xnothex")).to.be.false;
      expect(decodePasskeySignature(b.subarray(0, 168)).clientDataJSONSuffix).to.equal('"');
    });

    it("verifies a good signature and refuses tampered challenge, authData, suffix, key, s and UV off", function () {
      const sig = device.sign(CHALLENGE);
      expect(verifyPasskeySignature(CHALLENGE, sig)).to.be.true;
      expect(verifyPasskeySignature(OTHER, sig), "other challenge").to.be.false;
      expect(verifyPasskeySignature(CHALLENGE, tamper(sig, 140)), "authenticatorData").to.be.false;
      expect(verifyPasskeySignature(CHALLENGE, tamper(sig, 175)), "suffix").to.be.false;
      expect(verifyPasskeySignature(CHALLENGE, tamper(sig, 5)), "qx").to.be.false;
      expect(verifyPasskeySignature(CHALLENGE, tamper(sig, 70)), "r").to.be.false;
      expect(verifyPasskeySignature(CHALLENGE, device.sign(CHALLENGE, { userVerified: false })), "UV off").to.be.false;
      // Another device's key with this device's signature.
      const other = SoftwareDevice.generate();
      expect(verifyPasskeySignature(CHALLENGE, concat([other.publicKey.qx, other.publicKey.qy, getBytes(sig).subarray(64)])), "other key").to.be.false;
      // The high-s twin of a valid signature is refused (malleability), as on-chain.
      const d = decodePasskeySignature(sig);
      const high = concat([getBytes(sig).subarray(0, 96), toBeHex(P256_N - d.s, 32), getBytes(sig).subarray(128)]);
      expect(verifyPasskeySignature(CHALLENGE, high), "high s").to.be.false;
    });

    it("verifies an assertion whose UV flag was cleared after signing as invalid (the flag is signed)", function () {
      const sig = device.sign(CHALLENGE);
      expect(verifyPasskeySignature(CHALLENGE, tamper(sig, 130 + 32, 0x04))).to.be.false;
    });

    it("matches the WebAuthn signed message sha256(authenticatorData ‖ sha256(clientDataJSON))", function () {
      const a = device.assert(CHALLENGE);
      const msgHash = getBytes(sha256(concat([a.authenticatorData, sha256(toUtf8Bytes(a.clientDataJSON))])));
      const pub = getBytes(concat(["0x04", device.publicKey.qx, device.publicKey.qy]));
      expect(p256.verify(a.signature, msgHash, pub, { prehash: false, lowS: false, format: "der" })).to.be.true;
    });
  });
});
