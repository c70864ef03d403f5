import { createApiClient, type Payment } from "../../sdk/apiClient.ts";
import { predictAccountAddress } from "../../sdk/account/accountAddress.ts";
import { CURRENCIES, currencyInfo, type Currency } from "../../sdk/currencies.ts";
import { OrioleError } from "../../sdk/errors.ts";
import { byId, el, shortAddress, showMessage, showScreen, type Screen } from "./dom.ts";
import { lookupPaymentRequest, type PaymentRequestInfo } from "../../sdk/invoiceClient.ts";
import { dateTime, groupedReference, money, moneyWithCurrency, shortHash } from "./format.ts";
import { errorMessage, lang, setLang, t, translatePage } from "./i18n.ts";
import { duration, escrowErrorMessage, escrowSection, type EscrowSection } from "./escrow.ts";
import { DEFAULT_DISPUTE_DAYS, DEFAULT_RELEASE_DAYS, formFromRequest, fundEscrow, prepareFunding, type PreparedFunding } from "./escrowFunding.ts";
import { createPasskey, passkeysSupported } from "./passkey.ts";
import { pay, preparePayment, type PreparedPayment } from "./payment.ts";
import { hasCamera, startScan, type Scan } from "./scanner.ts";
import { loadWallet, saveWallet, type StoredWallet } from "./storage.ts";
import { loadNetwork, type WalletNetwork } from "./network.ts";
import { accountUpdates } from "./liveUpdates.ts";

/**
 * The wallet page: welcome (create a passkey) → home (address, balances,
 * escrow purchases, history) → pay (paste or scan a request) → confirm → status;
 * or home → pay into escrow (the order's form) → confirm → status.
 */

const api = createApiClient({ url: location.origin });
let net: WalletNetwork;
let wallet: StoredWallet | undefined;
let balances: Partial<Record<Currency, bigint>> = {};
let prepared: PreparedPayment | undefined;
/** The node's invoice behind the prepared request's reference, once looked up (undefined: none, or not known yet). */
let invoice: PaymentRequestInfo | undefined;
/** The invoice with the request's reference when the request does not match it (another payee, currency or amount). */
let mismatched: PaymentRequestInfo | undefined;
let scan: Scan | undefined;
let escrows: EscrowSection | undefined;
/** Money received or sent shows without pressing Refresh. */
const live = accountUpdates(() => void refresh({ live: true }));
/** The escrow funding on its confirmation screen. */
let funding: PreparedFunding | undefined;
/** Where "Try again" on a failed status goes back to (the confirmation that failed). */
let retryScreen: Screen | undefined;

function accountAddress(w: Pick<StoredWallet, "qx" | "qy" | "salt">): string {
  return predictAccountAddress({ factory: net.factory, implementation: net.implementation, qx: w.qx, qy: w.qy, salt: BigInt(w.salt) });
}

async function boot(): Promise<void> {
  translatePage();
  wireLanguage();
  const bootError = byId("boot-error");
  if (!window.isSecureContext) {
    showMessage(bootError, t("boot.insecure"));
    byId("boot-message").hidden = true;
    return;
  }
  try {
    net = await loadNetwork(location.origin);
  } catch (e) {
    showMessage(bootError, t("boot.failed", { message: errorMessage(e) }));
    byId("boot-message").hidden = true;
    return;
  }
  const badge = byId("network-badge");
  badge.textContent = `chain ${net.chainId}`;
  badge.hidden = false;
  byId("escrow-currency").replaceChildren(...CURRENCIES.map((c) => Object.assign(el("option", { text: c }), { value: c })));
  escrows = escrowSection({ section: byId("escrow-section"), list: byId("escrows"), empty: byId("escrows-empty"), error: byId("escrows-error") }, net, () => wallet);
  wireActions();
  void hasCamera().then((yes) => {
    byId("scan-button").hidden = !yes;
  });

  wallet = loadWallet();
  if (wallet) {
    // The address follows from the public key and this network's factory; a redeployed network moves it.
    const address = accountAddress(wallet);
    if (address !== wallet.address) {
      wallet = { ...wallet, address };
      saveWallet(wallet);
    }
    showHome();
  } else {
    showScreen("welcome");
    if (!passkeysSupported()) showMessage(byId("welcome-error"), t("boot.noPasskeys"));
  }
}

function wireLanguage(): void {
  const toggle = byId<HTMLButtonElement>("lang-toggle", HTMLButtonElement);
  const render = (): void => {
    toggle.textContent = t("lang.toggle");
    toggle.setAttribute("aria-label", t("lang.label"));
  };
  render();
  toggle.addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    translatePage();
    render();
    if (wallet && !byId("screen-home").hidden) void refresh();
    // The invoice lines (expiry date, refusal) are in the page's language too.
    if (!byId("screen-confirm").hidden) showInvoice(invoice);
  });
}

function wireActions(): void {
  byId("create-wallet").addEventListener("click", () => void createWallet());
  byId("copy-address").addEventListener("click", () => void copyAddress());
  byId("refresh").addEventListener("click", () => void refresh());
  byId("pay-button").addEventListener("click", openPay);
  byId("pay-cancel").addEventListener("click", () => {
    stopScan();
    showHome();
  });
  byId("pay-continue").addEventListener("click", () => {
    review(byId<HTMLTextAreaElement>("payment-uri", HTMLTextAreaElement).value);
  });
  byId("scan-button").addEventListener("click", () => void scanQr());
  byId("stop-scan").addEventListener("click", stopScan);
  byId("confirm-cancel").addEventListener("click", showHome);
  byId("confirm-button").addEventListener("click", () => void confirmPayment());
  byId("status-done").addEventListener("click", showHome);
  // After a failure the request is still on the confirmation screen: the same checks run again.
  byId("status-retry").addEventListener("click", () => {
    if (retryScreen !== undefined) showScreen(retryScreen);
  });
  byId("escrow-fund-button").addEventListener("click", openEscrowFunding);
  byId("escrow-fund-cancel").addEventListener("click", showHome);
  byId("escrow-request-fill").addEventListener("click", fillFromRequest);
  byId("escrow-fund-continue").addEventListener("click", reviewFunding);
  // An error speaks of what was entered: editing the entry retires it.
  byId("screen-escrow").addEventListener("input", () => {
    showMessage(byId("escrow-fund-error"), "");
  });
  byId("payment-uri").addEventListener("input", () => {
    showMessage(byId("pay-error"), "");
  });
  byId("escrow-confirm-cancel").addEventListener("click", () => {
    funding = undefined;
    showScreen("escrow");
  });
  byId("escrow-confirm-button").addEventListener("click", () => void confirmFunding());
}

async function createWallet(): Promise<void> {
  const button = byId<HTMLButtonElement>("create-wallet", HTMLButtonElement);
  const error = byId("welcome-error");
  showMessage(error, "");
  button.disabled = true;
  button.textContent = t("welcome.creating");
  try {
    const label = `Oriole wallet ${new Date().toISOString().slice(0, 10)}`;
    const key = await createPasskey(label);
    const w = { version: 1 as const, credentialId: key.credentialId, qx: key.qx, qy: key.qy, salt: "0", createdAt: Date.now() };
    wallet = { ...w, address: accountAddress(w) };
    saveWallet(wallet);
    showHome();
  } catch (e) {
    showMessage(error, errorMessage(e));
  } finally {
    button.disabled = false;
    button.textContent = t("welcome.create");
  }
}

function showHome(): void {
  if (!wallet) return;
  showScreen("home");
  byId("address").textContent = wallet.address;
  byId("copy-feedback").textContent = "";
  void refresh();
  void live.follow(wallet.address);
}

async function copyAddress(): Promise<void> {
  if (!wallet) return;
  const feedback = byId("copy-feedback");
  try {
    await navigator.clipboard.writeText(wallet.address);
    feedback.textContent = t("home.copied");
  } catch {
    // Clipboard access can be refused (permissions, http on a LAN IP): select the text instead.
    const range = document.createRange();
    range.selectNodeContents(byId("address"));
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    feedback.textContent = t("home.copyFailed");
  }
}

/** Reloads balances, history and escrows; `live` (a stream event) leaves unchanged escrow cards alone. */
async function refresh(opts: { live?: boolean } = {}): Promise<void> {
  if (!wallet) return;
  const address = wallet.address;
  const error = byId("home-error");
  // Escrows load on their own: a slow or failing escrow list does not hold up balances and history.
  void escrows?.refresh({ onlyIfChanged: opts.live === true });
  try {
    const [b, page] = await Promise.all([api.getBalances({ address }), api.getPayments({ address, limit: 20 })]);
    balances = b.balances;
    renderBalances();
    renderHistory(page.items, address);
    showMessage(error, "");
  } catch (e) {
    showMessage(error, errorMessage(e));
  }
}

function renderBalances(): void {
  const list = byId("balances");
  list.replaceChildren(
    ...CURRENCIES.map((c) => {
      const li = el("li", { className: "balance" });
      li.dataset.currency = c;
      li.append(el("span", { className: "currency", text: c }), el("span", { className: "muted small-text", text: currencyInfo(c).name }), el("span", { className: "amount", text: money(balances[c] ?? 0n) }));
      return li;
    }),
  );
}

function renderHistory(items: readonly Payment[], me: string): void {
  const list = byId("history");
  byId("history-empty").hidden = items.length > 0;
  list.hidden = items.length === 0;
  list.replaceChildren(
    ...items.map((p) => {
      const outgoing = p.from.toLowerCase() === me.toLowerCase();
      const counterparty = shortAddress(outgoing ? p.to : p.from);
      const toRelayer = outgoing && p.kind === "transfer" && net.relayerAddress !== null && p.to.toLowerCase() === net.relayerAddress.toLowerCase();
      const title = p.kind === "fee" ? t("home.feePaid") : toRelayer ? t("home.relayerFee") : outgoing ? t("home.sent", { counterparty }) : t("home.received", { counterparty });
      const when = dateTime(p.timestamp * 1000, lang());
      const li = el("li", { className: "tx" });
      const left = el("div", {}, el("span", { className: "tx-title", text: title }), el("span", { className: "muted small-text", text: when }));
      if (p.reference !== null) left.append(el("span", { className: "muted small-text", text: t("home.reference", { reference: shortHash(p.reference) }) }));
      li.append(left, el("span", { className: `amount ${outgoing ? "out" : "in"}`, text: `${outgoing ? "−" : "+"}${moneyWithCurrency(p.amount, p.currency)}` }));
      return li;
    }),
  );
}

function openPay(): void {
  prepared = undefined;
  byId<HTMLTextAreaElement>("payment-uri", HTMLTextAreaElement).value = "";
  showMessage(byId("pay-error"), "");
  showScreen("pay");
}

async function scanQr(): Promise<void> {
  const error = byId("pay-error");
  showMessage(error, "");
  stopScan();
  byId("scanner").hidden = false;
  byId("scan-button").hidden = true;
  try {
    scan = await startScan(byId<HTMLVideoElement>("scanner-video", HTMLVideoElement));
    const text = await scan.result;
    stopScan();
    if (text !== undefined) {
      byId<HTMLTextAreaElement>("payment-uri", HTMLTextAreaElement).value = text;
      review(text);
    }
  } catch (e) {
    stopScan();
    showMessage(error, errorMessage(e));
  }
}

function stopScan(): void {
  scan?.stop();
  scan = undefined;
  byId("scanner").hidden = true;
  void hasCamera().then((yes) => {
    byId("scan-button").hidden = !yes;
  });
}

/** Checks a request and shows the confirmation screen, or says what is wrong with it. */
function review(uri: string): void {
  const error = byId("pay-error");
  if (uri.trim() === "") {
    showMessage(error, t("pay.empty"));
    return;
  }
  try {
    prepared = preparePayment(uri, net);
  } catch (e) {
    showMessage(error, errorMessage(e));
    return;
  }
  const p = prepared;
  const total = p.amount + p.relayerFee;
  byId("confirm-amount").textContent = moneyWithCurrency(p.amount, p.currency);
  byId("confirm-to").textContent = p.to;
  const referenceNode = byId("confirm-reference");
  referenceNode.textContent = p.hasReference ? groupedReference(p.reference) : t("confirm.noReference");
  referenceNode.dataset.reference = p.hasReference ? p.reference : "";
  byId("confirm-fee").textContent = moneyWithCurrency(p.relayerFee, p.currency);
  byId("confirm-total").textContent = moneyWithCurrency(total, p.currency);
  byId("confirm-balance").textContent = "…";
  showMessage(byId("confirm-error"), "");
  const button = byId<HTMLButtonElement>("confirm-button", HTMLButtonElement);
  button.disabled = false;
  invoice = undefined;
  mismatched = undefined;
  showInvoice(undefined);
  showScreen("confirm");
  void checkFunds(p, button);
  if (p.hasReference) void describeInvoice(p, button);
}

/**
 * Asks the node for the invoice behind the request's reference: the merchant's
 * name, what it is for, and its expiry. An expired or already paid invoice
 * cannot be confirmed. Any other request (no invoice of this node, or the
 * lookup fails) is shown as the URI says, without these lines.
 */
async function describeInvoice(p: PreparedPayment, button: HTMLButtonElement): Promise<void> {
  let info: PaymentRequestInfo | undefined;
  try {
    info = await lookupPaymentRequest(location.origin, p.reference);
  } catch {
    return;
  }
  if (prepared !== p || info === undefined) return;
  // A request carrying an invoice's reference but another payee, currency or amount was altered (or is a lure): refuse it.
  if (info.payee.toLowerCase() !== p.to.toLowerCase() || info.currency !== p.currency || BigInt(info.amount) !== p.amount) {
    mismatched = info;
    showInvoice(undefined);
    button.disabled = true;
    return;
  }
  invoice = info;
  showInvoice(info);
  if (invoiceRefusal(info) !== undefined) button.disabled = true;
}

/** Why an invoice must not be paid now (expired, already paid), or undefined. */
function invoiceRefusal(info: PaymentRequestInfo): string | undefined {
  const expiresAt = Date.parse(info.expiresAt);
  if (info.status === "paid") return t("confirm.alreadyPaid");
  if (info.status === "expired" || expiresAt <= Date.now()) return t("confirm.expired", { time: dateTime(expiresAt, lang()) });
  return undefined;
}

function showInvoice(info: PaymentRequestInfo | undefined): void {
  byId("confirm-merchant-row").hidden = info === undefined;
  byId("confirm-merchant").textContent = info?.merchant.name ?? "";
  const description = info?.description ?? null;
  byId("confirm-description-row").hidden = description === null || description === "";
  byId("confirm-description").textContent = description ?? "";
  byId("confirm-expires-row").hidden = info === undefined;
  byId("confirm-expires").textContent = info === undefined ? "" : dateTime(Date.parse(info.expiresAt), lang());
  const notice = byId("confirm-invoice-status");
  if (mismatched !== undefined) {
    showMessage(notice, t("confirm.mismatch", { merchant: mismatched.merchant.name, amount: moneyWithCurrency(BigInt(mismatched.amount), mismatched.currency), payee: shortAddress(mismatched.payee) }));
    notice.dataset.status = "mismatch";
    return;
  }
  showMessage(notice, info === undefined ? "" : (invoiceRefusal(info) ?? ""));
  notice.dataset.status = info?.status ?? "";
}

async function checkFunds(p: PreparedPayment, button: HTMLButtonElement): Promise<void> {
  if (!wallet) return;
  try {
    const b = await api.getBalances({ address: wallet.address });
    balances = b.balances;
  } catch {
    // The relayer checks the balance again; a failed read only hides the hint.
    return;
  }
  if (prepared !== p) return;
  const have = balances[p.currency] ?? 0n;
  const total = p.amount + p.relayerFee;
  byId("confirm-balance").textContent = moneyWithCurrency(have, p.currency);
  if (have < total) {
    showMessage(byId("confirm-error"), t("confirm.insufficient", { currency: p.currency, balance: money(have), total: money(total) }));
    button.disabled = true;
  }
}

async function confirmPayment(): Promise<void> {
  const p = prepared;
  if (!wallet || !p) return;
  const button = byId<HTMLButtonElement>("confirm-button", HTMLButtonElement);
  // The invoice may have expired while its confirmation was open.
  const refusal = invoice === undefined ? undefined : invoiceRefusal(invoice);
  if (refusal !== undefined || mismatched !== undefined) {
    showInvoice(invoice);
    button.disabled = true;
    return;
  }
  button.disabled = true;
  retryScreen = "confirm";
  setStatus("pending", t("status.signing"), t("status.signingDetail"));
  try {
    const result = await pay(p, wallet, net, {
      onSigning: () => undefined,
      onSending: () => {
        setStatus("pending", t("status.sending"), t("status.sendingDetail"));
      },
    });
    prepared = undefined;
    retryScreen = undefined;
    setStatus("ok", t("status.paid"), t("status.paidDetail", { amount: moneyWithCurrency(p.amount, p.currency), to: shortAddress(p.to) }), result.txHash);
  } catch (e) {
    const message = e instanceof OrioleError && e.code === "intent_timeout" ? t("error.timeout") : errorMessage(e);
    setStatus("failed", t("status.failed"), message);
  } finally {
    button.disabled = false;
  }
}

const input = (id: string): HTMLInputElement => byId<HTMLInputElement>(id, HTMLInputElement);

/** The escrow form, empty but for the default protection periods. */
function openEscrowFunding(): void {
  funding = undefined;
  for (const id of ["escrow-merchant", "escrow-amount", "escrow-order"]) input(id).value = "";
  input("escrow-release-days").value = String(DEFAULT_RELEASE_DAYS);
  input("escrow-dispute-days").value = String(DEFAULT_DISPUTE_DAYS);
  byId<HTMLTextAreaElement>("escrow-request", HTMLTextAreaElement).value = "";
  byId<HTMLDetailsElement>("escrow-from-request", HTMLDetailsElement).open = false;
  showMessage(byId("escrow-fund-error"), "");
  showMessage(byId("escrow-fill-note"), "");
  showScreen("escrow");
}

/** Fills merchant, amount, currency and order from a pasted EIP-681 payment request. */
function fillFromRequest(): void {
  const error = byId("escrow-fund-error");
  try {
    const f = formFromRequest(byId<HTMLTextAreaElement>("escrow-request", HTMLTextAreaElement).value, net);
    input("escrow-merchant").value = f.merchant;
    input("escrow-amount").value = f.amount;
    byId<HTMLSelectElement>("escrow-currency", HTMLSelectElement).value = f.currency;
    if (f.order !== undefined) input("escrow-order").value = f.order;
    showMessage(error, "");
    byId<HTMLDetailsElement>("escrow-from-request", HTMLDetailsElement).open = false;
    showMessage(byId("escrow-fill-note"), t("escrowFund.filled"));
  } catch (e) {
    showMessage(byId("escrow-fill-note"), "");
    showMessage(error, errorMessage(e));
  }
}

/** Checks the form and shows the escrow confirmation, or says what is wrong. */
function reviewFunding(): void {
  if (!wallet) return;
  const error = byId("escrow-fund-error");
  let p: PreparedFunding;
  try {
    p = prepareFunding(
      {
        merchant: input("escrow-merchant").value,
        amount: input("escrow-amount").value,
        currency: byId<HTMLSelectElement>("escrow-currency", HTMLSelectElement).value,
        order: input("escrow-order").value,
        releaseDays: input("escrow-release-days").value,
        disputeDays: input("escrow-dispute-days").value,
      },
      net,
      wallet.address,
    );
  } catch (e) {
    showMessage(error, errorMessage(e));
    return;
  }
  showMessage(error, "");
  funding = p;
  byId("escrow-confirm-amount").textContent = moneyWithCurrency(p.terms.amount, p.currency);
  byId("escrow-confirm-merchant").textContent = p.terms.merchant;
  byId("escrow-confirm-order").textContent = p.order;
  byId("escrow-confirm-terms").textContent = t("escrow.terms", { dispute: duration(p.terms.disputeWindow), release: duration(p.terms.releaseTimeout) });
  byId("escrow-confirm-fee").textContent = t("escrowFund.noFee");
  byId("escrow-confirm-balance").textContent = "…";
  showMessage(byId("escrow-confirm-error"), "");
  const button = byId<HTMLButtonElement>("escrow-confirm-button", HTMLButtonElement);
  button.disabled = false;
  showScreen("escrow-confirm");
  void checkEscrowFunds(p, button);
}

async function checkEscrowFunds(p: PreparedFunding, button: HTMLButtonElement): Promise<void> {
  if (!wallet) return;
  try {
    balances = (await api.getBalances({ address: wallet.address })).balances;
  } catch {
    // The node simulates the funding again; a failed read only hides the hint.
    return;
  }
  if (funding !== p) return;
  const have = balances[p.currency] ?? 0n;
  byId("escrow-confirm-balance").textContent = moneyWithCurrency(have, p.currency);
  if (have < p.terms.amount) {
    showMessage(byId("escrow-confirm-error"), t("escrowFund.insufficient", { currency: p.currency, balance: money(have), amount: money(p.terms.amount) }));
    button.disabled = true;
  }
}

/** Signs the funding with the passkey (user verification required) and has the node relay it. */
async function confirmFunding(): Promise<void> {
  const p = funding;
  if (!wallet || !p) return;
  const button = byId<HTMLButtonElement>("escrow-confirm-button", HTMLButtonElement);
  button.disabled = true;
  retryScreen = "escrow-confirm";
  setStatus("pending", t("status.signing"), t("status.signingDetail"));
  try {
    const record = await fundEscrow(p, wallet, net, {
      onSending: () => {
        setStatus("pending", t("status.sending"), t("escrowFund.sendingDetail"));
      },
    });
    funding = undefined;
    retryScreen = undefined;
    const screen = byId("screen-status");
    screen.dataset.escrowId = record.escrowId ?? "";
    setStatus("ok", t("escrowFund.paid"), t("escrowFund.paidDetail", { amount: moneyWithCurrency(p.terms.amount, p.currency), merchant: shortAddress(p.terms.merchant) }), record.txHash ?? undefined);
  } catch (e) {
    setStatus("failed", t("escrowFund.failed"), escrowErrorMessage(e));
  } finally {
    button.disabled = false;
  }
}

function setStatus(kind: "pending" | "ok" | "failed", title: string, detail: string, txHash?: string): void {
  showScreen("status");
  const icon = byId("status-icon");
  icon.className = `status-icon ${kind}`;
  const screen = byId("screen-status");
  screen.dataset.status = kind;
  byId("status-title").textContent = title;
  const detailNode = byId("status-detail");
  detailNode.textContent = detail;
  detailNode.className = kind === "failed" ? "center error" : "center";
  detailNode.setAttribute("role", kind === "failed" ? "alert" : "status");
  byId("status-tx-row").hidden = txHash === undefined;
  byId("status-tx").textContent = txHash ?? "";
  byId("status-done").hidden = kind === "pending";
  byId("status-retry").hidden = kind !== "failed" || retryScreen === undefined;
}

void boot();
