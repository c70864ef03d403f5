import { Interface, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { deployStableToken, allRoles } from "../deploy/stableToken.ts";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { type OfflineCode, offlineCodeStruct, signOfflineCodeWithEoa, signOfflineCodeWithPasskey } from "../../client/sdk/offline/code.ts";
import { signReserveAuthorization } from "../../client/sdk/offline/payer.ts";
import { DEFAULT_LIMIT_RAISE_DELAY, DEFAULT_OFFLINE_MAX_VALIDITY, DEFAULT_OFFLINE_SETTLEMENT_WINDOW, DEFAULT_OFFLINE_WITHDRAWAL_DELAY, DEFAULT_RECOVERY_DELAY } from "../ignition/modules/Oriole.ts";
import type { Metrics } from "./results.ts";

/** Codes in a measured settle batch. */
export const OFFLINE_BATCH_SIZE = 100;
/** Payers behind each batch (5 codes each). */
export const OFFLINE_PAYERS = 20;

const factoryInterface = new Interface(["function createAccount(bytes32 qx, bytes32 qy, uint256 salt) returns (address)", "function accountAddress(bytes32 qx, bytes32 qy, uint256 salt) view returns (address)"]);

/**
 * Gas of OfflineVault.settle, per code (receipt gasUsed / OFFLINE_BATCH_SIZE), for
 * OFFLINE_BATCH_SIZE codes from OFFLINE_PAYERS payers to one merchant, one token:
 * - `gas.offline.perPayment`: EOA payers (ECDSA) in steady state: they paid this
 *   merchant offline before (their nonce word is non-zero), the merchant holds a balance;
 * - `gas.offline.perPayment.firstBatch`: the same payers' first codes to this merchant
 *   (20 nonce words written from zero);
 * - `gas.offline.perPayment.passkey`: passkey accounts (ERC-1271, WebAuthn with the
 *   P-256 precompile on osaka), steady state.
 */
export async function benchOfflineGas(connection: NetworkConnection<"l1">): Promise<Metrics> {
  const { ethers } = connection;
  const [admin, merchant] = await ethers.getSigners();
  if (!admin || !merchant) throw new Error("need 2 signers");
  const { chainId } = await ethers.provider.getNetwork();
  const stable = await deployStableToken(ethers, { name: "Oriole US Dollar", symbol: "oUSD", currency: "USD", roles: allRoles(admin.address) });
  const token = await stable.getAddress();
  const vaultContract = await ethers.deployContract("OfflineVault", [DEFAULT_OFFLINE_MAX_VALIDITY, DEFAULT_OFFLINE_SETTLEMENT_WINDOW, DEFAULT_OFFLINE_WITHDRAWAL_DELAY]);
  const vault = await vaultContract.getAddress();
  const latest = await ethers.provider.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  const now = BigInt(latest.timestamp);
  await (await stable.mint(merchant.address, 1n)).wait();

  const perPayer = OFFLINE_BATCH_SIZE / OFFLINE_PAYERS;
  async function settleGas(codes: readonly OfflineCode[]): Promise<number> {
    const tx = await vaultContract.connect(merchant).getFunction("settle")(codes.map(offlineCodeStruct));
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new Error("settle failed");
    return Number(receipt.gasUsed);
  }
  const payment = (payer: string, nonce: bigint) => ({ payer, merchant: merchant.address, token, amount: 1_500_000n + nonce, nonce, validAfter: now - 60n, validBefore: now + 3600n });

  // EOA payers: approve + reserve, then two batches.
  let nonce = await admin.getNonce("pending");
  const eoas = Array.from({ length: OFFLINE_PAYERS }, () => new Wallet(Wallet.createRandom().privateKey, ethers.provider));
  const setup = [];
  for (const p of eoas) {
    setup.push(await stable.mint(p.address, 100_000_000n, { nonce: nonce++ }));
    setup.push(await admin.sendTransaction({ to: p.address, value: 10n ** 17n, nonce: nonce++ }));
  }
  await Promise.all(setup.map((tx) => tx.wait()));
  for (const p of eoas) {
    await (await stable.connect(p).getFunction("approve")(vault, 100_000_000n)).wait();
    await (await vaultContract.connect(p).getFunction("reserve")(token, 100_000_000n)).wait();
  }
  // Nonces `base + k` of each payer: both batches use nonce word 0, as a phone's counter does for 256 codes.
  async function eoaBatch(base: bigint): Promise<OfflineCode[]> {
    const codes: OfflineCode[] = [];
    for (let k = 0n; k < BigInt(perPayer); k++) {
      for (const p of eoas) codes.push(await signOfflineCodeWithEoa(p, chainId, vault, payment(p.address, base + k)));
    }
    return codes;
  }
  const m: Metrics = {};
  const first = await settleGas(await eoaBatch(0n));
  m["gas.offline.perPayment.firstBatch"] = Math.round(first / OFFLINE_BATCH_SIZE);
  const steady = await settleGas(await eoaBatch(100n));
  m["gas.offline.batch.total"] = steady;
  m["gas.offline.perPayment"] = Math.round(steady / OFFLINE_BATCH_SIZE);

  // Passkey accounts: deployed, reserve by a signed ReceiveWithAuthorization, one batch to warm the nonce word.
  const implementation = await ethers.deployContract("PasskeyAccount", [DEFAULT_LIMIT_RAISE_DELAY, DEFAULT_RECOVERY_DELAY]);
  const factory = await ethers.deployContract("PasskeyAccountFactory", [await implementation.getAddress()]);
  const factoryAddress = await factory.getAddress();
  const devices = Array.from({ length: OFFLINE_PAYERS }, () => SoftwareDevice.generate());
  const accounts: string[] = [];
  for (const d of devices) {
    const account = factoryInterface.decodeFunctionResult("accountAddress", await ethers.provider.call({ to: factoryAddress, data: factoryInterface.encodeFunctionData("accountAddress", [d.publicKey.qx, d.publicKey.qy, 0n]) }))[0] as string;
    await (await admin.sendTransaction({ to: factoryAddress, data: factoryInterface.encodeFunctionData("createAccount", [d.publicKey.qx, d.publicKey.qy, 0n]) })).wait();
    await (await stable.mint(account, 100_000_000n)).wait();
    const auth = signReserveAuthorization({ device: d, chainId, account, vault, token, tokenName: "Oriole US Dollar", amount: 100_000_000n, validBefore: now + 3600n });
    await (await vaultContract.getFunction("reserveWithAuthorization")(auth.token, auth.from, auth.amount, auth.validAfter, auth.validBefore, auth.nonce, auth.signature)).wait();
    accounts.push(account);
  }
  const passkeyBatch = (base: bigint): OfflineCode[] => {
    const codes: OfflineCode[] = [];
    for (let k = 0n; k < BigInt(perPayer); k++) {
      devices.forEach((d, i) => codes.push(signOfflineCodeWithPasskey(d, chainId, vault, payment(accounts[i] ?? "", base + k))));
    }
    return codes;
  };
  await settleGas(passkeyBatch(0n));
  m["gas.offline.perPayment.passkey"] = Math.round((await settleGas(passkeyBatch(100n))) / OFFLINE_BATCH_SIZE);
  return m;
}
