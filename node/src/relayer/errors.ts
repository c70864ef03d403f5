import { OrioleError } from "../../../client/sdk/errors.ts";

/**
 * The relayer's refusal codes and their HTTP status. Every refusal of an
 * intent is an OrioleError with one of these codes; the API maps it to
 * `{"error": {code, message}}` with this status.
 */
export const RELAYER_ERROR_STATUS = {
  invalid_request: 400,
  unsupported_token: 400,
  intent_expired: 400,
  fee_too_low: 400,
  invalid_signature: 400,
  user_verification_required: 400,
  unknown_device: 400,
  account_not_deployed: 400,
  deployment_mismatch: 400,
  nonce_used: 409,
  nonce_conflict: 409,
  simulation_failed: 422,
  intent_not_found: 404,
  // The node runs without a relayer key: a property of this node, not a fault.
  relayer_disabled: 403,
  // The chain's JSON-RPC failed while checking the intent: retry later.
  chain_unavailable: 503,
  // The relayer's broadcasts are refused for too little ETH for gas: nothing is queued until its operator funds it.
  relayer_unfunded: 503,
} as const satisfies Record<string, number>;

export type RelayerErrorCode = keyof typeof RELAYER_ERROR_STATUS;

export function relayerError(code: RelayerErrorCode, message: string, details: Record<string, unknown> = {}): OrioleError {
  return new OrioleError(code, message, details);
}

export function isRelayerErrorCode(code: string): code is RelayerErrorCode {
  return Object.hasOwn(RELAYER_ERROR_STATUS, code);
}
