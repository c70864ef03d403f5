/**
 * client/sdk/escrow against OrioleEscrow as `npm start` deploys it, on a real
 * `hardhat node`: the SDK's ABI, ids, nonces and digests equal the contract's;
 * an EOA and a passkey account (SoftwareDevice, ERC-1271) fund and release
 * escrows through relayed signed actions; disputes, offers and refunds settle
 * to the wei; replays, expired and wrongly signed actions are refused.
 */
import { expect } from "chai";
import hre from "hardhat";
import { encodeBytes32String, Interface, type Signer } from "ethers";
import { startDevnet, type Devnet } from "../helpers/devnet.ts";
import { ESCROW_ABI } from "../../client/sdk/escrow/abi.ts";
import {
  encodeExecuteSigned,
  encodeFundWithAuthorization,
  escrowAction,
  escrowDomain,
  escrowId,
  ESCROW_ACTION_TYPES,
  fundingAuthorization,
  fundingNonce,
  hashEscrowAction,
  splitAmount,
  type EscrowTerms,
  type SignedEscrowAction,
} from "../../client/sdk/escrow/actions.ts";
import { isEscrowNonceUsed, readEscrow, readTokenDomainName } from "../../client/sdk/escrow/state.ts";
import { passkeySignature } from "../../client/sdk/account/erc1271.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { CURRENCIES } from "../../client/sdk/currencies.ts";
import { isOrioleError } from "../../client/sdk/errors.ts";

const DAY = 86_400;

describe("escrow (contract + client/sdk/escrow on a hardhat node)", function () {
  let devnet: Devnet;
  let chainId: bigint;
  let signers: { admin: Signer; buyer: Signer; merchant: Signer; relayer: Signer; stranger: Signer };
  let addr: { admin: string; buyer: string; merchant: string; relayer: string; stranger: string };
  let escrowAddress: string;

  before(async function () {
    devnet = await startDevnet();
    const [admin, buyer, merchant, relayer, stranger] = await devnet.connection.ethers.getSigners();
    if (!admin || !buyer || !merchant || !relayer || !stranger) throw new Error("need 5 signers");
    signers = { admin, buyer, merchant, relayer, stranger };
    addr = { admin: admin.address, buyer: buyer.address, merchant: merchant.address, relayer: relayer.address, stranger: stranger.address };
    chainId = (await devnet.connection.ethers.provider.getNetwork()).chainId;
    escrowAddress = devnet.deployment.contracts.escrow;
    // the buyer and the merchant hold every currency (the merchant a little: steady state)
    for (const code of CURRENCIES) {
      const token = await devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens[code], admin);
      await (await token.mint(addr.buyer, 1_000_000_000n)).wait();
      await (await token.mint(addr.merchant, 1n)).wait();
    }
  });
  after(async function () {
    await devnet.stop();
  });

  const escrowAs = (s: Signer) => devnet.connection.ethers.getContractAt("OrioleEscrow", escrowAddress, s);
  const tokenAs = (code: (typeof CURRENCIES)[number], s: Signer) => devnet.connection.ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens[code], s);
  async function deadline(seconds = 3600): Promise<bigint> {
    const block = await devnet.connection.ethers.provider.getBlock("latest");
    if (!block) throw new Error("no block");
    return BigInt(block.timestamp + seconds);
  }
  async function signEoa(s: Signer, a: SignedEscrowAction): Promise<string> {
    return s.signTypedData(escrowDomain(chainId, escrowAddress), ESCROW_ACTION_TYPES, a);
  }

  it("is deployed with every currency allowed, the deployer as arbiter, and the SDK ABI matches the artifact", async function () {
    const escrow = await escrowAs(signers.admin);
    for (const code of CURRENCIES) expect(await escrow.isTokenAllowed(devnet.deployment.contracts.tokens[code]), code).to.be.true;
    expect(await escrow.hasRole(await escrow.ARBITER_ROLE(), addr.admin)).to.be.true;
    const artifact = new Interface((await hre.artifacts.readArtifact("OrioleEscrow")).abi);
    for (const f of new Interface(ESCROW_ABI).fragments) {
      if (f.type === "function" || f.type === "event") {
        const name = f.format("sighash");
        const match = f.type === "function" ? artifact.getFunction(name) : artifact.getEvent(name);
        expect(match?.format("full"), name).to.equal(f.format("full"));
      }
    }
  });

  it("an EOA funds with approve, the merchant ships, the buyer releases by a relayed signed action; replays, expiry and wrong signers are refused", async function () {
    const usd = devnet.deployment.contracts.tokens.USD;
    const terms: EscrowTerms = { token: usd, merchant: addr.merchant, amount: 42_500_000n, orderId: encodeBytes32String("eoa-1"), releaseTimeout: 14 * DAY, disputeWindow: 7 * DAY };
    const escrow = await escrowAs(signers.buyer);
    await (await (await tokenAs("USD", signers.buyer)).approve(escrowAddress, terms.amount)).wait();
    await (await escrow.fund(terms)).wait();
    const id = escrowId(addr.buyer, addr.merchant, usd, terms.orderId);
    expect(await escrow.escrowId(addr.buyer, addr.merchant, usd, terms.orderId)).to.equal(id);
    expect(await escrow.fundingNonce(addr.buyer, terms)).to.equal(fundingNonce(addr.buyer, terms));

    let state = await readEscrow(devnet.connection.ethers.provider, escrowAddress, id);
    expect(state).to.deep.include({ status: "funded", open: true, buyer: addr.buyer, merchant: addr.merchant, token: usd, amount: terms.amount, shippedAt: null, releasableAt: null, offer: null });
    expect(await readEscrow(devnet.connection.ethers.provider, escrowAddress, encodeBytes32String("nothing"))).to.equal(undefined);

    await (await (await escrowAs(signers.merchant)).markShipped(id)).wait();
    state = await readEscrow(devnet.connection.ethers.provider, escrowAddress, id);
    expect(state?.status).to.equal("shipped");
    if (state?.shippedAt == null) throw new Error("not shipped");
    expect(state.releasableAt).to.equal(state.shippedAt + BigInt(14 * DAY));
    expect(state.disputeClosesAt).to.equal(state.shippedAt + BigInt(7 * DAY));

    const relayer = await escrowAs(signers.relayer);
    const release = escrowAction({ signer: addr.buyer, action: "release", escrowId: id, nonce: 11n, deadline: await deadline() });
    expect(await relayer.hashSignedAction(release)).to.equal(hashEscrowAction(chainId, escrowAddress, release));
    const sig = await signEoa(signers.buyer, release);
    // wrong signer: the merchant signs the buyer's release
    await expect(relayer.executeSigned(release, await signEoa(signers.merchant, release))).to.be.revertedWithCustomError(relayer, "EscrowInvalidSignature");
    // tampered: the signature over another nonce
    await expect(relayer.executeSigned({ ...release, nonce: 12n }, sig)).to.be.revertedWithCustomError(relayer, "EscrowInvalidSignature");
    // expired
    const late = escrowAction({ signer: addr.buyer, action: "release", escrowId: id, nonce: 13n, deadline: (await deadline(0)) - 1n });
    await expect(relayer.executeSigned(late, await signEoa(signers.buyer, late))).to.be.revertedWithCustomError(relayer, "EscrowActionExpired");

    const merchantBefore = await (await tokenAs("USD", signers.admin)).balanceOf(addr.merchant);
    // relayed as raw calldata from the SDK encoder
    await (await signers.relayer.sendTransaction({ to: escrowAddress, data: encodeExecuteSigned(release, sig) })).wait();
    expect(await (await tokenAs("USD", signers.admin)).balanceOf(addr.merchant)).to.equal(merchantBefore + terms.amount);
    expect((await readEscrow(devnet.connection.ethers.provider, escrowAddress, id))?.status).to.equal("released");
    expect(await isEscrowNonceUsed(devnet.connection.ethers.provider, escrowAddress, addr.buyer, 11n)).to.be.true;
    expect(await isEscrowNonceUsed(devnet.connection.ethers.provider, escrowAddress, addr.buyer, 12n)).to.be.false;
    await expect(relayer.executeSigned(release, sig)).to.be.revertedWithCustomError(relayer, "EscrowNonceUsed");
  });

  it("a passkey account funds with an ERC-3009 authorization and releases by a signed action (ERC-1271), all relayed", async function () {
    const { ethers } = devnet.connection;
    const usd = devnet.deployment.contracts.tokens.USD;
    const factory = await ethers.getContractAt("PasskeyAccountFactory", devnet.deployment.contracts.accounts.factory, signers.relayer);
    const device = SoftwareDevice.generate();
    await (await factory.createAccount(device.publicKey.qx, device.publicKey.qy, 0n)).wait();
    const account = await factory.accountAddress(device.publicKey.qx, device.publicKey.qy, 0n);
    await (await (await tokenAs("USD", signers.admin)).mint(account, 30_000_000n)).wait();

    const terms: EscrowTerms = { token: usd, merchant: addr.merchant, amount: 30_000_000n, orderId: encodeBytes32String("passkey-1"), releaseTimeout: 3 * DAY, disputeWindow: DAY };
    const auth = fundingAuthorization({ chainId, tokenName: await readTokenDomainName(ethers.provider, usd), escrow: escrowAddress, buyer: account, terms, validAfter: 0n, validBefore: await deadline() });
    const fundSig = passkeySignature(device, chainId, account, auth.digest);
    // a relayer cannot name another merchant with the same signature
    const relayer = await escrowAs(signers.relayer);
    await expect(relayer.fundWithAuthorization({ ...terms, merchant: addr.stranger }, account, 0n, auth.message.validBefore, fundSig)).to.be.revertedWithCustomError(
      await tokenAs("USD", signers.admin),
      "StableTokenInvalidContractSignature",
    );
    await (await signers.relayer.sendTransaction({ to: escrowAddress, data: encodeFundWithAuthorization(terms, account, 0n, auth.message.validBefore, fundSig) })).wait();
    const id = escrowId(account, addr.merchant, usd, terms.orderId);
    const funded = await readEscrow(ethers.provider, escrowAddress, id);
    expect(funded).to.deep.include({ status: "funded", buyer: account, amount: terms.amount });
    expect(await (await tokenAs("USD", signers.admin)).balanceOf(account)).to.equal(0n);

    await (await (await escrowAs(signers.merchant)).markShipped(id)).wait();
    const release = escrowAction({ signer: account, action: "release", escrowId: id, nonce: 1n, deadline: await deadline() });
    const digest = hashEscrowAction(chainId, escrowAddress, release);
    // the device without user verification, and the bare digest, are refused
    await expect(relayer.executeSigned(release, passkeySignature(device, chainId, account, digest, { userVerified: false }))).to.be.revertedWithCustomError(relayer, "EscrowInvalidSignature");
    await expect(relayer.executeSigned(release, device.sign(digest))).to.be.revertedWithCustomError(relayer, "EscrowInvalidSignature");
    const merchantBefore = await (await tokenAs("USD", signers.admin)).balanceOf(addr.merchant);
    await (await relayer.executeSigned(release, passkeySignature(device, chainId, account, digest))).wait();
    expect(await (await tokenAs("USD", signers.admin)).balanceOf(addr.merchant)).to.equal(merchantBefore + terms.amount);
    expect((await readEscrow(ethers.provider, escrowAddress, id))?.status).to.equal("released");
  });

  it("in another currency: a partial refund, a dispute resolved by the arbiter's split, and an accepted settlement offer pay out to the wei", async function () {
    const eurAddress = devnet.deployment.contracts.tokens.EUR;
    const eur = await tokenAs("EUR", signers.admin);
    await (await (await tokenAs("EUR", signers.buyer)).approve(escrowAddress, 2n ** 256n - 1n)).wait();
    const buyer = await escrowAs(signers.buyer);
    const merchant = await escrowAs(signers.merchant);
    const t = (order: string): EscrowTerms => ({ token: eurAddress, merchant: addr.merchant, amount: 10_000_001n, orderId: encodeBytes32String(order), releaseTimeout: 2 * DAY, disputeWindow: DAY });
    const buyerStart = await eur.balanceOf(addr.buyer);
    const merchantStart = await eur.balanceOf(addr.merchant);

    // dispute: refund 1 unit, dispute, the arbiter gives the buyer 33.33 %
    await (await buyer.fund(t("dispute"))).wait();
    const d = escrowId(addr.buyer, addr.merchant, eurAddress, t("dispute").orderId);
    await (await merchant.refund(d, 1_000_000n)).wait();
    expect((await readEscrow(devnet.connection.ethers.provider, escrowAddress, d))?.amount).to.equal(9_000_001n);
    await (await buyer.openDispute(d)).wait();
    await expect((await escrowAs(signers.stranger)).resolveDispute(d, 3333n)).to.be.revertedWithCustomError(buyer, "AccessControlUnauthorizedAccount");
    const split = splitAmount(9_000_001n, 3333n);
    expect(await buyer.splitAmount(9_000_001n, 3333n)).to.deep.equal([split.buyerAmount, split.merchantAmount]);
    await (await (await escrowAs(signers.admin)).resolveDispute(d, 3333n)).wait();
    expect((await readEscrow(devnet.connection.ethers.provider, escrowAddress, d))?.status).to.equal("resolved");

    // settlement: the merchant offers a partial refund by signed action, the buyer accepts directly
    await (await buyer.fund(t("offer"))).wait();
    const o = escrowId(addr.buyer, addr.merchant, eurAddress, t("offer").orderId);
    const offer = escrowAction({ signer: addr.merchant, action: "offerSettlement", escrowId: o, buyerAmount: 4_000_000n, merchantAmount: 6_000_001n, nonce: 1n, deadline: await deadline() });
    await (await (await escrowAs(signers.relayer)).executeSigned(offer, await signEoa(signers.merchant, offer))).wait();
    expect((await readEscrow(devnet.connection.ethers.provider, escrowAddress, o))?.offer).to.deep.equal({ buyerAmount: 4_000_000n, merchantAmount: 6_000_001n, proposer: "merchant" });
    await expect(buyer.acceptSettlement(o, 4_000_001n, 6_000_000n)).to.be.revertedWithCustomError(buyer, "EscrowOfferMismatch");
    await (await buyer.acceptSettlement(o, 4_000_000n, 6_000_001n)).wait();
    expect((await readEscrow(devnet.connection.ethers.provider, escrowAddress, o))?.status).to.equal("settled");

    expect(await eur.balanceOf(addr.buyer)).to.equal(buyerStart - 2n * 10_000_001n + 1_000_000n + split.buyerAmount + 4_000_000n);
    expect(await eur.balanceOf(addr.merchant)).to.equal(merchantStart + split.merchantAmount + 6_000_001n);
    expect(await eur.balanceOf(escrowAddress)).to.equal(0n);
  });

  it("the SDK refuses malformed actions and splits before anything is signed", function () {
    const id = encodeBytes32String("x");
    const cases: (() => unknown)[] = [
      () => escrowAction({ signer: addr.buyer, action: "release", escrowId: id, buyerAmount: 1n, nonce: 0n, deadline: 1n }),
      () => escrowAction({ signer: addr.merchant, action: "refund", escrowId: id, nonce: 0n, deadline: 1n }),
      () => escrowAction({ signer: addr.merchant, action: "refund", escrowId: id, buyerAmount: 1n, merchantAmount: 1n, nonce: 0n, deadline: 1n }),
      () => escrowAction({ signer: addr.buyer, action: "offerSettlement", escrowId: id, buyerAmount: -1n, nonce: 0n, deadline: 1n }),
      () => escrowAction({ signer: addr.buyer, action: "openDispute", escrowId: "0x1234", nonce: 0n, deadline: 1n }),
    ];
    for (const c of cases) {
      const err = (() => {
        try {
          c();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(isOrioleError(err) && err.code, String(c)).to.equal("invalid_escrow_action");
    }
    expect(() => splitAmount(1n, 10_001n)).to.throw(/buyerBps/);
    expect(splitAmount(101n, 3333n)).to.deep.equal({ buyerAmount: 33n, merchantAmount: 68n });
    expect(escrowAction({ signer: addr.buyer, action: "acceptSettlement", escrowId: id.toUpperCase().replace("0X", "0x"), buyerAmount: 1n, merchantAmount: 2n, nonce: 3n, deadline: 4n }).action).to.equal(5);
  });
});
