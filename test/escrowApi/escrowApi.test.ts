import { expect } from "chai";
import { id, toQuantity, Wallet } from "ethers";
import { SoftwareDevice } from "../../client/sdk/account/softwareDevice.ts";
import { ESCROW_ACTION_TYPES, escrowAction, escrowDomain, escrowId, hashEscrowAction, type EscrowActionName, type EscrowTerms } from "../../client/sdk/escrow/actions.ts";
import { passkeySignature } from "../../client/sdk/account/erc1271.ts";
import { jsonRpcRequest } from "../../client/sdk/jsonRpc.ts";
import type { RunningNode } from "../../node/src/app.ts";
import { escrowRelayerKey, type AccountEscrow, type EscrowView } from "../../node/src/escrow/escrowService.ts";
import { startDevnet, startDevnetNode, type Devnet } from "../helpers/devnet.ts";
import { ACCOUNTS, getJson } from "../node/fixtures.ts";
import { fundedRelayerKey } from "../relayer/fixtures.ts";

const BUYER = ACCOUNTS[0];
const MERCHANT = ACCOUNTS[2];

interface ErrorBody {
  error: { code: string; message: string };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;

/**
 * The escrow node API against a real chain: state read from the contract,
 * an account's escrows from EscrowFunded logs (with a reorg depth small
 * enough that the cached and the fetched-again parts both serve), and
 * signed EscrowActions relayed after validation, with replays, expired,
 * wrongly signed and contract-refused actions turned away before any gas is spent.
 */
describe("escrow API: GET /v1/escrows/{id}, GET /v1/accounts/{a}/escrows, POST /v1/escrows/actions", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  let node: RunningNode;
  let escrowAddress: string;
  let relayerAddress: string;
  const ids: string[] = [];

  const call = (p: string, init: RequestInit = {}) => getJson(`${node.url}${p}`, init);
  const postAction = (body: unknown) => call("/v1/escrows/actions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const chainTime = async (): Promise<bigint> => BigInt(((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string }).timestamp);
  const terms = (order: string): EscrowTerms => ({ token: devnet.deployment.contracts.tokens.USD, merchant: MERCHANT, amount: 1_000_000n, orderId: id(order), releaseTimeout: 3600, disputeWindow: 1800 });

  /** A signed action as the API takes it (decimal strings). */
  const signed = async (p: { by: string; signer?: string; action: EscrowActionName; escrowId: string; nonce: bigint; deadline?: bigint; buyerAmount?: bigint }) => {
    const a = escrowAction({ signer: p.signer ?? p.by, action: p.action, escrowId: p.escrowId, nonce: p.nonce, deadline: p.deadline ?? (await chainTime()) + 3600n, ...(p.buyerAmount === undefined ? {} : { buyerAmount: p.buyerAmount }) });
    const signature = await (await devnet.connection.ethers.getSigner(p.by)).signTypedData(escrowDomain(31337, escrowAddress), ESCROW_ACTION_TYPES, a);
    return { action: { signer: a.signer, action: p.action, escrowId: a.escrowId, buyerAmount: a.buyerAmount.toString(), merchantAmount: a.merchantAmount.toString(), nonce: a.nonce.toString(), deadline: a.deadline.toString() }, signature };
  };

  before(async function () {
    devnet = await startDevnet({ fund: [BUYER] });
    escrowAddress = devnet.deployment.contracts.escrow;
    const relayerKey = await fundedRelayerKey(devnet.chain.rpcUrl);
    relayerAddress = new Wallet(escrowRelayerKey(relayerKey)).address;
    await jsonRpcRequest(devnet.chain.rpcUrl, "hardhat_setBalance", [relayerAddress, toQuantity(10n ** 20n)]);
    node = await startDevnetNode(devnet, { relayerKey, reorgDepth: 3, maxBlockRange: 4 });
    const { ethers } = devnet.connection;
    const buyer = await ethers.getSigner(BUYER);
    const usd = await ethers.getContractAt("StableToken", devnet.deployment.contracts.tokens.USD, buyer);
    await (await usd.approve(escrowAddress, 10n ** 12n)).wait();
    const escrow = await ethers.getContractAt("OrioleEscrow", escrowAddress, buyer);
    for (const order of ["order-1", "order-2", "order-3"]) {
      await (await escrow.getFunction("fund")(terms(order))).wait();
      ids.push(escrowId(BUYER, MERCHANT, devnet.deployment.contracts.tokens.USD, id(order)).toLowerCase());
      // Blocks in between: some fundings end up deeper than the reorg depth (cached), some not.
      for (let i = 0; i < 3; i++) await jsonRpcRequest(devnet.chain.rpcUrl, "evm_mine", []);
    }
  });

  after(async function () {
    await node.stop();
    await devnet.stop();
  });

  it("/v1/network shows the escrow contract and the escrow relayer", async function () {
    const { body } = await call("/v1/network");
    expect((body as { contracts: { escrow: string } }).contracts.escrow).to.equal(escrowAddress);
    expect((body as { escrowRelayer: { address: string } }).escrowRelayer.address).to.equal(relayerAddress);
  });

  it("serves one escrow's state from the contract; 404 for an unknown id, 400 for a malformed one", async function () {
    const r = await call(`/v1/escrows/${ids[0]!}`);
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.include({ id: ids[0], status: "funded", open: true, buyer: BUYER, merchant: MERCHANT, currency: "USD", amount: "1000000", releaseTimeout: 3600, disputeWindow: 1800, shippedAt: null, offer: null });
    const unknown = await call(`/v1/escrows/0x${"00".repeat(32)}`);
    expect([unknown.status, codeOf(unknown.body)]).to.deep.equal([404, "escrow_not_found"]);
    for (const bad of ["xyz", "0x12", `0x${"g".repeat(64)}`]) expect(codeOf((await call(`/v1/escrows/${bad}`)).body)).to.equal("invalid_escrow_id");
    expect((await call(`/v1/escrows/${ids[0]!}?x=1`)).status).to.equal(400);
  });

  it("lists an account's escrows as buyer or merchant, newest first, a page at a time (cached deep logs + the fresh tail)", async function () {
    for (const [account, role] of [
      [BUYER, "buyer"],
      [MERCHANT, "merchant"],
    ] as const) {
      const got: AccountEscrow[] = [];
      let cursor: string | null = null;
      do {
        const r = await call(`/v1/accounts/${account}/escrows?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`);
        expect(r.status, JSON.stringify(r.body)).to.equal(200);
        const page = r.body as { items: AccountEscrow[]; nextCursor: string | null };
        got.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(got.map((e) => e.id)).to.deep.equal([...ids].reverse());
      for (const e of got) {
        expect(e.roles).to.deep.equal([role]);
        expect(e.fundedAmount).to.equal("1000000");
        expect(e.escrow?.status).to.equal("funded");
      }
    }
    // Asked again (now from the cache): the same answer.
    const again = (await call(`/v1/accounts/${BUYER}/escrows`)).body as { items: AccountEscrow[] };
    expect(again.items.map((e) => e.id)).to.deep.equal([...ids].reverse());
    expect(((await call(`/v1/accounts/${ACCOUNTS[4]}/escrows`)).body as { items: unknown[] }).items).to.deep.equal([]);
    expect(codeOf((await call(`/v1/accounts/0x12/escrows`)).body)).to.equal("invalid_address");
    expect(codeOf((await call(`/v1/accounts/${BUYER}/escrows?cursor=zz`)).body)).to.equal("invalid_cursor");
    expect(codeOf((await call(`/v1/accounts/${BUYER}/escrows?limit=0`)).body)).to.equal("invalid_limit");
  });

  it("relays the merchant's signed markShipped and the buyer's signed release; a replay is 409 nonce_used", async function () {
    const ship = await signed({ by: MERCHANT, action: "markShipped", escrowId: ids[0]!, nonce: 1n });
    const r = await postAction(ship);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    const shipped = r.body as { txHash: string; escrow: EscrowView };
    expect(shipped.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(shipped.escrow.status).to.equal("shipped");
    expect(shipped.escrow.shippedAt).to.match(/^\d+$/);
    const replay = await postAction(ship);
    expect([replay.status, codeOf(replay.body)]).to.deep.equal([409, "nonce_used"]);
    const release = await postAction(await signed({ by: BUYER, action: "release", escrowId: ids[0]!, nonce: 1n }));
    expect(release.status, JSON.stringify(release.body)).to.equal(200);
    expect((release.body as { escrow: EscrowView }).escrow).to.include({ status: "released", open: false, amount: "0" });
    expect(((await call(`/v1/escrows/${ids[0]!}`)).body as EscrowView).status).to.equal("released");
  });

  it("refuses wrong signers, expired actions, actions the contract would refuse, and malformed bodies, spending no gas", async function () {
    const balance = async (): Promise<bigint> => BigInt((await jsonRpcRequest(devnet.chain.rpcUrl, "eth_getBalance", [relayerAddress, "latest"])) as string);
    const before = await balance();
    // The merchant signs an action naming the buyer as its signer.
    const forged = await postAction(await signed({ by: MERCHANT, signer: BUYER, action: "release", escrowId: ids[1]!, nonce: 2n }));
    expect([forged.status, codeOf(forged.body)]).to.deep.equal([422, "invalid_signature"]);
    const badSig = await signed({ by: BUYER, action: "release", escrowId: ids[1]!, nonce: 3n });
    expect(codeOf((await postAction({ ...badSig, signature: `0x${"11".repeat(65)}` })).body)).to.equal("invalid_signature");
    const expired = await postAction(await signed({ by: BUYER, action: "release", escrowId: ids[1]!, nonce: 4n, deadline: (await chainTime()) - 1n }));
    expect([expired.status, codeOf(expired.body)]).to.deep.equal([422, "action_expired"]);
    // Well signed, but the merchant may not release: the simulation says why.
    const wrongCaller = await postAction(await signed({ by: MERCHANT, action: "release", escrowId: ids[1]!, nonce: 5n }));
    expect([wrongCaller.status, codeOf(wrongCaller.body)]).to.deep.equal([422, "simulation_failed"]);
    expect((wrongCaller.body as ErrorBody).error.message).to.include("EscrowUnauthorized");
    const overRefund = await postAction(await signed({ by: MERCHANT, action: "refund", escrowId: ids[1]!, nonce: 6n, buyerAmount: 1_000_001n }));
    expect((overRefund.body as ErrorBody).error.message).to.include("EscrowInvalidRefund");
    const good = await signed({ by: BUYER, action: "release", escrowId: ids[1]!, nonce: 7n });
    const cases: [unknown, string][] = [
      [{}, "invalid_request"],
      [[], "invalid_request"],
      [{ ...good, extra: 1 }, "unknown_field"],
      [{ ...good, action: { ...good.action, action: "fly" } }, "invalid_request"],
      [{ ...good, action: { ...good.action, action: 1 } }, "invalid_request"],
      [{ ...good, action: { ...good.action, escrowId: "0x12" } }, "invalid_request"],
      [{ ...good, action: { ...good.action, nonce: "-1" } }, "invalid_request"],
      [{ ...good, action: { ...good.action, nonce: 7 } }, "invalid_request"],
      [{ ...good, action: { ...good.action, signer: "0x12" } }, "invalid_request"],
      [{ ...good, action: { ...good.action, buyerAmount: "5" } }, "invalid_escrow_action"],
      [{ ...good, signature: "0x1" }, "invalid_request"],
      [{ ...good, signature: 5 }, "invalid_request"],
    ];
    for (const [body, code] of cases) {
      const r = await postAction(body);
      expect([r.status, codeOf(r.body)], JSON.stringify(body).slice(0, 120)).to.deep.equal([400, code]);
    }
    const text = await call("/v1/escrows/actions", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify(good) });
    expect(codeOf(text.body)).to.equal("invalid_request");
    expect((await call("/v1/escrows/actions")).status).to.equal(405);
    expect(await balance()).to.equal(before);
    expect(((await call(`/v1/escrows/${ids[1]!}`)).body as EscrowView).status).to.equal("funded");
  });

  it("relays a passkey merchant's action (ERC-1271, checked by the simulation); a signature without user verification is refused", async function () {
    const { ethers } = devnet.connection;
    const [admin] = await ethers.getSigners();
    const factory = await ethers.getContractAt("PasskeyAccountFactory", devnet.deployment.contracts.accounts.factory, admin);
    const device = SoftwareDevice.generate();
    await (await factory.getFunction("createAccount")(device.publicKey.qx, device.publicKey.qy, 0n)).wait();
    const account = await factory.getFunction("accountAddress")(device.publicKey.qx, device.publicKey.qy, 0n);
    const escrow = await ethers.getContractAt("OrioleEscrow", escrowAddress, await ethers.getSigner(BUYER));
    const t = { ...terms("passkey-merchant"), merchant: account };
    await (await escrow.getFunction("fund")(t)).wait();
    const eid = escrowId(BUYER, account, t.token, t.orderId).toLowerCase();
    const ship = escrowAction({ signer: account, action: "markShipped", escrowId: eid, nonce: 1n, deadline: (await chainTime()) + 600n });
    const digest = hashEscrowAction(31337, escrowAddress, ship);
    const body = (signature: string) => ({ action: { signer: ship.signer, action: "markShipped", escrowId: eid, nonce: "1", deadline: ship.deadline.toString() }, signature });
    const noUv = await postAction(body(passkeySignature(device, 31337, account, digest, { userVerified: false })));
    expect([noUv.status, codeOf(noUv.body)]).to.deep.equal([422, "simulation_failed"]);
    expect((noUv.body as ErrorBody).error.message).to.include("EscrowInvalidSignature");
    const ok = await postAction(body(passkeySignature(device, 31337, account, digest)));
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    expect((ok.body as { escrow: EscrowView }).escrow).to.include({ status: "shipped", merchant: account });
    const listed = (await call(`/v1/accounts/${account}/escrows`)).body as { items: AccountEscrow[] };
    expect(listed.items.map((e) => [e.id, e.roles])).to.deep.equal([[eid, ["merchant"]]]);
  });

  it("a node without a relayer key serves escrows but answers actions with 403 relayer_disabled", async function () {
    const plain = await startDevnetNode(devnet);
    try {
      const r = await getJson(`${plain.url}/v1/escrows/actions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(await signed({ by: BUYER, action: "release", escrowId: ids[2]!, nonce: 9n })) });
      expect([r.status, codeOf(r.body)]).to.deep.equal([403, "relayer_disabled"]);
      expect(((await getJson(`${plain.url}/v1/escrows/${ids[2]!}`)).body as EscrowView).status).to.equal("funded");
      expect(((await getJson(`${plain.url}/v1/network`)).body as { escrowRelayer: unknown }).escrowRelayer).to.equal(null);
    } finally {
      await plain.stop();
    }
  });
});
