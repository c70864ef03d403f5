import { hexlify, randomBytes } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { deployStableToken, allRoles } from "../deploy/stableToken.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { hashAccountCall, hashPaymentIntent, paymentIntentStruct, type PaymentIntent } from "../../client/sdk/account/intent.ts";
import { DEFAULT_LIMIT_RAISE_DELAY, DEFAULT_RECOVERY_DELAY } from "../ignition/modules/Oriole.ts";

/** Payments in the measured PaymentRelay batch (`gas.passkey.payment.batched`). */
export const PASSKEY_BATCH_SIZE = 20;
/** The relayer's fee per payment in the measurements (0.01 of a 6-decimal currency). */
const RELAYER_FEE = 10_000n;

export interface PasskeyGas {
  /** One relayed payment, steady state, called directly on the account (receipt gasUsed). */
  payment: number;
  /** Per payment in a PaymentRelay batch of PASSKEY_BATCH_SIZE accounts' steady-state payments. */
  batched: number;
  /** The first payment of a counterfactual account: PaymentRelay deploys it and pays. */
  deployAndPay: number;
}

/**
 * Gas of passkey payments with real WebAuthn assertions (SoftwareDevice: P-256,
 * authenticatorData and clientDataJSON as a browser makes them). Steady state:
 * the account is deployed and paid before (its nonce word is non-zero, today's
 * spending is recorded), it has a daily limit, the payee and the fee recipient
 * hold balances, and the relayer takes a non-zero fee.
 */
export async function benchPasskeyGas(connection: NetworkConnection<"l1">): Promise<PasskeyGas>;
/** Only the single steady-state payment (e.g. on a chain without the precompile). */
export async function benchPasskeyGas(connection: NetworkConnection<"l1">, opts: { paymentOnly: true }): Promise<Pick<PasskeyGas, "payment">>;
export async function benchPasskeyGas(connection: NetworkConnection<"l1">, opts?: { paymentOnly: true }): Promise<PasskeyGas | Pick<PasskeyGas, "payment">> {
  const { ethers } = connection;
  const [admin, relayerSigner, merchantSigner] = await ethers.getSigners();
  if (!admin || !relayerSigner || !merchantSigner) throw new Error("need 3 signers");
  const relayer = relayerSigner;
  const merchant = merchantSigner;
  const { chainId } = await ethers.provider.getNetwork();

  const stable = await deployStableToken(ethers, { name: "Oriole US Dollar", symbol: "oUSD", currency: "USD", roles: allRoles(admin.address) });
  const token = await stable.getAddress();
  const implementation = await ethers.deployContract("PasskeyAccount", [DEFAULT_LIMIT_RAISE_DELAY, DEFAULT_RECOVERY_DELAY]);
  const factory = await ethers.deployContract("PasskeyAccountFactory", [await implementation.getAddress()]);
  const relay = await ethers.deployContract("PaymentRelay", [await factory.getAddress()]);
  let adminNonce = await admin.getNonce("pending");
  const mints = [];
  for (const who of [merchant.address, relayer.address]) mints.push(await stable.mint(who, 1_000_000n, { nonce: adminNonce++ }));
  await Promise.all(mints.map((tx) => tx.wait()));

  const latest = await ethers.provider.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  const deadline = BigInt(latest.timestamp) + 86_400n;

  function intent(nonce: bigint): PaymentIntent {
    return { token, to: merchant.address, amount: 1_500_000n, reference: hexlify(randomBytes(32)), nonce, deadline, maxRelayerFee: RELAYER_FEE };
  }
  async function gasOf(sent: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
    const receipt = await (await sent).wait();
    if (!receipt) throw new Error("no receipt");
    return Number(receipt.gasUsed);
  }

  /** A deployed, funded account with a daily limit and one payment made (nonce 0). */
  async function steadyAccount(device: SoftwareDevice, salt: bigint): Promise<string> {
    const { qx, qy } = device.publicKey;
    await (await factory.createAccount(qx, qy, salt)).wait();
    const address = await factory.accountAddress(qx, qy, salt);
    await (await stable.mint(address, 1_000_000_000n)).wait();
    const account = await ethers.getContractAt("PasskeyAccount", address, relayer);
    const data = account.interface.encodeFunctionData("setDailyLimit", [token, 500_000_000n]);
    const call = { data, nonce: 1000n, deadline };
    await (await account.executeWithSig(data, call.nonce, deadline, device.sign(hashAccountCall(chainId, address, call)))).wait();
    const first = intent(0n);
    const sig = device.sign(hashPaymentIntent(chainId, address, first));
    await (await account.executePayment(paymentIntentStruct(first), RELAYER_FEE, relayer.address, sig)).wait();
    return address;
  }

  // single payment, called directly on the account
  const device = SoftwareDevice.generate();
  const address = await steadyAccount(device, 0n);
  const account = await ethers.getContractAt("PasskeyAccount", address, relayer);
  const second = intent(1n);
  const payment = await gasOf(
    account.executePayment(paymentIntentStruct(second), RELAYER_FEE, relayer.address, device.sign(hashPaymentIntent(chainId, address, second))),
  );

  if (opts?.paymentOnly) return { payment };

  // a batch of PASSKEY_BATCH_SIZE accounts' steady-state payments through PaymentRelay
  const items = [];
  for (let k = 0; k < PASSKEY_BATCH_SIZE; ++k) {
    const d = SoftwareDevice.generate();
    const a = await steadyAccount(d, 0n);
    const i = intent(1n);
    items.push({ account: a, intent: paymentIntentStruct(i), relayerFee: RELAYER_FEE, signature: d.sign(hashPaymentIntent(chainId, a, i)) });
  }
  const failures = await relay.connect(relayer).relay.staticCall([], items, relayer.address);
  if (failures !== 0n) throw new Error(`${failures.toString()} payments of the measured batch would fail`);
  const batchGas = await gasOf(relay.connect(relayer).relay([], items, relayer.address));

  // the first payment of a counterfactual account, funded before it exists
  const fresh = SoftwareDevice.generate();
  const predicted = await factory.accountAddress(fresh.publicKey.qx, fresh.publicKey.qy, 0n);
  await (await stable.mint(predicted, 1_000_000_000n)).wait();
  const first = intent(0n);
  const deployAndPay = await gasOf(
    relay.connect(relayer).relay(
      [{ qx: fresh.publicKey.qx, qy: fresh.publicKey.qy, salt: 0n }],
      [{ account: predicted, intent: paymentIntentStruct(first), relayerFee: RELAYER_FEE, signature: fresh.sign(hashPaymentIntent(chainId, predicted, first)) }],
      relayer.address,
    ),
  );
  if ((await ethers.provider.getCode(predicted)) === "0x") throw new Error("deployAndPay did not deploy the account");

  return { payment, batched: Math.round(batchGas / PASSKEY_BATCH_SIZE), deployAndPay };
}
