/**
 * Conformance: a standard wallet can sign for Oriole. The messages below are
 * signed with plain ethers `signTypedData`, with the type definitions copied
 * from EIP-2612 and EIP-3009 as published (no project helpers), and the
 * domain read from the token's ERC-5267 `eip712Domain()`; the deployed
 * StableToken (behind its proxy, deployed with the project's Ignition module)
 * must accept them.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Signature, Wallet, hexlify, randomBytes, type TypedDataDomain } from "ethers";
import OrioleModule from "../../scripts/ignition/modules/Oriole.ts";

// https://eips.ethereum.org/EIPS/eip-2612
const EIP2612_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

// https://eips.ethereum.org/EIPS/eip-3009
const EIP3009_TRANSFER_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
};
const EIP3009_RECEIVE_TYPES = {
  ReceiveWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
};
const EIP3009_CANCEL_TYPES = {
  CancelAuthorization: [
    { name: "authorizer", type: "address" },
    { name: "nonce", type: "bytes32" },
  ],
};

describe("conformance: EIP-2612 and EIP-3009 messages signed with plain ethers", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;

  before(async function () {
    connection = await network.create({ network: "default", chainType: "l1" });
  });
  after(async function () {
    await connection.close();
  });

  async function setup() {
    const { ethers, ignition } = connection;
    const [deployer, relayer] = await ethers.getSigners();
    if (!deployer || !relayer) throw new Error("need 2 signers");
    const { StableToken_CNY } = await ignition.deploy(OrioleModule, { displayUi: false });
    const token = await ethers.getContractAt("StableToken", await StableToken_CNY.getAddress(), deployer);
    // A fresh key, as a wallet app would hold it.
    const owner = Wallet.createRandom(ethers.provider);
    await (await token.mint(owner.address, 100_000_000n)).wait();
    const d = await token.eip712Domain();
    const domain: TypedDataDomain = { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
    const latest = await ethers.provider.getBlock("latest");
    const validBefore = BigInt(latest!.timestamp) + 3600n;
    return { ethers, token, owner, relayer, domain, validBefore };
  }

  it("publishes its domain through ERC-5267 eip712Domain()", async function () {
    const { token, domain } = await setup();
    expect(domain.name).to.equal("Oriole Renminbi");
    expect(domain.version).to.equal("1");
    expect(domain.chainId).to.equal(31337n);
    expect(domain.verifyingContract).to.equal(await token.getAddress());
    expect((await token.eip712Domain()).fields).to.equal("0x0f");
  });

  it("accepts an EIP-2612 permit", async function () {
    const { token, owner, relayer, domain, validBefore } = await setup();
    const message = { owner: owner.address, spender: relayer.address, value: 5_000_000n, nonce: await token.nonces(owner.address), deadline: validBefore };
    const sig = Signature.from(await owner.signTypedData(domain, EIP2612_TYPES, message));
    await (await token.connect(relayer)["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](message.owner, message.spender, message.value, message.deadline, sig.v, sig.r, sig.s)).wait();
    expect(await token.allowance(owner.address, relayer.address)).to.equal(5_000_000n);
    expect(await token.nonces(owner.address)).to.equal(1n);
  });

  it("accepts an EIP-3009 transferWithAuthorization, in both signature forms", async function () {
    const { token, owner, relayer, domain, validBefore } = await setup();
    const to = Wallet.createRandom().address;
    for (const form of ["vrs", "bytes"] as const) {
      const message = { from: owner.address, to, value: 1_000_000n, validAfter: 0n, validBefore, nonce: hexlify(randomBytes(32)) };
      const signature = await owner.signTypedData(domain, EIP3009_TRANSFER_TYPES, message);
      const args = [message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce] as const;
      if (form === "vrs") {
        const { v, r, s } = Signature.from(signature);
        await (await token.connect(relayer)["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](...args, v, r, s)).wait();
      } else {
        await (await token.connect(relayer)["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](...args, signature)).wait();
      }
      expect(await token.authorizationState(owner.address, message.nonce)).to.equal(true);
    }
    expect(await token.balanceOf(to)).to.equal(2_000_000n);
  });

  it("accepts an EIP-3009 receiveWithAuthorization submitted by the payee", async function () {
    const { token, owner, relayer, domain, validBefore } = await setup();
    const message = { from: owner.address, to: relayer.address, value: 1_000_000n, validAfter: 0n, validBefore, nonce: hexlify(randomBytes(32)) };
    const { v, r, s } = Signature.from(await owner.signTypedData(domain, EIP3009_RECEIVE_TYPES, message));
    await (await token.connect(relayer)["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, v, r, s)).wait();
    expect(await token.balanceOf(relayer.address)).to.equal(1_000_000n);
  });

  it("accepts an EIP-3009 cancelAuthorization, after which the authorization is refused", async function () {
    const { token, owner, relayer, domain, validBefore } = await setup();
    const nonce = hexlify(randomBytes(32));
    const { v, r, s } = Signature.from(await owner.signTypedData(domain, EIP3009_CANCEL_TYPES, { authorizer: owner.address, nonce }));
    await (await token.connect(relayer)["cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"](owner.address, nonce, v, r, s)).wait();
    expect(await token.authorizationState(owner.address, nonce)).to.equal(true);
    const message = { from: owner.address, to: relayer.address, value: 1n, validAfter: 0n, validBefore, nonce };
    const t = Signature.from(await owner.signTypedData(domain, EIP3009_TRANSFER_TYPES, message));
    await expect(
      token.connect(relayer)["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, t.v, t.r, t.s),
    ).to.be.revertedWithCustomError(token, "StableTokenAuthorizationUsed");
  });
});
