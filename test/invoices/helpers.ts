import { expect } from "chai";
import type { SseClient } from "../helpers/notify.ts";
import type { NodeEvent } from "../../node/src/notify/events.ts";
import { getJson } from "../node/fixtures.ts";

export const ADMIN = "invoice-admin-token-0123456789";

/** An invoice as the API returns it (the fields the tests read). */
export interface InvoiceBody {
  id: string;
  merchantId: string;
  reference: string;
  uri: string;
  payee: string;
  currency: string;
  amount: string;
  description: string;
  orderId: string | null;
  expiresAt: string;
  status: string;
  amountReceived: string;
  excess: string;
  late: string;
  refundable: string;
  payments: { txHash: string; amount: string; late: boolean }[];
}

let keys = 0;

/** POST /v1/invoices with a fresh idempotency key; expects 201. */
export async function createInvoice(nodeUrl: string, apiKey: string, body: Record<string, unknown>): Promise<InvoiceBody> {
  const r = await getJson(`${nodeUrl}/v1/invoices`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "idempotency-key": `test-${process.pid.toString()}-${(++keys).toString()}-${Date.now().toString()}` },
    body: JSON.stringify(body),
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return r.body as InvoiceBody;
}

export async function getInvoice(nodeUrl: string, apiKey: string, id: string): Promise<InvoiceBody> {
  const r = await getJson(`${nodeUrl}/v1/invoices/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(r.status, JSON.stringify(r.body)).to.equal(200);
  return r.body as InvoiceBody;
}

/** Polls the invoice until `check` holds (the node indexes asynchronously). */
export async function waitForInvoice(nodeUrl: string, apiKey: string, id: string, check: (i: InvoiceBody) => boolean, timeoutMs = 10_000): Promise<InvoiceBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = await getInvoice(nodeUrl, apiKey, id);
    if (check(i)) return i;
    if (Date.now() > deadline) throw new Error(`invoice ${id} did not reach the expected state: ${JSON.stringify(i)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves with the first SSE message (after index `from`) that `match` accepts. */
export async function waitForMessage(stream: SseClient, match: (e: NodeEvent) => boolean, timeoutMs = 10_000, from = 0): Promise<{ event: NodeEvent; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let i = from; ; ) {
    while (i < stream.messages.length) {
      const m = stream.messages[i++];
      if (!m) continue;
      const e = JSON.parse(m.data) as NodeEvent;
      if (match(e)) return { event: e, at: performance.now() };
    }
    if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs.toString()} ms; got ${stream.messages.map((x) => x.event).join(", ")}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
