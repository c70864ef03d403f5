import { accountDeployment, relayedCallGet, relayedCallResponses } from "../escrow/openapi.ts";
import { ref, units, error } from "../api/openapiParts.ts";

/** OpenAPI 3.1 paths and schemas of the offline vault's relayed calls (merged into /openapi.json). */

const bytes32 = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" };
const signature = { type: "string", pattern: "^0x([0-9a-fA-F]{2})+$", description: "65-byte ECDSA, or the payer account's ERC-1271 signature" };
const body = (name: string): Record<string, unknown> => ({ required: true, content: { "application/json": { schema: ref(name) } } });

export const offlinePaths: Record<string, unknown> = {
  "/v1/offline/reserves/{address}": {
    get: {
      operationId: "getOfflineReserves",
      summary: "A payer's OfflineVault reserve per currency, read from the vault, with its next withdrawal nonce and the chain's time: what a wallet without an RPC needs to sign a WithdrawalRequest",
      parameters: [{ name: "address", in: "path", required: true, schema: ref("Address") }],
      responses: {
        "200": { description: "The reserves", content: { "application/json": { schema: ref("OfflineReserves") } } },
        "400": error("invalid_address or unknown_parameter"),
      },
    },
  },
  "/v1/offline/reservations": {
    post: {
      operationId: "relayOfflineReserve",
      summary:
        "Relay a payer's ERC-3009 ReceiveWithAuthorization to the offline vault (reserveWithAuthorization): how a passkey account reserves an offline allowance. The node checks the body, the token, the nonce unused, validAfter < now < validBefore, the signature (ERC-1271 for an account), and simulates; the escrow relayer sends it (a payer account not deployed yet sends its deployment and is deployed by the same transaction). Id: the authorization's digest under the token's domain.",
      requestBody: body("OfflineReserve"),
      responses: relayedCallResponses({ "400": "invalid_amount", "409": "nonce_used: the authorization's nonce was used or canceled", "422": "authorization_expired, authorization_not_yet_valid" }),
    },
  },
  "/v1/offline/reservations/{id}": relayedCallGet("getOfflineReserve", "A relayed offline reserve's record", "reservation_not_found"),
  "/v1/offline/withdrawals": {
    post: {
      operationId: "relayOfflineWithdrawalRequest",
      summary:
        "Relay a payer's signed EIP-712 WithdrawalRequest(payer, token, amount, nonce, deadline) under the vault's domain (\"Oriole OfflineVault\" v1): requestWithdrawalWithSig. nonce is the vault's withdrawalNonce(payer); amount 0 cancels a pending request. The withdrawal can be completed after the vault's WITHDRAWAL_DELAY (POST /v1/offline/withdrawals/complete). Id: the request's digest.",
      requestBody: body("OfflineWithdrawalRequest"),
      responses: relayedCallResponses({ "400": "", "409": "nonce_used: a request with this nonce was relayed already (a replay)", "422": "invalid_nonce (not the vault's current withdrawalNonce), request_expired" }),
    },
  },
  "/v1/offline/withdrawals/complete": {
    post: {
      operationId: "completeOfflineWithdrawal",
      summary:
        "Complete a payer's unlocked withdrawal (the vault's withdraw(payer, token), which anyone may call: the tokens only go to the payer). Once completed, asking again returns the completion's record. Id: keccak256 of the withdrawal it completes.",
      requestBody: body("OfflineWithdrawalCompletion"),
      responses: relayedCallResponses({ "400": "", "409": "no_withdrawal: none pending, and none completed through this node", "422": "withdrawal_locked (before unlockAt), offline_payer_in_default" }),
    },
  },
  "/v1/offline/withdrawals/{id}": relayedCallGet("getOfflineWithdrawal", "A relayed withdrawal request's or completion's record", "withdrawal_not_found"),
};

export const offlineSchemas: Record<string, unknown> = {
  OfflineReserves: {
    type: "object",
    required: ["payer", "vault", "withdrawalNonce", "chainTime", "reserves"],
    properties: {
      payer: ref("Address"),
      vault: ref("Address"),
      withdrawalNonce: { ...units, description: "The nonce the payer's next signed WithdrawalRequest carries" },
      chainTime: { ...units, description: "The latest block's time, Unix seconds" },
      reserves: {
        type: "object",
        description: "Per currency code",
        additionalProperties: {
          type: "object",
          required: ["token", "balance", "debt", "pendingWithdrawal", "unlockAt"],
          properties: { token: ref("Address"), balance: units, debt: { ...units, description: "Owed for bounced codes; > 0: in default, no withdrawals" }, pendingWithdrawal: units, unlockAt: { ...units, description: "Unix seconds from which the pending withdrawal completes; 0: none" } },
        },
      },
    },
  },
  OfflineReserve: {
    type: "object",
    additionalProperties: false,
    required: ["from", "token", "amount", "validAfter", "validBefore", "nonce", "signature"],
    properties: { from: ref("Address"), token: ref("Address"), amount: units, validAfter: { ...units, description: "Unix seconds" }, validBefore: { ...units, description: "Unix seconds" }, nonce: bytes32, signature, deployment: accountDeployment },
  },
  OfflineWithdrawalRequest: {
    type: "object",
    additionalProperties: false,
    required: ["payer", "token", "amount", "nonce", "deadline", "signature"],
    properties: { payer: ref("Address"), token: ref("Address"), amount: units, nonce: { ...units, description: "The vault's withdrawalNonce(payer)" }, deadline: { ...units, description: "Unix seconds" }, signature, deployment: accountDeployment },
  },
  OfflineWithdrawalCompletion: {
    type: "object",
    additionalProperties: false,
    required: ["payer", "token"],
    properties: { payer: ref("Address"), token: ref("Address") },
  },
};
