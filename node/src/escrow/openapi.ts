import { ref, error, json, units } from "../api/openapiParts.ts";

/** OpenAPI 3.1 paths and schemas of the escrow endpoints (merged into /openapi.json). */

const bytes32 = { type: "string", pattern: "^0x[0-9a-f]{64}$" };
const idParam = { name: "id", in: "path", required: true, description: "The escrow id: keccak256(buyer, merchant, token, orderId)", schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } };

/** The optional `deployment` of a relayed call signed by a passkey account (shared with the offline vault's bodies). */
export const accountDeployment = {
  type: "object",
  additionalProperties: false,
  required: ["qx", "qy", "salt"],
  properties: { qx: bytes32, qy: bytes32, salt: units },
  description:
    "The signing passkey account's counterfactual deployment (first device key, factory salt). An account without code needs it: the node checks that it gives the account's address and that the signature is a user-verified assertion of that first device, then sends the call through PaymentRelay.deployAndCall, which deploys the account and makes the call in one transaction (a call that would revert deploys nothing). Ignored, but checked against the address, once the account is deployed.",
};

const callIdParam = { name: "id", in: "path", required: true, description: "The record's id (see RelayedCall.id)", schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } };

/** The answers every relayed-call POST shares (escrow fundings, offline reserves and withdrawals); `extra` adds its own. */
export function relayedCallResponses(extra: { "400": string; "409": string; "422": string }): Record<string, unknown> {
  return {
    "200": json("Mined (or the first record of this same authorization: nothing is sent twice)", ref("RelayedCall")),
    "202": json("Sent but not mined within the wait: GET the record until it is mined", ref("RelayedCall")),
    "400": error(`invalid_request, unknown_field, unsupported_token, unknown_parameter${extra["400"] === "" ? "" : `, ${extra["400"]}`}`),
    "403": error("relayer_disabled: the node has no relayer key"),
    "409": error(extra["409"]),
    "413": error("invalid_request: body over 16 kB"),
    "422": error(`invalid_signature (ECDSA off-chain, or the account's ERC-1271 isValidSignature by eth_call), account_not_deployed (a contract signature from an address without code, sent without its deployment), deployment_mismatch (the deployment gives another address), ${extra["422"]}, simulation_failed (the contract would revert; the message names its custom error), or transaction_reverted / dropped (the record failed on-chain; submitting again retries)`),
    "503": error("chain_unavailable: the chain could not be asked (retry)"),
  };
}

/** GET of one relayed-call record. */
export function relayedCallGet(operationId: string, summary: string, notFound: string): Record<string, unknown> {
  return { get: { operationId, summary, parameters: [callIdParam], responses: { "200": json("The record, brought up to date with the chain", ref("RelayedCall")), "400": error("invalid_call_id or unknown_parameter"), "404": error(notFound) } } };
}

export const escrowPaths: Record<string, unknown> = {
  "/v1/escrows/fundings": {
    post: {
      operationId: "relayEscrowFunding",
      summary:
        "Relay a buyer's ERC-3009 ReceiveWithAuthorization that funds an escrow (fundWithAuthorization): the way a passkey account funds. The authorization is to the escrow contract, value terms.amount, nonce fundingNonce(buyer, terms), under the token's EIP-712 domain; a passkey account signs it through ERC-1271 (its device asserts over the account's replaySafeHash of the digest). The node checks the body, the token, the nonce unused, validAfter < now < validBefore, the signature, and simulates; the escrow relayer sends it. A buyer account not deployed yet (a wallet's first action) sends its deployment and is deployed by the same transaction. The record's id is the authorization's digest: the same authorization again returns the first record.",
      requestBody: { required: true, content: { "application/json": { schema: ref("EscrowFunding") } } },
      responses: relayedCallResponses({ "400": "", "409": "nonce_used: the authorization's nonce was used or canceled (the escrow was funded by another authorization of the same terms)", "422": "authorization_expired, authorization_not_yet_valid" }),
    },
  },
  "/v1/escrows/fundings/{id}": relayedCallGet("getEscrowFunding", "A relayed escrow funding's record", "funding_not_found"),
  "/v1/escrows/actions": {
    post: {
      operationId: "relayEscrowAction",
      summary:
        "Relay a signed EscrowAction (EIP-712, domain \"Oriole Escrow\" v1 on the escrow contract): markShipped, release, refund (buyerAmount), openDispute, offerSettlement / acceptSettlement (both amounts). The node checks the body, the contract's amount rules, the deadline, the signature (ECDSA off-chain for an EOA signer; ERC-1271 by simulation for a contract), that the nonce is unused, and simulates executeSigned; then its escrow relayer (network.escrowRelayer) sends it and answers once it is mined.",
      requestBody: { required: true, content: { "application/json": { schema: ref("SignedEscrowAction") } } },
      responses: {
        "200": json("Mined", { type: "object", required: ["txHash", "blockNumber", "escrow"], properties: { txHash: bytes32, blockNumber: { type: "integer" }, escrow: { oneOf: [ref("Escrow"), { type: "null" }] } } }),
        "400": error("invalid_request, unknown_field, invalid_escrow_action or unknown_parameter"),
        "403": error("relayer_disabled: the node has no relayer key"),
        "409": error("nonce_used: this signed action (or its nonce) was already used: a replay"),
        "413": error("invalid_request: body over 16 kB"),
        "422": error("invalid_signature, action_expired, or simulation_failed (the contract would revert; the message names its error)"),
        "502": error("action_failed: the transaction reverted on-chain after a successful simulation"),
        "503": error("chain_unavailable: the chain could not simulate the action (retry)"),
      },
    },
  },
  "/v1/escrows/{id}": {
    get: {
      operationId: "getEscrow",
      summary: "One escrow's current state, read from the contract",
      parameters: [idParam],
      responses: { "200": json("The escrow", ref("Escrow")), "400": error("invalid_escrow_id or unknown_parameter"), "404": error("escrow_not_found") },
    },
  },
  "/v1/accounts/{address}/escrows": {
    get: {
      operationId: "listAccountEscrows",
      summary: "Escrows the account funded (buyer) or is paid by (merchant), newest funding first, with their current state",
      parameters: [
        { name: "address", in: "path", required: true, schema: ref("Address") },
        { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
        { name: "cursor", in: "query", required: false, description: "nextCursor of the previous page", schema: { type: "string" } },
      ],
      responses: {
        "200": json("A page of escrows", { type: "object", required: ["items", "nextCursor"], properties: { items: { type: "array", items: ref("AccountEscrow") }, nextCursor: { type: ["string", "null"] } } }),
        "400": error("invalid_address, invalid_limit, invalid_cursor or unknown_parameter"),
      },
    },
  },
};

export const escrowSchemas: Record<string, unknown> = {
  RelayedCall: {
    type: "object",
    required: ["id", "kind", "status", "account", "token", "amount", "txHash", "blockNumber", "error", "createdAt", "updatedAt"],
    properties: {
      id: { ...bytes32, description: "The signed authorization's or request's EIP-712 digest; a withdrawal completion: keccak256(abi.encode(\"OfflineWithdrawal\", chainId, vault, payer, token, unlockAt))" },
      kind: { type: "string", enum: ["escrow_funding", "offline_reserve", "offline_withdrawal_request", "offline_withdrawal"] },
      status: { type: "string", enum: ["submitted", "mined", "failed"] },
      account: { ...ref("Address"), description: "The buyer or payer" },
      token: ref("Address"),
      amount: { ...units, description: "What was authorized or requested (a completion: what was pending; the vault pays at most the reserve)" },
      escrowId: { ...bytes32, description: "escrow_funding only" },
      txHash: { oneOf: [bytes32, { type: "null" }] },
      blockNumber: { type: ["integer", "null"] },
      error: { oneOf: [{ type: "null" }, { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } }] },
      createdAt: { type: "integer", description: "Unix milliseconds" },
      updatedAt: { type: "integer", description: "Unix milliseconds" },
    },
  },
  EscrowFunding: {
    type: "object",
    additionalProperties: false,
    required: ["buyer", "terms", "validAfter", "validBefore", "signature"],
    properties: {
      buyer: ref("Address"),
      terms: {
        type: "object",
        additionalProperties: false,
        required: ["token", "merchant", "amount", "orderId", "releaseTimeout", "disputeWindow"],
        properties: { token: ref("Address"), merchant: ref("Address"), amount: units, orderId: bytes32, releaseTimeout: { type: "integer", minimum: 0 }, disputeWindow: { type: "integer", minimum: 0 } },
      },
      validAfter: { ...units, description: "Unix seconds" },
      validBefore: { ...units, description: "Unix seconds" },
      signature: { type: "string", pattern: "^0x([0-9a-fA-F]{2})+$", description: "65-byte ECDSA, or the buyer account's ERC-1271 signature" },
      deployment: accountDeployment,
    },
  },
  Escrow: {
    type: "object",
    required: ["id", "status", "open", "buyer", "merchant", "token", "currency", "amount", "releaseTimeout", "disputeWindow", "shippedAt", "releasableAt", "disputeClosesAt", "offer"],
    properties: {
      id: bytes32,
      status: { type: "string", enum: ["funded", "shipped", "disputed", "released", "refunded", "resolved", "settled"] },
      open: { type: "boolean", description: "funded, shipped or disputed: it still holds amount" },
      buyer: ref("Address"),
      merchant: ref("Address"),
      token: ref("Address"),
      currency: { oneOf: [ref("Currency"), { type: "null" }] },
      amount: { ...units, description: "What the escrow still holds (0 once final)" },
      releaseTimeout: { type: "integer", description: "Seconds after shipping from when anyone may release" },
      disputeWindow: { type: "integer", description: "Seconds after shipping during which either side may dispute" },
      shippedAt: { type: ["string", "null"], description: "Unix seconds" },
      releasableAt: { type: ["string", "null"], description: "Unix seconds" },
      disputeClosesAt: { type: ["string", "null"], description: "Unix seconds" },
      offer: {
        oneOf: [{ type: "null" }, { type: "object", required: ["buyerAmount", "merchantAmount", "proposer"], properties: { buyerAmount: units, merchantAmount: units, proposer: { type: "string", enum: ["buyer", "merchant"] } } }],
      },
    },
  },
  AccountEscrow: {
    type: "object",
    required: ["id", "roles", "orderId", "fundedAmount", "funded", "escrow"],
    properties: {
      id: bytes32,
      roles: { type: "array", items: { type: "string", enum: ["buyer", "merchant"] } },
      orderId: bytes32,
      fundedAmount: units,
      funded: { type: "object", required: ["txHash", "blockNumber", "logIndex"], properties: { txHash: bytes32, blockNumber: { type: "integer" }, logIndex: { type: "integer" } } },
      escrow: { oneOf: [ref("Escrow"), { type: "null" }] },
    },
  },
  SignedEscrowAction: {
    type: "object",
    additionalProperties: false,
    required: ["action", "signature"],
    properties: {
      action: {
        type: "object",
        additionalProperties: false,
        required: ["signer", "action", "escrowId", "nonce", "deadline"],
        properties: {
          signer: ref("Address"),
          action: { type: "string", enum: ["markShipped", "release", "refund", "openDispute", "offerSettlement", "acceptSettlement"], description: "Signed as its uint8 (the contract's Action enum, in this order)" },
          escrowId: bytes32,
          buyerAmount: { ...units, description: "refund, offerSettlement, acceptSettlement; else 0 or absent" },
          merchantAmount: { ...units, description: "offerSettlement, acceptSettlement; else 0 or absent" },
          nonce: units,
          deadline: { ...units, description: "Unix seconds" },
        },
      },
      signature: { type: "string", pattern: "^0x([0-9a-fA-F]{2})+$", description: "65-byte ECDSA, or the signer contract's ERC-1271 signature" },
    },
  },
};
