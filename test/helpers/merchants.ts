import { expect } from "chai";
import { getJson } from "../node/fixtures.ts";

/** A merchant made through the admin API: its id and its API key (shown once). */
export interface TestMerchant {
  id: string;
  apiKey: string;
}

/** POST /v1/merchants with the admin token; expects 201. */
export async function createMerchant(nodeUrl: string, adminToken: string, name: string, payout: string): Promise<TestMerchant> {
  const r = await getJson(`${nodeUrl}/v1/merchants`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ name, payout }) });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  const body = r.body as { merchant: { id: string }; apiKey: string };
  return { id: body.merchant.id, apiKey: body.apiKey };
}

/** PUT /v1/merchants/me/webhook; expects 200 and returns the signing secret (shown once). */
export async function setWebhook(nodeUrl: string, apiKey: string, url: string): Promise<string> {
  const r = await getJson(`${nodeUrl}/v1/merchants/me/webhook`, { method: "PUT", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ url }) });
  expect(r.status, JSON.stringify(r.body)).to.equal(200);
  return (r.body as { secret: string }).secret;
}
