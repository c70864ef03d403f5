import { expect } from "chai";
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { OrioleError } from "../../client/sdk/errors.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { verifyPasskeySignature } from "../../client/sdk/account/webauthn.ts";
import {
  addressOfPrivateKey,
  createKeystore,
  devicePublicKeyOf,
  generatePrivateKey,
  keystoreSchema,
  parsePrivateKey,
  readKeystore,
  scryptNFromEnv,
  SCRYPT_DEFAULT_N,
  SCRYPT_MIN_N,
  unlockKeystore,
  writeKeystore,
  type Keystore,
} from "../../client/sdk/keystore.ts";

// Hardhat account #1: a well-known dev key, never used for anything real.
const DEV_KEY_HEX = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DEV_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PIN = "246810";
const N = SCRYPT_MIN_N; // fast; real keystores use SCRYPT_DEFAULT_N

async function expectOrioleError(p: Promise<unknown>, code: string): Promise<OrioleError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(OrioleError);
    expect((e as OrioleError).code).to.equal(code);
    return e as OrioleError;
  }
  expect.fail(`expected an OrioleError with code ${code}`);
}

describe("keystore", function () {
  let dir: string;
  let file: string;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "oriole-ks-"));
    file = path.join(dir, "wallet", "keystore.json");
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips a key through a file: create, write, read, unlock", async function () {
    const key = parsePrivateKey(`0x${DEV_KEY_HEX}`);
    const ks = await createKeystore({ privateKey: key, pin: PIN, n: N });
    expect(ks.address).to.equal(DEV_ADDRESS);
    expect(ks.keyType).to.equal("secp256k1");
    expect(ks.kind).to.equal("oriole-keystore");
    expect(ks.version).to.equal(1);
    await writeKeystore({ file, keystore: ks });
    const back = await readKeystore(file);
    expect(back).to.deep.equal(ks);
    const unlocked = await unlockKeystore({ keystore: back, pin: PIN });
    expect(Buffer.from(unlocked).toString("hex")).to.equal(DEV_KEY_HEX);
  });

  it("uses scrypt N=2^17, r=8, p=1 and fresh salt and IV by default", async function () {
    this.timeout(20_000);
    const key = generatePrivateKey();
    const a = await createKeystore({ privateKey: key, pin: PIN });
    const b = await createKeystore({ privateKey: key, pin: PIN });
    expect(a.kdf).to.include({ name: "scrypt", n: SCRYPT_DEFAULT_N, r: 8, p: 1, dkLen: 32 });
    expect(SCRYPT_DEFAULT_N).to.equal(2 ** 17);
    expect(a.kdf.salt).to.not.equal(b.kdf.salt);
    expect(a.cipher.iv).to.not.equal(b.cipher.iv);
    expect(a.cipher.ciphertext).to.not.equal(b.cipher.ciphertext);
    expect(addressOfPrivateKey(await unlockKeystore({ keystore: a, pin: PIN }))).to.equal(a.address);
  });

  it("normalises PINs (NFKC), so full-width digits unlock a PIN typed with ASCII digits", async function () {
    const ks = await createKeystore({ privateKey: generatePrivateKey(), pin: "123456", n: N });
    const key = await unlockKeystore({ keystore: ks, pin: "１２３４５６" });
    expect(addressOfPrivateKey(key)).to.equal(ks.address);
  });

  it("a wrong PIN fails with wrong_pin and changes nothing", async function () {
    const ks = await createKeystore({ privateKey: generatePrivateKey(), pin: PIN, n: N });
    await writeKeystore({ file, keystore: ks });
    const before = await readFile(file);
    await expectOrioleError(unlockKeystore({ keystore: await readKeystore(file), pin: "246811" }), "wrong_pin");
    expect(await readFile(file)).to.deep.equal(before);
  });

  it("tampering with the ciphertext, tag, IV or the clear address is detected", async function () {
    const ks = await createKeystore({ privateKey: parsePrivateKey(DEV_KEY_HEX), pin: PIN, n: N });
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    const variants: Keystore[] = [
      { ...ks, cipher: { ...ks.cipher, ciphertext: flip(ks.cipher.ciphertext) } },
      { ...ks, cipher: { ...ks.cipher, tag: flip(ks.cipher.tag) } },
      { ...ks, cipher: { ...ks.cipher, iv: flip(ks.cipher.iv) } },
      { ...ks, kdf: { ...ks.kdf, salt: flip(ks.kdf.salt) } },
      // Another valid checksummed address in clear: bound as GCM additional data.
      { ...ks, address: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" },
    ];
    for (const v of variants) {
      expect(keystoreSchema.safeParse(v).success).to.equal(true);
      await expectOrioleError(unlockKeystore({ keystore: v, pin: PIN }), "wrong_pin");
    }
  });

  it("writes the file with mode 0600 and never the key in clear", async function () {
    const key = parsePrivateKey(DEV_KEY_HEX);
    await writeKeystore({ file, keystore: await createKeystore({ privateKey: key, pin: PIN, n: N }) });
    const st = await stat(file);
    expect(st.mode & 0o777).to.equal(0o600);
    expect((await stat(path.dirname(file))).mode & 0o077).to.equal(0);
    const text = (await readFile(file, "utf8")).toLowerCase();
    expect(text).to.not.include(DEV_KEY_HEX);
    expect(text).to.not.include(Buffer.from(DEV_KEY_HEX, "hex").toString("base64").toLowerCase());
    expect(text).to.not.include(PIN);
    // No temp files are left behind.
    expect(await readdir(path.dirname(file))).to.deep.equal(["keystore.json"]);
  });

  it("refuses to overwrite an existing keystore unless forced", async function () {
    const first = await createKeystore({ privateKey: generatePrivateKey(), pin: PIN, n: N });
    const second = await createKeystore({ privateKey: generatePrivateKey(), pin: PIN, n: N });
    await writeKeystore({ file, keystore: first });
    const before = await readFile(file);
    await expectOrioleError(writeKeystore({ file, keystore: second }), "wallet_exists");
    expect(await readFile(file)).to.deep.equal(before);
    expect(await readdir(path.dirname(file))).to.deep.equal(["keystore.json"]);
    await writeKeystore({ file, keystore: second, force: true });
    const back = await readKeystore(file);
    expect(back.keyType === "secp256k1" ? back.address : "").to.equal(second.address);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
  });

  it("reports a missing file as no_wallet and a malformed one as invalid_keystore", async function () {
    await expectOrioleError(readKeystore(file), "no_wallet");
    const good = await createKeystore({ privateKey: generatePrivateKey(), pin: PIN, n: N });
    const bad: unknown[] = [
      "not json",
      {},
      { ...good, version: 2 },
      { ...good, keyType: "ed25519" },
      { ...good, address: good.address.toLowerCase() },
      { ...good, kdf: { ...good.kdf, n: 2 ** 9 } },
      { ...good, kdf: { ...good.kdf, n: 3000 } },
      { ...good, kdf: { ...good.kdf, n: 2 ** 24 } },
      { ...good, cipher: { ...good.cipher, name: "aes-128-cbc" } },
      { ...good, cipher: { ...good.cipher, ciphertext: "abcd" } },
    ];
    await writeFile(path.join(dir, "x.json"), "");
    for (const b of bad) {
      await writeFile(path.join(dir, "x.json"), typeof b === "string" ? b : JSON.stringify(b));
      await expectOrioleError(readKeystore(path.join(dir, "x.json")), "invalid_keystore");
    }
  });

  it("enforces the PIN length and rejects invalid private keys without echoing them", async function () {
    await expectOrioleError(createKeystore({ privateKey: generatePrivateKey(), pin: "12345", n: N }), "weak_pin");
    // Six characters counted as code points, not bytes.
    await createKeystore({ privateKey: generatePrivateKey(), pin: "六位数字密码", n: N });
    for (const bad of ["", "0x", "12", `0x${"0".repeat(64)}`, `0x${"f".repeat(64)}`, `${DEV_KEY_HEX}00`, `0x${DEV_KEY_HEX.slice(0, 63)}g`]) {
      try {
        parsePrivateKey(bad);
        expect.fail(`accepted ${bad}`);
      } catch (e) {
        expect((e as OrioleError).code).to.equal("invalid_private_key");
        if (bad.length > 10) expect((e as OrioleError).message).to.not.include(bad.slice(4, 20));
      }
    }
    expect(addressOfPrivateKey(parsePrivateKey(` 0X${DEV_KEY_HEX.toUpperCase()}\n`))).to.equal(DEV_ADDRESS);
  });

  describe("p256 (a passkey account's software device key)", function () {
    it("round-trips: the public key and account salt are in clear, the unlocked key signs for that public key", async function () {
      const key = generatePrivateKey("p256");
      const ks = await createKeystore({ privateKey: key, pin: PIN, n: N, keyType: "p256", accountSalt: 7n });
      expect(ks.keyType).to.equal("p256");
      expect(ks.publicKey).to.deep.equal(devicePublicKeyOf(key));
      expect(ks.accountSalt).to.equal("7");
      await writeKeystore({ file, keystore: ks });
      const back = await readKeystore(file);
      expect(back).to.deep.equal(ks);
      const unlocked = await unlockKeystore({ keystore: back, pin: PIN });
      const device = SoftwareDevice.fromPrivateKey(unlocked);
      expect(device.publicKey).to.deep.equal(ks.publicKey);
      const challenge = `0x${"ab".repeat(32)}`;
      expect(verifyPasskeySignature(challenge, device.sign(challenge))).to.equal(true);
      const text = (await readFile(file, "utf8")).toLowerCase();
      expect(text).to.not.include(Buffer.from(key).toString("hex"));
      expect(text).to.not.include(PIN);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
    });

    it("binds the public key and the account salt to the ciphertext: changing either fails like a wrong PIN", async function () {
      const ks = await createKeystore({ privateKey: generatePrivateKey("p256"), pin: PIN, n: N, keyType: "p256" });
      const other = devicePublicKeyOf(generatePrivateKey("p256"));
      const variants: Keystore[] = [
        { ...ks, publicKey: other },
        { ...ks, publicKey: { qx: ks.publicKey.qx, qy: other.qy } },
        { ...ks, accountSalt: "1" },
        { ...ks, keyType: "p256", cipher: { ...ks.cipher, tag: (ks.cipher.tag[0] === "0" ? "1" : "0") + ks.cipher.tag.slice(1) } },
      ];
      for (const v of variants) {
        expect(keystoreSchema.safeParse(v).success).to.equal(true);
        await expectOrioleError(unlockKeystore({ keystore: v, pin: PIN }), "wrong_pin");
      }
      await expectOrioleError(unlockKeystore({ keystore: ks, pin: "135790" }), "wrong_pin");
    });

    it("refuses malformed p256 keystores and out-of-range keys", async function () {
      const good = await createKeystore({ privateKey: generatePrivateKey("p256"), pin: PIN, n: N, keyType: "p256" });
      const bad: unknown[] = [
        { ...good, publicKey: { qx: good.publicKey.qx } },
        { ...good, publicKey: { ...good.publicKey, qx: good.publicKey.qx.toUpperCase() } },
        { ...good, publicKey: { ...good.publicKey, extra: "0x" } },
        { ...good, accountSalt: "-1" },
        { ...good, accountSalt: "01" },
        { ...good, accountSalt: 1 },
        { ...good, address: DEV_ADDRESS, keyType: "p256", publicKey: undefined },
      ];
      for (const b of bad) {
        await writeFile(path.join(dir, "x.json"), JSON.stringify(b));
        await expectOrioleError(readKeystore(path.join(dir, "x.json")), "invalid_keystore");
      }
      // The P-256 group order n: a valid secp256k1 key, but not a P-256 one.
      const p256n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
      expect(() => parsePrivateKey(p256n, "p256")).to.throw(OrioleError).with.property("code", "invalid_private_key");
      expect(parsePrivateKey(p256n, "secp256k1")).to.have.length(32);
    });
  });

  it("honours ORIOLE_SCRYPT_N only for powers of two from 2^10 to 2^20", function () {
    expect(scryptNFromEnv({})).to.equal(undefined);
    expect(scryptNFromEnv({ ORIOLE_SCRYPT_N: "" })).to.equal(undefined);
    expect(scryptNFromEnv({ ORIOLE_SCRYPT_N: "1024" })).to.equal(1024);
    for (const bad of ["512", "1", "1000", "abc", "-1024", String(2 ** 21)]) {
      expect(() => scryptNFromEnv({ ORIOLE_SCRYPT_N: bad }), bad).to.throw(OrioleError).with.property("code", "invalid_scrypt_n");
    }
  });
});
