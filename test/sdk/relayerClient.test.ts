import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { keccak256, toUtf8Bytes } from "ethers";
import { OrioleError } from "../../client/sdk/errors.ts";
import { paymentIntentToJson, type PaymentIntent } from "../../client/sdk/account/intent.ts";
import { intentRecordSchema, intentRecordToJson, intentSubmissionSchema, intentSubmissionToJson, type IntentRecordJson } from "../../client/sdk/account/relayerApi.ts";
import { getIntent, nextNonce, submitIntent, waitForIntent } from "../../client/sdk/relayerClient.ts";

const ACCOUNT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ID = keccak256(toUtf8Bytes("intent"));
const TX = keccak256(toUtf8Bytes("tx"));
const INTENT: PaymentIntent = {
  token: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  amount: 12_500_000n,
  reference: keccak256(toUtf8Bytes("ref")),
  nonce: 3n,
  deadline: 1_900_000_000n,
  maxRelayerFee: 10_000n,
};
const RECORD: IntentRecordJson = { id: ID, status: "queued", txHash: null, account: ACCOUNT, nonce: "3", relayerFee: "10000" };

/**
 * A canned HTTP server: these tests are about the client's requests, parsing and
 * error mapping; the relayer itself is tested against a real chain elsewhere.
 */
describe("sdk/relayerClient", function () {
  let server: http.Server;
  let url: string;
  let replies: { status: number; body: unknown }[] = [];
  let requests: { method: string; path: string; body: string; contentType: string }[] = [];

  before(async function () {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        requests.push({ method: req.method ?? "", path: req.url ?? "", body, contentType: req.headers["content-type"] ?? "" });
        const reply = replies.length > 1 ? replies.shift()! : replies[0]!;
        res.writeHead(reply.status, { "content-type": "application/json" });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async function () {
    await new Promise((r) => server.close(r));
  });
  beforeEach(function () {
    requests = [];
  });

  async function errorOf(p: Promise<unknown>): Promise<OrioleError> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(OrioleError);
      return e as OrioleError;
    }
    expect.fail("no error");
  }

  it("round-trips the wire schemas", function () {
    const sub = { account: ACCOUNT, intent: INTENT, signature: "0xabcd", deployment: { qx: ID, qy: TX, salt: 0n } };
    expect(intentSubmissionSchema.parse(JSON.parse(JSON.stringify(intentSubmissionToJson(sub))))).to.deep.equal(sub);
    expect(intentSubmissionSchema.parse(intentSubmissionToJson({ ...sub, deployment: undefined }))).to.deep.equal({ account: ACCOUNT, intent: INTENT, signature: "0xabcd" });
    expect(intentSubmissionSchema.safeParse({ ...intentSubmissionToJson(sub), extra: 1 }).success).to.be.false;
    expect(intentSubmissionSchema.safeParse({ ...intentSubmissionToJson(sub), signature: "0xabc" }).success).to.be.false;
    const failed = { ...RECORD, status: "failed", txHash: TX, error: { code: "simulation_failed", message: "daily limit" } } as const;
    const parsed = intentRecordSchema.parse(failed);
    expect(parsed.nonce).to.equal(3n);
    expect(intentRecordToJson(parsed)).to.deep.equal(failed);
    expect(intentRecordSchema.parse({ ...RECORD, txHash: undefined, error: null })).to.deep.equal({ ...RECORD, nonce: 3n, relayerFee: 10_000n, error: undefined });
  });

  it("submits an intent as JSON and parses the 202 record", async function () {
    replies = [{ status: 202, body: RECORD }];
    const body = { account: ACCOUNT, intent: paymentIntentToJson(INTENT), signature: "0x1234", deployment: { qx: ID, qy: TX, salt: "0" } };
    const r = await submitIntent(url, body);
    expect(requests).to.have.length(1);
    expect(requests[0]).to.include({ method: "POST", path: "/v1/intents", contentType: "application/json" });
    expect(JSON.parse(requests[0]!.body)).to.deep.equal(body);
    expect(r).to.deep.equal({ ...RECORD, nonce: 3n, relayerFee: 10_000n });
    expect(r.error).to.be.undefined;
  });

  it("maps the relayer's 4xx errors to OrioleError codes and refuses odd responses", async function () {
    replies = [{ status: 409, body: { error: { code: "nonce_used", message: "nonce 3 is used" } } }];
    const e = await errorOf(submitIntent(url, { account: ACCOUNT, intent: paymentIntentToJson(INTENT), signature: "0x12" }));
    expect(e.code).to.equal("nonce_used");
    expect(e.message).to.equal("nonce 3 is used");
    expect(e.details.status).to.equal(409);
    replies = [{ status: 404, body: { error: { code: "intent_not_found", message: "no such intent" } } }];
    expect((await errorOf(getIntent(url, ID))).code).to.equal("intent_not_found");
    replies = [{ status: 200, body: { ...RECORD, status: "lost" } }];
    expect((await errorOf(getIntent(url, ID))).code).to.equal("invalid_response");
    replies = [{ status: 200, body: { ...RECORD, nonce: "-1" } }];
    expect((await errorOf(getIntent(url, ID))).code).to.equal("invalid_response");
    expect((await errorOf(getIntent(url, "0x12"))).code).to.equal("invalid_intent_id");
    expect((await errorOf(nextNonce(url, "0x12"))).code).to.equal("invalid_address");
    expect((await errorOf(getIntent("http://127.0.0.1:1", ID))).code).to.equal("node_unreachable");
  });

  it("submitting tries again after a transient 503 or 429 (the same body: an intent is idempotent), never after a refusal, at most twice", async function () {
    const body = { account: ACCOUNT, intent: paymentIntentToJson(INTENT), signature: "0x1234" };
    const unavailable = { status: 503, body: { error: { code: "chain_unavailable", message: "the chain could not be asked" } } };
    replies = [unavailable, { status: 429, body: { error: { code: "rate_limited", message: "slow down" } } }, { status: 202, body: RECORD }];
    expect(await submitIntent(url, body)).to.deep.equal({ ...RECORD, nonce: 3n, relayerFee: 10_000n });
    expect(requests.map((q) => [q.path, q.body])).to.deep.equal(Array(3).fill(["/v1/intents", JSON.stringify(body)]));
    // Three transient failures in a row: the third is the caller's.
    requests = [];
    replies = [unavailable, unavailable, unavailable, { status: 202, body: RECORD }];
    expect((await errorOf(submitIntent(url, body))).code).to.equal("chain_unavailable");
    expect(requests).to.have.length(3);
    // A refusal is final: one request.
    requests = [];
    replies = [{ status: 400, body: { error: { code: "invalid_signature", message: "no" } } }, { status: 202, body: RECORD }];
    expect((await errorOf(submitIntent(url, body))).code).to.equal("invalid_signature");
    expect(requests).to.have.length(1);
    // Reads are not retried (the caller polls).
    requests = [];
    replies = [unavailable, { status: 200, body: RECORD }];
    expect((await errorOf(getIntent(url, ID))).code).to.equal("chain_unavailable");
    expect(requests).to.have.length(1);
  });

  it("waits through queued and submitted until confirmed", async function () {
    replies = [
      { status: 200, body: RECORD },
      { status: 200, body: { ...RECORD, status: "submitted", txHash: TX } },
      { status: 200, body: { ...RECORD, status: "confirmed", txHash: TX } },
    ];
    const r = await waitForIntent(url, ID.toUpperCase().replace("0X", "0x"), { timeoutMs: 5_000, intervalMs: 10 });
    expect(r.status).to.equal("confirmed");
    expect(r.txHash).to.equal(TX);
    expect(requests.map((q) => q.path)).to.deep.equal(Array(3).fill(`/v1/intents/${ID}`));
  });

  it("returns a failed intent with its error, and times out on one that stays pending", async function () {
    replies = [{ status: 200, body: { ...RECORD, status: "failed", error: { code: "simulation_failed", message: "balance too low" } } }];
    const failed = await waitForIntent(url, ID, { intervalMs: 10 });
    expect(failed.error).to.deep.equal({ code: "simulation_failed", message: "balance too low" });
    replies = [{ status: 200, body: { ...RECORD, status: "submitted", txHash: TX } }];
    const started = Date.now();
    const e = await errorOf(waitForIntent(url, ID, { timeoutMs: 200, intervalMs: 20 }));
    expect(e.code).to.equal("intent_timeout");
    expect(e.details).to.include({ status: "submitted", txHash: TX });
    expect(Date.now() - started).to.be.within(150, 2_000);
    expect(requests.length).to.be.greaterThan(3);
  });

  it("reads the next nonce as bigint", async function () {
    replies = [{ status: 200, body: { nonce: "256" } }];
    expect(await nextNonce(url, ACCOUNT.toLowerCase())).to.equal(256n);
    expect(requests[0]?.path).to.equal(`/v1/accounts/${ACCOUNT}/next-nonce`);
  });
});
