import { Wallet, hexlify, randomBytes, type TypedDataDomain } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Metrics } from "./results.ts";
import { deployStableToken, allRoles } from "../deploy/stableToken.ts";
import { benchPasskeyGas } from "./passkeyGas.ts";
import { PAY_WITH_AUTHORIZATION_TYPES, PERMIT_TYPES, TRANSFER_WITH_AUTHORIZATION_TYPES } from "../../client/sdk/abi.ts";

/** Number of authorizations in the measured batch (`gas.batch.perPayment`). */
export const BATCH_SIZE = 100;

/**
 * Gas of StableToken's money paths (behind its ERC-1967 proxy, as deployed)
 * and, as a baseline compiled and deployed in the same run, of a plain
 * OpenZeppelin ERC20 transfer. Each measured transaction is the first to touch
 * its storage in its transaction (cold), like a real payment:
 * - `transfer`: the sender keeps a balance and the recipient already holds some;
 *   `transferNewRecipient`: the recipient's first receipt;
 * - `transferWithAuthorization`: ERC-3009, (v, r, s) form, relayed by a third account;
 * - `permit`: an owner's first EIP-2612 permit, to a spender with no allowance yet
 *   (the case USDC's 93,391 measures);
 * - `pay.withReference`: `pay(to, value, reference)` to a merchant without a fee who holds a balance;
 *   `pay.withReferenceAndFee`: the same to a merchant with a 1% fee (three balances change);
 * - `batch.perPayment`: `settlePayments` of BATCH_SIZE authorizations from distinct payers
 *   who have paid before (the second batch they sign), all to one merchant: total gas / BATCH_SIZE;
 * - `passkey.payment`: a relayed passkey payment in steady state, called on the account (see passkeyGas.ts);
 *   `passkey.payment.batched`: per payment in a PaymentRelay batch; `passkey.deployAndPay`: a
 *   counterfactual account's first payment, deployed by PaymentRelay in the same transaction.
 */
export async function benchGas(connection: NetworkConnection<"l1">): Promise<Metrics> {
  const { ethers } = connection;
  const [admin, alice, bob, carol, dave, relayer, merchant, feeMerchant] = await ethers.getSigners();
  if (!admin || !alice || !bob || !carol || !dave || !relayer || !merchant || !feeMerchant) throw new Error("need 8 signers");

  const stable = await deployStableToken(ethers, { name: "Oriole US Dollar", symbol: "oUSD", currency: "USD", roles: allRoles(admin.address) });
  const { chainId } = await ethers.provider.getNetwork();
  const domain: TypedDataDomain = { name: "Oriole US Dollar", version: "1", chainId, verifyingContract: await stable.getAddress() };
  for (const who of [alice, bob, dave, merchant, feeMerchant]) await (await stable.mint(who.address, 1_000_000_000n)).wait();
  await (await stable.setMerchantFee(feeMerchant.address, 100n)).wait();

  const oz = await ethers.deployContract("OZBaselineToken", [alice.address, 1_000_000_000n]);
  await (await oz.connect(alice).transfer(bob.address, 1n)).wait();

  async function gasOf(sent: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
    const receipt = await (await sent).wait();
    if (!receipt) throw new Error("no receipt");
    return Number(receipt.gasUsed);
  }
  const latest = await ethers.provider.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  const validBefore = BigInt(latest.timestamp) + 3600n;

  const m: Metrics = {};
  m["gas.token.transfer"] = await gasOf(stable.connect(alice).transfer(bob.address, 1_000_000n));
  m["gas.token.transferNewRecipient"] = await gasOf(stable.connect(alice).transfer(carol.address, 1_000_000n));
  m["gas.oz.transfer"] = await gasOf(oz.connect(alice).transfer(bob.address, 1_000_000n));
  m["gas.oz.transferNewRecipient"] = await gasOf(oz.connect(alice).transfer(carol.address, 1_000_000n));

  const twa = { from: alice.address, to: bob.address, value: 1_000_000n, validAfter: 0n, validBefore, nonce: hexlify(randomBytes(32)) };
  const twaSig = ethers.Signature.from(await alice.signTypedData(domain, TRANSFER_WITH_AUTHORIZATION_TYPES, twa));
  const transferWithAuthorization = stable.connect(relayer)["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"];
  m["gas.token.transferWithAuthorization"] = await gasOf(
    transferWithAuthorization(twa.from, twa.to, twa.value, twa.validAfter, twa.validBefore, twa.nonce, twaSig.v, twaSig.r, twaSig.s),
  );

  const permit = { owner: dave.address, spender: relayer.address, value: 5_000_000n, nonce: 0n, deadline: validBefore };
  const permitSig = ethers.Signature.from(await dave.signTypedData(domain, PERMIT_TYPES, permit));
  const permitVrs = stable.connect(relayer)["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"];
  m["gas.token.permit"] = await gasOf(permitVrs(permit.owner, permit.spender, permit.value, permit.deadline, permitSig.v, permitSig.r, permitSig.s));

  m["gas.pay.withReference"] = await gasOf(stable.connect(alice).pay(bob.address, 1_000_000n, hexlify(randomBytes(32))));
  m["gas.pay.withReferenceAndFee"] = await gasOf(stable.connect(alice).pay(feeMerchant.address, 1_000_000n, hexlify(randomBytes(32))));

  // Batch: BATCH_SIZE funded payers each pay once (nonce 0) in a first batch;
  // the measured batch is their second payment (nonce 1).
  const merchantAddress = merchant.address;
  const payers = Array.from({ length: BATCH_SIZE }, () => Wallet.createRandom());
  let nonce = await admin.getNonce("pending");
  const funding = [];
  for (const p of payers) funding.push(await stable.mint(p.address, 100_000_000n, { nonce: nonce++ }));
  await Promise.all(funding.map((tx) => tx.wait()));
  async function batch(paymentNonce: bigint) {
    return Promise.all(
      payers.map(async (p) => {
        const auth = { from: p.address, to: merchantAddress, value: 1_500_000n, reference: hexlify(randomBytes(32)), validAfter: 0n, validBefore, nonce: paymentNonce };
        const signature = await p.signTypedData(domain, PAY_WITH_AUTHORIZATION_TYPES, auth);
        return { from: auth.from, to: auth.to, value: auth.value, ref: auth.reference, validAfter: 0n, validBefore, nonce: paymentNonce, signature };
      }),
    );
  }
  await (await stable.connect(relayer).settlePayments(await batch(0n), true)).wait();
  const batchGas = await gasOf(stable.connect(relayer).settlePayments(await batch(1n), true));
  m["gas.batch.total"] = batchGas;
  m["gas.batch.perPayment"] = Math.round(batchGas / BATCH_SIZE);

  const passkey = await benchPasskeyGas(connection);
  m["gas.passkey.payment"] = passkey.payment;
  m["gas.passkey.payment.batched"] = passkey.batched;
  m["gas.passkey.deployAndPay"] = passkey.deployAndPay;

  const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
  m["gas.token.transferVsOz"] = ratio(m["gas.token.transfer"], m["gas.oz.transfer"]);
  m["gas.pay.withReferenceVsTransfer"] = ratio(m["gas.pay.withReference"], m["gas.token.transfer"]);
  return m;
}
