import { dataLength, getAddress, Interface, recoverAddress, type JsonRpcProvider } from "ethers";
import { predictAccountAddress } from "../../../client/sdk/account/accountAddress.ts";
import { replaySafeHash } from "../../../client/sdk/account/intent.ts";
import { decodePasskeySignature, verifyPasskeySignature } from "../../../client/sdk/account/webauthn.ts";
import { readTokenDomainName } from "../../../client/sdk/escrow/state.ts";
import { ApiError } from "../api/errors.ts";
import { relayInterface } from "./contracts.ts";
import type { AccountContracts } from "./validate.ts";

/**
 * Checks shared by the node's relayed calls for signing accounts (escrow
 * actions and fundings, offline reserves and withdrawals; their bodies go
 * through the API's parseBody): the signature (ECDSA off-chain for an EOA,
 * the account's ERC-1271 `isValidSignature` by eth_call for a contract, the
 * passkey assertion off-chain for a passkey account not deployed yet), the
 * chain's time, and the contracts' custom errors named in a refusal.
 *
 * A passkey account that was never deployed (a wallet whose first action is
 * an escrow funding or an offline reserve) sends its deployment {qx, qy, salt}
 * with the call, as with a payment intent: the relayer then sends the call
 * through PaymentRelay.deployAndCall, which deploys the account and makes the
 * call in ONE transaction. It is atomic (a call that reverts deploys nothing),
 * idempotent (the factory keeps an existing account, so two such calls racing
 * are both fine) and simulated as a whole before anything is sent.
 */

/** The latest block's timestamp (provider.send: ethers caches identical getBlock calls for 250 ms). */
export async function chainTime(provider: JsonRpcProvider): Promise<bigint> {
  const latest = (await provider.send("eth_getBlockByNumber", ["latest", false])) as { timestamp?: unknown } | null;
  if (typeof latest?.timestamp !== "string") throw new ApiError(503, "chain_unavailable", "the chain returned no latest block");
  return BigInt(latest.timestamp);
}

const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4 magic)"]);
const ERC1271_MAGIC = "0x1626ba7e";

/**
 * Checks `signature` is `signer`'s over `digest`, as OpenZeppelin's SignatureChecker does on-chain.
 * `code` is the signer's code when already read.
 * @throws ApiError 422 `invalid_signature`; 422 `account_not_deployed` for a contract signature from an address without code
 */
export async function checkSignature(provider: JsonRpcProvider, signer: string, digest: string, signature: string, code?: string): Promise<void> {
  code ??= await provider.getCode(signer);
  if (code === "0x") {
    if (dataLength(signature) !== 65) {
      throw new ApiError(422, "account_not_deployed", `${signer} has no code, and the signature is not an EOA's: send the passkey account's deployment {qx, qy, salt} with the call and the relayer deploys it`);
    }
    let recovered: string;
    try {
      recovered = recoverAddress(digest, signature);
    } catch {
      throw new ApiError(422, "invalid_signature", "the signature is not a valid ECDSA signature");
    }
    if (recovered !== getAddress(signer)) throw new ApiError(422, "invalid_signature", `signed by ${recovered}, not by ${signer}`);
    return;
  }
  let magic: string;
  try {
    const ret = (await provider.call({ to: signer, data: ERC1271.encodeFunctionData("isValidSignature", [digest, signature]) }));
    magic = ret.slice(0, 10);
  } catch {
    magic = "0x";
  }
  if (magic !== ERC1271_MAGIC) throw new ApiError(422, "invalid_signature", `the account ${signer} does not accept the signature (ERC-1271)`);
}

/** Counterfactual deployment parameters of a passkey account (the body's `deployment`). */
export interface AccountDeployment {
  qx: string;
  qy: string;
  salt: bigint;
}

/** What {@link signedCall} needs: the chain, and the account contracts (absent: undeployed accounts are refused). */
export interface SignedCallContext {
  provider: JsonRpcProvider;
  chainId: number;
  accounts?: AccountContracts | undefined;
}

/** A checked call as the relayer sends it: to `target` itself, or through PaymentRelay.deployAndCall. */
export interface SignedCall {
  to: string;
  data: string;
  /** Whether the transaction deploys the signer's account. */
  deploys: boolean;
}

/**
 * Checks `signature` is `signer`'s over `digest` and returns how to send the
 * call `data` to `target`. A signer with code (or an EOA) is checked by
 * {@link checkSignature} and called directly. A signer without code that sent
 * its `deployment`: the deployment must give its address, and the signature
 * must be a user-verified passkey assertion of the account's first device over
 * the account's ERC-1271 replay-safe hash of `digest` (what `isValidSignature`
 * will check once deployed); the call then goes through PaymentRelay.deployAndCall.
 * Nothing is deployed here: the caller simulates the returned call, and a
 * refused one sends nothing.
 * @throws ApiError 422 `deployment_mismatch`, `account_not_deployed`, `invalid_signature`
 */
export async function signedCall(ctx: SignedCallContext, p: { signer: string; digest: string; signature: string; deployment?: AccountDeployment | undefined; target: string; data: string }): Promise<SignedCall> {
  const { provider, chainId, accounts } = ctx;
  const d = p.deployment;
  if (d !== undefined && accounts !== undefined) {
    const predicted = predictAccountAddress({ factory: accounts.factory, implementation: accounts.implementation, qx: d.qx, qy: d.qy, salt: d.salt });
    if (predicted !== getAddress(p.signer)) throw new ApiError(422, "deployment_mismatch", `the deployment (qx, qy, salt) gives account ${predicted}, not ${p.signer}`);
  }
  const code = await provider.getCode(p.signer);
  if (code !== "0x" || d === undefined || accounts === undefined) {
    await checkSignature(provider, p.signer, p.digest, p.signature, code);
    return { to: p.target, data: p.data, deploys: false };
  }
  let key: { qx: string; qy: string; userVerified: boolean };
  try {
    const decoded = decodePasskeySignature(p.signature);
    key = { qx: decoded.qx.toLowerCase(), qy: decoded.qy.toLowerCase(), userVerified: decoded.flags.userVerified };
  } catch (e) {
    throw new ApiError(422, "invalid_signature", `the signature is not a passkey assertion: ${(e as Error).message}`);
  }
  if (!key.userVerified) throw new ApiError(422, "invalid_signature", "the passkey assertion has no user verification (UV flag): confirm with biometrics or the device PIN");
  if (key.qx !== d.qx.toLowerCase() || key.qy !== d.qy.toLowerCase()) throw new ApiError(422, "invalid_signature", `the signing key is not the first device of the account ${p.signer} (not deployed yet)`);
  if (!verifyPasskeySignature(replaySafeHash(chainId, p.signer, p.digest), p.signature)) {
    throw new ApiError(422, "invalid_signature", `the passkey signature does not verify for the account ${p.signer} on this chain`);
  }
  const data = relayInterface.encodeFunctionData("deployAndCall", [{ qx: d.qx, qy: d.qy, salt: d.salt }, p.target, p.data]);
  return { to: accounts.relay, data, deploys: true };
}

/** Each token's EIP-712 name (ERC-5267), read once per token: an authorization's domain needs it. */
export function tokenNames(provider: JsonRpcProvider): (token: string) => Promise<string> {
  const names = new Map<string, Promise<string>>();
  return (token) => {
    let name = names.get(token);
    if (name === undefined) {
      name = readTokenDomainName(provider, token);
      names.set(token, name);
      // A failed read is asked again next time.
      name.catch(() => names.delete(token));
    }
    return name;
  };
}

/** OrioleEscrow's custom errors. */
export const ESCROW_ERRORS = [
  "error EscrowTokenNotAllowed(address token)",
  "error EscrowInvalidMerchant(address merchant)",
  "error EscrowInvalidAmount(uint256 amount)",
  "error EscrowInvalidTimeouts(uint256 releaseTimeout, uint256 disputeWindow)",
  "error EscrowExists(bytes32 id)",
  "error EscrowNotFound(bytes32 id)",
  "error EscrowUnauthorized(bytes32 id, address caller)",
  "error EscrowWrongStatus(bytes32 id, uint8 status)",
  "error EscrowNotYetReleasable(bytes32 id, uint256 releasableAt, uint256 timestamp)",
  "error EscrowDisputeWindowClosed(bytes32 id, uint256 closedAt, uint256 timestamp)",
  "error EscrowInvalidRefund(bytes32 id, uint256 amount, uint256 held)",
  "error EscrowInvalidBps(uint256 buyerBps)",
  "error EscrowInvalidSplit(bytes32 id, uint256 buyerAmount, uint256 merchantAmount, uint256 held)",
  "error EscrowNoOffer(bytes32 id)",
  "error EscrowOfferMismatch(bytes32 id, uint256 buyerAmount, uint256 merchantAmount)",
  "error EscrowActionExpired(uint256 deadline, uint256 timestamp)",
  "error EscrowNonceUsed(address signer, uint256 nonce)",
  "error EscrowInvalidSignature(address signer)",
  "error EscrowInvalidActionParams(uint8 action)",
] as const;

/** Every custom error a relayed escrow or vault call can revert with: the contract's, the token's, OpenZeppelin's. */
const callErrors = new Interface([
  ...ESCROW_ERRORS,
  "error OfflineVaultInvalidAmount(uint256 amount)",
  "error OfflineVaultPayerDefaulted(address payer, address token, uint256 debt)",
  "error OfflineVaultNoWithdrawal(address payer, address token)",
  "error OfflineVaultWithdrawalLocked(uint256 unlockAt, uint256 timestamp)",
  "error OfflineVaultExpired(uint256 deadline, uint256 timestamp)",
  "error OfflineVaultInvalidSignature(address signer)",
  "error StableTokenAuthorizationNotYetValid(uint256 validAfter, uint256 timestamp)",
  "error StableTokenAuthorizationExpired(uint256 validBefore, uint256 timestamp)",
  "error StableTokenAuthorizationUsed(address authorizer, bytes32 nonce)",
  "error StableTokenCallerNotPayee(address caller, address payee)",
  "error StableTokenInvalidSigner(address recovered, address signer)",
  "error StableTokenInvalidContractSignature(address signer)",
  "error StableTokenAccountFrozen(address account)",
  "error StableTokenPaused()",
  "error StableTokenZeroAmount()",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ECDSAInvalidSignature()",
  "error ECDSAInvalidSignatureLength(uint256 length)",
  "error ECDSAInvalidSignatureS(bytes32 s)",
  "error SafeERC20FailedOperation(address token)",
  "error ReentrancyGuardReentrantCall()",
  "error PaymentRelayNoTarget(address target)",
  "error PasskeyAccountInvalidPublicKey(bytes32 qx, bytes32 qy)",
  "error FailedDeployment()",
]);

/** Revert data as `Name(arg, …)` (a known custom error, Error(string) or Panic), else its selector. */
export function revertName(data: string): string {
  try {
    const err = callErrors.parseError(data);
    if (err) return `${err.name}(${err.args.map((x: unknown) => String(x)).join(", ")})`;
  } catch {
    // fall through: unknown data keeps its selector
  }
  return `reverted with ${data.slice(0, 10)}`;
}
