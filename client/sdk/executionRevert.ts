import { isError, type CallExceptionError } from "ethers";

/** What a node's own error message says when the execution failed (as opposed to the request). */
const EXECUTION_FAILURE = /revert|out of gas|gas required exceeds|invalid opcode|invalid jump|stack (?:underflow|overflow)/i;

/**
 * Whether `e` is a call that reverted (as opposed to an RPC that failed).
 *
 * ethers turns EVERY JSON-RPC error answer to eth_call / eth_estimateGas
 * into CALL_EXCEPTION, a rate limit (-32005) or "header not found" too.
 * Taken as a revert, such a hiccup refuses a valid operation for good. A
 * revert carries revert data ("0x" when it has no reason), or at least says
 * so in the node's message (geth omits the data of a reasonless revert);
 * anything else is the RPC failing, to be retried. Without the node's
 * message we cannot tell: a revert.
 */
export function isExecutionRevert(e: unknown): e is CallExceptionError {
  if (!isError(e, "CALL_EXCEPTION")) return false;
  if (typeof e.data === "string") return true;
  const inner: unknown = e.info?.error;
  if (typeof inner !== "object" || inner === null || !("message" in inner) || typeof inner.message !== "string") return true;
  return EXECUTION_FAILURE.test(inner.message);
}
