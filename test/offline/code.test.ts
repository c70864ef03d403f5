import { expect } from "chai";
import { concat, getBytes, hexlify, keccak256, toBeHex, Wallet } from "ethers";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { base64UrlDecode, base64UrlEncode } from "../../client/sdk/account/webauthn.ts";
import { OrioleError } from "../../client/sdk/errors.ts";
import { decodeOfflineCode, encodeOfflineCode, type OfflineCode } from "../../client/sdk/offline/code.ts";
import { createOfflineCodeWithEoa, createOfflineCodeWithPasskey } from "../../client/sdk/offline/payer.ts";
import { verifyOfflineCode, type VerifyContext } from "../../client/sdk/offline/verifier.ts";
import type { PayerState, VaultSnapshot } from "../../client/sdk/offline/vault.ts";

const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const TOKEN = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const MERCHANT = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const NOW = 1_700_000_000n;
const payer = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

function codeError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof OrioleError) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error("no error");
}

function request(over: Partial<Parameters<typeof createOfflineCodeWithEoa>[1]> = {}) {
  return { chainId: 31337n, vault: VAULT, payer: payer.address, merchant: MERCHANT, token: TOKEN, amount: 5_000_000n, nonce: 3n, now: NOW, validFor: 900n, ...over };
}

function snapshot(payers: PayerState[], over: Partial<VaultSnapshot> = {}): VaultSnapshot {
  return { chainId: 31337n, vault: VAULT, params: { maxValidity: 86_400n, settlementWindow: 259_200n, withdrawalDelay: 604_800n }, syncedAt: NOW - 10n, blockNumber: 5, payers, ...over };
}

const eoaState = (over: Partial<PayerState> = {}): PayerState => ({ payer: payer.address, token: TOKEN, balance: 20_000_000n, debt: 0n, pendingWithdrawal: 0n, unlockAt: 0n, signer: { kind: "eoa" }, ...over });

function ctx(snap: VaultSnapshot, over: Partial<VerifyContext> = {}): VerifyContext {
  return { merchant: MERCHANT, tokens: [TOKEN], snapshot: snap, now: NOW, acceptedFromPayer: 0n, nonceSeen: false, ...over };
}

describe("offline codes: QR form and the offline verifier", function () {
  let code: OfflineCode;
  let text: string;

  before(async function () {
    code = await createOfflineCodeWithEoa(payer, request());
    text = encodeOfflineCode(code);
  });

  it("round-trips through oriole-offline:<base64url>", function () {
    expect(text.startsWith("oriole-offline:")).to.equal(true);
    expect(decodeOfflineCode(text)).to.deep.equal(code);
    expect(decodeOfflineCode(`  ORIOLE-OFFLINE:${text.slice(15)}\n`)).to.deep.equal(code);
    expect(text.length).to.equal(15 + Math.ceil(((1 + 8 + 80 + 16 + 24 + 2 + 65) * 4) / 3));
  });

  it("refuses malformed input with a clear error", function () {
    const bytes = base64UrlDecode(text.slice(15));
    const withBytes = (b: Uint8Array) => `oriole-offline:${base64UrlEncode(b)}`;
    const cases: [string, RegExp][] = [
      ["", /expected oriole-offline:/],
      ["ethereum:0xabc", /expected oriole-offline:/],
      ["oriole-offline:not base64!", /not base64url/],
      [`${text}=`, /not base64url/],
      [withBytes(bytes.subarray(0, 100)), /at least 131 needed/],
      [withBytes(bytes.subarray(0, bytes.length - 1)), /does not match/],
      [withBytes(getBytes(concat([bytes, "0x00"]))), /does not match/],
      [withBytes(getBytes(concat(["0x02", bytes.subarray(1)]))), /unknown format version 2/],
    ];
    for (const [input, message] of cases) expect(codeError(() => decodeOfflineCode(input))).to.match(new RegExp(`^invalid_offline_code: .*${message.source}`));
    // a field value that makes no sense
    const zeroAmount = Uint8Array.from(bytes);
    zeroAmount.fill(0, 1 + 8 + 80, 1 + 8 + 80 + 16);
    expect(codeError(() => decodeOfflineCode(withBytes(zeroAmount)))).to.match(/amount 0/);
    const backwards = Uint8Array.from(bytes);
    backwards.set(getBytes(toBeHex(1n, 8)), 1 + 8 + 80 + 16 + 8 + 8);
    expect(codeError(() => decodeOfflineCode(withBytes(backwards)))).to.match(/validBefore is not after validAfter/);
  });

  it("accepts a good EOA code and refuses every bad one, offline", async function () {
    const snap = snapshot([eoaState()]);
    const ok = verifyOfflineCode(code, ctx(snap));
    expect(ok.remaining).to.equal(15_000_000n);
    expect(ok.settleBy).to.equal(code.validBefore + 259_200n);
    // the oldest sync still trusted never cuts the window short (WITHDRAWAL_DELAY > MAX_VALIDITY + SETTLEMENT_WINDOW)
    expect(verifyOfflineCode(code, ctx(snapshot([eoaState()], { syncedAt: NOW - 3n * 86_400n }))).settleBy).to.equal(code.validBefore + 259_200n);
    const refusal = (c: OfflineCode, over: Partial<VerifyContext> = {}, s = snap) => codeError(() => verifyOfflineCode(c, ctx(s, over))).split(":")[0];
    expect(refusal({ ...code, chainId: 1n })).to.equal("offline_wrong_chain");
    expect(refusal({ ...code, vault: TOKEN })).to.equal("offline_wrong_vault");
    expect(refusal(code, { merchant: TOKEN })).to.equal("offline_wrong_merchant");
    expect(refusal(code, { tokens: [VAULT] })).to.equal("offline_unsupported_token");
    expect(refusal(code, { now: code.validAfter })).to.equal("offline_not_yet_valid");
    expect(refusal(code, { now: code.validBefore })).to.equal("offline_expired");
    const long = await createOfflineCodeWithEoa(payer, request({ validFor: 86_400n }));
    expect(refusal(long)).to.equal("offline_validity_too_long");
    expect(refusal(code, {}, snapshot([eoaState()], { syncedAt: NOW - 3n * 86_400n - 1n }))).to.equal("offline_stale_sync");
    expect(refusal(code, {}, snapshot([]))).to.equal("offline_unknown_payer");
    expect(refusal(code, {}, snapshot([eoaState({ debt: 1n })]))).to.equal("offline_payer_defaulted");
    expect(refusal(code, { nonceSeen: true })).to.equal("offline_nonce_seen");
    expect(refusal({ ...code, amount: code.amount + 1n })).to.equal("offline_bad_signature");
    expect(refusal({ ...code, signature: (await Wallet.createRandom().signMessage("x")) })).to.equal("offline_bad_signature");
    // high-s twin of a valid signature: ecrecover accepts it, the contract does not
    const sig = getBytes(code.signature);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(hexlify(sig.subarray(32, 64)));
    const twin = concat([sig.subarray(0, 32), toBeHex(n - s, 32), new Uint8Array([sig[64] === 27 ? 28 : 27])]);
    expect(refusal({ ...code, signature: twin })).to.equal("offline_bad_signature");
    // allowance: balance - debt - pending withdrawal - what this merchant already accepted
    expect(refusal(code, { acceptedFromPayer: 15_000_001n })).to.equal("offline_allowance_exceeded");
    expect(refusal(code, {}, snapshot([eoaState({ pendingWithdrawal: 15_000_001n })]))).to.equal("offline_allowance_exceeded");
    expect(verifyOfflineCode(code, ctx(snap, { acceptedFromPayer: 15_000_000n })).remaining).to.equal(0n);
  });

  it("checks a passkey account's code against the device keys as last synced", function () {
    const device = SoftwareDevice.generate();
    const account = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";
    const keyId = keccak256(concat([device.publicKey.qx, device.publicKey.qy]));
    const state = eoaState({ payer: account, signer: { kind: "passkey", deviceIds: [keyId] } });
    const c = createOfflineCodeWithPasskey(device, request({ payer: account }));
    expect(verifyOfflineCode(c, ctx(snapshot([state]))).remaining).to.equal(15_000_000n);
    const removed = snapshot([{ ...state, signer: { kind: "passkey", deviceIds: [] } }]);
    expect(codeError(() => verifyOfflineCode(c, ctx(removed)))).to.match(/^offline_bad_signature/);
    const other = createOfflineCodeWithPasskey(SoftwareDevice.generate(), request({ payer: account }));
    expect(codeError(() => verifyOfflineCode(other, ctx(snapshot([state]))))).to.match(/^offline_bad_signature/);
    const noUv = createOfflineCodeWithPasskey(device, request({ payer: account, nonce: 4n }), { userVerified: false });
    expect(codeError(() => verifyOfflineCode(noUv, ctx(snapshot([state]))))).to.match(/^offline_bad_signature/);
    // the same assertion presented for another account that shares the device key
    const elsewhere = { ...c, payer: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9" };
    expect(codeError(() => verifyOfflineCode(elsewhere, ctx(snapshot([{ ...state, payer: elsewhere.payer }]))))).to.match(/^offline_bad_signature/);
  });
});
