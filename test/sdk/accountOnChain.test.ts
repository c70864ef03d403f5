/**
 * The SDK against the real contracts, on both in-process chains (osaka has the
 * P-256 precompile, prague uses OpenZeppelin's Solidity fallback): the factory
 * deploys where predictAccountAddress says, the SDK's EIP-712 digests equal the
 * account's, and a SoftwareDevice's signature pays through executePayment.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getBytes, hexlify, keccak256, toBeHex, toUtf8Bytes, ZeroHash } from "ethers";
import OrioleModule from "../../scripts/ignition/modules/Oriole.ts";
import { predictAccountAddress } from "../../client/sdk/account/accountAddress.ts";
import { hashAccountCall, hashPaymentIntent, hashRecovery, type PaymentIntent, paymentIntentStruct, replaySafeHash } from "../../client/sdk/account/intent.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { decodePasskeySignature, P256_N, verifyPasskeySignature } from "../../client/sdk/account/webauthn.ts";

const DAY = 86_400n;
const ERC1271_MAGIC = "0x1626ba7e";

for (const chain of ["default", "prague"] as const) {
  describe(`sdk/account on-chain (${chain === "default" ? "osaka, P-256 precompile" : "prague, Solidity P-256"})`, function () {
    let connection: Awaited<ReturnType<typeof network.create>>;

    before(async function () {
      connection = await network.create({ network: chain, chainType: "l1" });
    });
    after(async function () {
      await connection.close();
    });

    async function setup() {
      const { ethers, ignition } = connection;
      const [deployer, relayer, merchant] = await ethers.getSigners();
      if (!deployer || !relayer || !merchant) throw new Error("need 3 signers");
      const implementation = await ethers.deployContract("PasskeyAccount", [DAY, 2n * DAY]);
      const factory = await ethers.deployContract("PasskeyAccountFactory", [await implementation.getAddress()]);
      const { StableToken_USD } = await ignition.deploy(OrioleModule, { displayUi: false });
      const token = await ethers.getContractAt("StableToken", await StableToken_USD.getAddress(), deployer);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      return { ethers, deployer, relayer, merchant, implementation, factory, token, chainId };
    }

    it("deploys the account where predictAccountAddress says", async function () {
      const { factory, implementation, ethers } = await setup();
      const device = SoftwareDevice.generate();
      const { qx, qy } = device.publicKey;
      const common = { factory: await factory.getAddress(), implementation: await implementation.getAddress(), qx, qy };
      for (const salt of [0n, 1n, (1n << 256n) - 1n]) {
        expect(await factory.accountAddress(qx, qy, salt), `salt ${salt.toString()}`).to.equal(predictAccountAddress({ ...common, salt }));
      }
      const predicted = predictAccountAddress({ ...common, salt: 7n });
      expect(await ethers.provider.getCode(predicted)).to.equal("0x");
      await (await factory.createAccount(qx, qy, 7n)).wait();
      expect(await ethers.provider.getCode(predicted)).to.not.equal("0x");
      const account = await ethers.getContractAt("PasskeyAccount", predicted);
      expect(await account.isDevice(qx, qy)).to.be.true;
    });

    it("hashes like the account and pays with a SoftwareDevice signature; UV off, tampering and replay are refused", async function () {
      const { factory, implementation, token, chainId, relayer, merchant, ethers } = await setup();
      const device = SoftwareDevice.generate();
      const { qx, qy } = device.publicKey;
      const address = predictAccountAddress({ factory: await factory.getAddress(), implementation: await implementation.getAddress(), qx, qy, salt: 0n });
      await (await token.mint(address, 100_000_000n)).wait();
      await (await factory.createAccount(qx, qy, 0n)).wait();
      const account = await ethers.getContractAt("PasskeyAccount", address, relayer);

      const latest = await ethers.provider.getBlock("latest");
      const intent: PaymentIntent = {
        token: await token.getAddress(),
        to: merchant.address,
        amount: 12_500_000n,
        reference: keccak256(toUtf8Bytes("invoice 42")),
        nonce: 5n,
        deadline: BigInt(latest?.timestamp ?? 0) + 600n,
        maxRelayerFee: 10_000n,
      };
      const hash = hashPaymentIntent(chainId, address, intent);
      expect(await account.hashPaymentIntent(paymentIntentStruct(intent))).to.equal(hash);

      const noUv = device.sign(hash, { userVerified: false });
      await expect(account.executePayment(paymentIntentStruct(intent), 10_000n, relayer.address, noUv)).to.be.revertedWithCustomError(account, "PasskeyAccountUserVerificationRequired");
      const good = device.sign(hash);
      expect(verifyPasskeySignature(hash, good)).to.be.true;
      await expect(account.executePayment(paymentIntentStruct({ ...intent, amount: intent.amount + 1n }), 10_000n, relayer.address, good)).to.be.revertedWithCustomError(account, "PasskeyAccountInvalidSignature");
      // The high-s twin of the good signature: the contract wants low s, like verifyPasskeySignature.
      const d = decodePasskeySignature(good);
      const highS = hexlify(new Uint8Array([...getBytes(good).subarray(0, 96), ...getBytes(toBeHex(P256_N - d.s, 32)), ...getBytes(good).subarray(128)]));
      await expect(account.executePayment(paymentIntentStruct(intent), 10_000n, relayer.address, highS)).to.be.revertedWithCustomError(account, "PasskeyAccountInvalidSignature");

      await (await account.executePayment(paymentIntentStruct(intent), 10_000n, relayer.address, good)).wait();
      expect(await token.balanceOf(merchant.address)).to.equal(intent.amount);
      expect(await token.balanceOf(relayer.address)).to.equal(10_000n);
      expect(await account.isNonceUsed(5n)).to.be.true;
      await expect(account.executePayment(paymentIntentStruct(intent), 10_000n, relayer.address, good)).to.be.revertedWithCustomError(account, "PasskeyAccountNonceUsed");
    });

    it("hashes account calls and ERC-1271 messages like the account, which accepts the device's signature", async function () {
      const { factory, implementation, chainId, ethers } = await setup();
      const device = SoftwareDevice.generate();
      const { qx, qy } = device.publicKey;
      const address = predictAccountAddress({ factory: await factory.getAddress(), implementation: await implementation.getAddress(), qx, qy, salt: 0n });
      await (await factory.createAccount(qx, qy, 0n)).wait();
      const account = await ethers.getContractAt("PasskeyAccount", address);

      const data = account.interface.encodeFunctionData("invalidateNonce", [9n]);
      expect(await account.hashAccountCall(data, 1n, 2n)).to.equal(hashAccountCall(chainId, address, { data, nonce: 1n, deadline: 2n }));
      // An owner call signed by the device runs through executeWithSig.
      const deadline = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0) + 600n;
      await (await account.executeWithSig(data, 1n, deadline, device.sign(hashAccountCall(chainId, address, { data, nonce: 1n, deadline })))).wait();
      expect(await account.isNonceUsed(9n)).to.be.true;

      const message = keccak256(toUtf8Bytes("permit"));
      const challenge = replaySafeHash(chainId, address, message);
      expect(await account.replaySafeHash(message)).to.equal(challenge);
      expect(await account.isValidSignature(message, device.sign(challenge))).to.equal(ERC1271_MAGIC);
      expect(await account.isValidSignature(message, device.sign(message))).to.not.equal(ERC1271_MAGIC);
      expect(await account.isValidSignature(ZeroHash, device.sign(challenge))).to.not.equal(ERC1271_MAGIC);
    });

    it("hashes a guardian's Recovery like the account: an EOA guardian's signature starts a recovery", async function () {
      const { factory, implementation, chainId, ethers } = await setup();
      const device = SoftwareDevice.generate();
      const { qx, qy } = device.publicKey;
      const address = predictAccountAddress({ factory: await factory.getAddress(), implementation: await implementation.getAddress(), qx, qy, salt: 0n });
      await (await factory.createAccount(qx, qy, 0n)).wait();
      const account = await ethers.getContractAt("PasskeyAccount", address);
      const guardian = ethers.Wallet.createRandom();
      const data = account.interface.encodeFunctionData("setGuardians", [[guardian.address], 1n]);
      const deadline = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0) + 600n;
      await (await account.executeWithSig(data, 0n, deadline, device.sign(hashAccountCall(chainId, address, { data, nonce: 0n, deadline })))).wait();

      const lost = SoftwareDevice.generate().publicKey;
      const digest = hashRecovery(chainId, address, { qx: lost.qx, qy: lost.qy, recoveryNonce: await account.recoveryNonce(), deadline });
      const sig = guardian.signingKey.sign(digest).serialized;
      await expect(account.startRecovery(lost.qx, lost.qy, deadline, [guardian.address], [sig])).to.emit(account, "RecoveryStarted");
      expect((await account.pendingRecovery())[0]).to.equal(lost.qx);
    });
  });
}
