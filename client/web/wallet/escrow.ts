import { isOrioleError } from "../../sdk/errors.ts";
import { listAccountEscrows, relayPasskeyEscrowAction, type AccountEscrow, type EscrowActionRequest, type EscrowView, type RelayedEscrowAction } from "../../sdk/escrow/escrowApi.ts";
import { el, shortAddress } from "./dom.ts";
import { dateTime, money, shortHash } from "./format.ts";
import { errorMessage, lang, t } from "./i18n.ts";
import type { WalletMessageId } from "./messages.ts";
import type { WalletNetwork } from "./network.ts";
import { walletSigner } from "./passkey.ts";
import type { StoredWallet } from "./storage.ts";

/**
 * The buyer's side of OrioleEscrow in the wallet: the account's escrows (from
 * the node), and what the buyer may do in each state, signed with the passkey
 * (ERC-1271 EscrowAction, the SDK's shared flow) and relayed by the node.
 */

export type BuyerAction = "release" | "openDispute" | "acceptSettlement";

/**
 * What the contract lets the buyer do now: release while the escrow is open;
 * open a dispute before shipping or within the dispute window after it;
 * accept a settlement the merchant offered.
 */
export function buyerActions(e: EscrowView, nowSec: bigint): BuyerAction[] {
  if (!e.open) return [];
  const out: BuyerAction[] = ["release"];
  if (e.status === "funded" || (e.status === "shipped" && e.disputeClosesAt !== null && nowSec < BigInt(e.disputeClosesAt))) out.push("openDispute");
  if (e.offer?.proposer === "merchant") out.push("acceptSettlement");
  return out;
}

const ACTION_LABEL: Readonly<Record<BuyerAction, WalletMessageId>> = { release: "escrow.release", openDispute: "escrow.dispute", acceptSettlement: "escrow.accept" };

/** The contract's custom errors the buyer can meet, explained (the node names them in simulation_failed). */
const CONTRACT_ERRORS: Readonly<Record<string, WalletMessageId>> = {
  EscrowWrongStatus: "escrow.error.wrongStatus",
  EscrowDisputeWindowClosed: "escrow.error.disputeWindowClosed",
  EscrowNoOffer: "escrow.error.offerChanged",
  EscrowOfferMismatch: "escrow.error.offerChanged",
  EscrowInvalidSignature: "escrow.error.signature",
  EscrowUnauthorized: "escrow.error.unauthorized",
  EscrowExists: "escrow.error.exists",
  EscrowInvalidMerchant: "escrow.error.merchant",
};

/** An escrow action's error in the page's language: the contract's reason when the node names it, else the code's message. */
export function escrowErrorMessage(e: unknown): string {
  if (isOrioleError(e) && e.code === "simulation_failed") {
    const name = /\b(Escrow[A-Za-z]+)\(/.exec(e.message)?.[1];
    const id = name === undefined ? undefined : CONTRACT_ERRORS[name];
    if (id !== undefined) return t(id);
  }
  return errorMessage(e);
}

/** Days (or hours, under two days) for the escrow's timeouts. */
export function duration(sec: number): string {
  return sec >= 2 * 86_400 ? t("escrow.days", { n: Math.floor(sec / 86_400) }) : t("escrow.hours", { n: Math.floor(sec / 3_600) });
}

type Note = { kind: "pending" } | { kind: "ok"; txHash: string } | { kind: "error"; error: unknown };

export interface EscrowSection {
  /**
   * Loads the account's escrows and shows them; errors go to the section's own error line.
   * `onlyIfChanged` (a live update): the cards are left alone when nothing changed, so a
   * button is not replaced under the user's finger by an unrelated payment.
   */
  refresh(opts?: { onlyIfChanged?: boolean }): Promise<void>;
}

/**
 * Mounts the escrow section into `list` (a <ul>), with `empty` (shown when
 * there is none) and `error` (a failed load). A node without an escrow
 * contract hides `section`.
 */
export function escrowSection(nodes: { section: HTMLElement; list: HTMLElement; empty: HTMLElement; error: HTMLElement }, net: WalletNetwork, getWallet: () => StoredWallet | undefined): EscrowSection {
  const escrowAddress = net.escrow;
  nodes.section.hidden = escrowAddress === null;
  /** The last action's outcome per escrow id, kept across re-renders (and shown in the current language). */
  const notes = new Map<string, Note>();
  let items: AccountEscrow[] = [];
  let busy = false;

  const noteText = (n: Note): string => (n.kind === "pending" ? t("escrow.working") : n.kind === "ok" ? t("escrow.done", { tx: shortHash(n.txHash) }) : escrowErrorMessage(n.error));

  const render = (): void => {
    const me = getWallet();
    nodes.empty.hidden = items.length > 0;
    nodes.list.hidden = items.length === 0;
    const now = BigInt(Math.floor(Date.now() / 1000));
    nodes.list.replaceChildren(
      ...items.map((item) => {
        const e = item.escrow;
        const li = el("li", { className: "escrow" });
        li.dataset.escrowId = item.id;
        li.dataset.status = e?.status ?? "none";
        const currency = e?.currency ?? "";
        const amount = e === null ? item.fundedAmount : e.open ? e.amount : item.fundedAmount;
        const head = el("div", { className: "escrow-head" }, el("span", { className: "amount", text: `${money(BigInt(amount))} ${currency}`.trim() }), el("span", { className: "pill", text: e === null ? "—" : t(`escrow.status.${e.status}`) }));
        li.append(head);
        const line = (text: string, cls = "muted small-text"): void => {
          li.append(el("span", { className: cls, text }));
        };
        if (e !== null) {
          line(t("escrow.merchant", { merchant: shortAddress(e.merchant) }));
          line(t("escrow.order", { order: shortHash(item.orderId) }));
          if (e.open && e.shippedAt === null) line(t("escrow.terms", { dispute: duration(e.disputeWindow), release: duration(e.releaseTimeout) }));
          if (e.status === "shipped" && e.disputeClosesAt !== null) line(t("escrow.disputeUntil", { time: dateTime(Number(e.disputeClosesAt) * 1000, lang()) }), "muted small-text deadline");
          if (e.status === "shipped" && e.releasableAt !== null) line(t("escrow.releasableAt", { time: dateTime(Number(e.releasableAt) * 1000, lang()) }), "muted small-text deadline");
          if (e.open && e.offer !== null) {
            const offer = { buyer: `${money(BigInt(e.offer.buyerAmount))} ${currency}`, merchant: `${money(BigInt(e.offer.merchantAmount))} ${currency}` };
            line(t(e.offer.proposer === "merchant" ? "escrow.offer" : "escrow.yourOffer", offer), "small-text offer");
          }
          const isBuyer = me !== undefined && item.roles.includes("buyer");
          if (!isBuyer) line(t("escrow.asMerchant"));
          const actions = isBuyer ? buyerActions(e, now) : [];
          if (actions.length > 0) {
            const row = el("div", { className: "row escrow-actions" });
            for (const a of actions) {
              const b = el("button", { className: a === "release" ? "primary small" : "secondary small", text: t(ACTION_LABEL[a]) });
              b.type = "button";
              b.dataset.action = a;
              b.disabled = busy;
              b.addEventListener("click", () => void act(item, e, a));
              row.append(b);
            }
            li.append(row);
          }
        }
        const note = notes.get(item.id);
        if (note !== undefined) {
          const p = el("p", { className: note.kind === "error" ? "error escrow-note" : "muted small-text escrow-note", text: noteText(note) });
          p.setAttribute("role", note.kind === "error" ? "alert" : "status");
          p.dataset.kind = note.kind;
          li.append(p);
        }
        return li;
      }),
    );
  };

  const refresh = async (opts: { onlyIfChanged?: boolean } = {}): Promise<void> => {
    const w = getWallet();
    if (!w || escrowAddress === null) return;
    try {
      const next = (await listAccountEscrows(location.origin, w.address, { limit: 50 })).items;
      const same = JSON.stringify(next) === JSON.stringify(items);
      items = next;
      if (opts.onlyIfChanged === true && same && nodes.error.hidden) return;
      nodes.error.hidden = true;
    } catch (e) {
      nodes.error.textContent = errorMessage(e);
      nodes.error.hidden = false;
    }
    render();
  };

  /** Signs the buyer's action with the passkey and has the node relay it; the outcome stays on the escrow's card. */
  const act = async (item: AccountEscrow, e: EscrowView, action: BuyerAction): Promise<void> => {
    const w = getWallet();
    if (!w || escrowAddress === null || busy) return;
    const request: EscrowActionRequest =
      action === "acceptSettlement" && e.offer !== null ? { action, escrowId: item.id, buyerAmount: BigInt(e.offer.buyerAmount), merchantAmount: BigInt(e.offer.merchantAmount) } : { action, escrowId: item.id };
    busy = true;
    notes.set(item.id, { kind: "pending" });
    render();
    let relayed: RelayedEscrowAction | undefined;
    try {
      relayed = await relayPasskeyEscrowAction(location.origin, {
        chainId: net.chainId,
        escrow: escrowAddress,
        account: w.address,
        request,
        now: BigInt(Math.floor(Date.now() / 1000)),
        sign: walletSigner(w),
      });
      notes.set(item.id, { kind: "ok", txHash: relayed.txHash });
    } catch (err) {
      notes.set(item.id, { kind: "error", error: err });
    } finally {
      busy = false;
    }
    if (relayed?.escrow) items = items.map((i) => (i.id === item.id ? { ...i, escrow: relayed.escrow } : i));
    render();
  };

  return { refresh };
}
