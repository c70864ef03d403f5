import { ErrorDescription, formatUnits, Interface } from "ethers";
import { STABLE_TOKEN_ABI } from "../../../client/sdk/abi.ts";

/**
 * The contract interfaces the relayer calls, and the decoding of their
 * reverts into stable codes and human messages.
 */

const INTENT_TUPLE = "(address token, address to, uint256 amount, bytes32 ref, uint256 nonce, uint256 deadline, uint256 maxRelayerFee)";

export const PASSKEY_ACCOUNT_RELAYER_ABI = [
  `function executePayment(${INTENT_TUPLE} intent, uint256 relayerFee, address feeRecipient, bytes signature)`,
  `function hashPaymentIntent(${INTENT_TUPLE} intent) view returns (bytes32)`,
  "function isDevice(bytes32 qx, bytes32 qy) view returns (bool)",
  "function isNonceUsed(uint256 nonce) view returns (bool)",
  "function nonceBitmap(uint256 wordPos) view returns (uint256)",
  "error PasskeyAccountInvalidPublicKey(bytes32 qx, bytes32 qy)",
  "error PasskeyAccountUnknownDevice(bytes32 keyId)",
  "error PasskeyAccountInvalidSignature(bytes32 keyId, bytes32 digest)",
  "error PasskeyAccountMalformedSignature(uint256 length)",
  "error PasskeyAccountExpired(uint256 deadline, uint256 timestamp)",
  "error PasskeyAccountNonceUsed(uint256 nonce)",
  "error PasskeyAccountRelayerFeeTooHigh(uint256 fee, uint256 maxFee)",
  "error PasskeyAccountPaymentFailed(address token, address to, uint256 amount)",
  "error PasskeyAccountDailyLimitExceeded(address token, uint256 requested, uint256 remaining)",
  "error PasskeyAccountUserVerificationRequired(uint8 flags)",
] as const;

export const ACCOUNT_FACTORY_ABI = [
  "function implementation() view returns (address)",
  "function accountAddress(bytes32 qx, bytes32 qy, uint256 salt) view returns (address)",
  "function createAccount(bytes32 qx, bytes32 qy, uint256 salt) returns (address)",
] as const;

export const PAYMENT_RELAY_ABI = [
  `function relay((bytes32 qx, bytes32 qy, uint256 salt)[] deployments, (address account, ${INTENT_TUPLE} intent, uint256 relayerFee, bytes signature)[] payments, address feeRecipient) returns (uint256 failures)`,
  "event RelayedPaymentFailed(uint256 indexed index, address indexed account, uint256 nonce, bytes reason)",
  "function deployAndCall((bytes32 qx, bytes32 qy, uint256 salt) deployment, address target, bytes data) returns (address account, bytes result)",
] as const;

export const accountInterface = new Interface(PASSKEY_ACCOUNT_RELAYER_ABI);
export const factoryInterface = new Interface(ACCOUNT_FACTORY_ABI);
export const relayInterface = new Interface(PAYMENT_RELAY_ABI);
export const tokenInterface = new Interface(STABLE_TOKEN_ABI);

/** Every custom error a relayed payment can revert with: the account's, the token's and OpenZeppelin's ERC-20 ones. */
const errorsInterface = new Interface([
  ...PASSKEY_ACCOUNT_RELAYER_ABI.filter((f) => f.startsWith("error ")),
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InvalidSender(address sender)",
  "error StableTokenAccountFrozen(address account)",
  "error StableTokenPaused()",
  "error StableTokenZeroAmount()",
  "error SafeERC20FailedOperation(address token)",
  "error FailedCall()",
  "error PaymentRelayNoAccount(address account)",
]);

/** A revert turned into a stable code and a sentence. */
export interface DecodedRevert {
  code: string;
  message: string;
}

const amount = (v: unknown): string => (typeof v === "bigint" ? `${formatUnits(v, 6)} (${v.toString()} base units)` : String(v));

/**
 * Decodes revert data (custom error, Error(string), Panic) into a code and
 * a message naming the offending values. Unknown data keeps its selector.
 */
export function decodeRevert(data: string | null | undefined): DecodedRevert {
  if (data === null || data === undefined || data === "0x" || data === "") {
    return { code: "reverted", message: "reverted without a reason (out of gas, or a contract without code?)" };
  }
  let e: ErrorDescription | null;
  try {
    e = errorsInterface.parseError(data);
  } catch {
    e = null;
  }
  if (!e) return { code: "reverted", message: `reverted with unknown error ${data.slice(0, 10)}` };
  const a = e.args;
  switch (e.name) {
    case "Error":
      return { code: "reverted", message: `reverted: ${String(a[0])}` };
    case "Panic":
      return { code: "reverted", message: `panicked with code ${String(a[0])}` };
    case "ERC20InsufficientBalance":
      return { code: "insufficient_balance", message: `insufficient balance: ${amount(a[1])} available, ${amount(a[2])} needed` };
    case "PasskeyAccountDailyLimitExceeded":
      return { code: "daily_limit_exceeded", message: `over the daily limit: ${amount(a[1])} requested, ${amount(a[2])} left today` };
    case "PasskeyAccountNonceUsed":
      return { code: "nonce_used", message: `nonce ${String(a[0])} is already used` };
    case "PasskeyAccountExpired":
      return { code: "intent_expired", message: `the intent expired (deadline ${String(a[0])}, block time ${String(a[1])})` };
    case "PasskeyAccountUnknownDevice":
      return { code: "unknown_device", message: "the signing device is not registered on the account" };
    case "PasskeyAccountUserVerificationRequired":
      return { code: "user_verification_required", message: "the passkey assertion has no user verification (UV flag)" };
    case "PaymentRelayNoAccount":
      return { code: "account_not_deployed", message: `account ${String(a[0])} has no code` };
    case "PasskeyAccountInvalidSignature":
    case "PasskeyAccountMalformedSignature":
      return { code: "invalid_signature", message: "the account refused the passkey signature" };
    case "PasskeyAccountRelayerFeeTooHigh":
      return { code: "fee_too_low", message: `relayer fee ${amount(a[0])} above the intent's max ${amount(a[1])}` };
    case "StableTokenAccountFrozen":
      return { code: "account_frozen", message: `account ${String(a[0])} is frozen by the token` };
    case "StableTokenPaused":
      return { code: "token_paused", message: "the token is paused" };
    case "StableTokenZeroAmount":
      return { code: "reverted", message: "the token refused a zero amount" };
    case "ERC20InvalidReceiver":
      return { code: "reverted", message: `the token refused receiver ${String(a[0])}` };
    default:
      return { code: "reverted", message: `reverted with ${e.name}(${a.map((x) => String(x)).join(", ")})` };
  }
}
