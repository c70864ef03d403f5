/**
 * The point of sale: the merchant's API key (kept in sessionStorage only,
 * gone with the tab), an amount → an invoice → its QR code (the node's SVG)
 * → the merchant's SSE stream, read with fetch (so the Authorization header
 * works; resumed with Last-Event-ID after a drop) → green when invoice.paid arrives.
 */
import { z } from "zod";
import { parseAmount } from "../../sdk/amount.ts";
import { isCurrency } from "../../sdk/currencies.ts";
import { followSse, type SseFollower, type SseMessage } from "../../sdk/eventStream.ts";
import { isOrioleError } from "../../sdk/errors.ts";
import { createInvoice, getInvoice, invoiceSchema, type InvoiceView } from "../../sdk/invoiceClient.ts";
import { byId } from "../wallet/dom.ts";
import { moneyWithCurrency } from "../wallet/format.ts";

const MESSAGES = {
  en: {
    title: "Oriole point of sale",
    "key.label": "Merchant API key",
    "key.save": "Start",
    "key.forget": "Forget the API key",
    "sale.amount": "Amount",
    "sale.description": "Description",
    "sale.charge": "Charge",
    "sale.new": "New sale",
    "status.open": "Scan to pay",
    "status.partially_paid": "Partially paid: {received} received",
    "status.paid": "Paid ✓",
    "status.expired": "Expired",
    "error.key": "The API key was refused: check it and try again.",
    "error.amount": "Enter an amount such as 12.50 (at most 6 decimals).",
    "error.request": "The node refused: {message}",
  },
  zh: {
    title: "Oriole 收银台",
    "key.label": "商户 API 密钥",
    "key.save": "开始",
    "key.forget": "清除 API 密钥",
    "sale.amount": "金额",
    "sale.description": "说明",
    "sale.charge": "收款",
    "sale.new": "新的一笔",
    "status.open": "请扫码付款",
    "status.partially_paid": "部分付款：已收 {received}",
    "status.paid": "已付款 ✓",
    "status.expired": "已过期",
    "error.key": "API 密钥被拒绝：请检查后重试。",
    "error.amount": "请输入金额，如 12.50（最多 6 位小数）。",
    "error.request": "节点拒绝：{message}",
  },
} as const;
type MessageId = keyof (typeof MESSAGES)["en"];
type Lang = keyof typeof MESSAGES;
const KEY = "oriole.pos.apiKey";

let lang: Lang = navigator.languages.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
const t = (id: MessageId, params: Record<string, string> = {}): string => MESSAGES[lang][id].replace(/\{(\w+)\}/g, (w, n: string) => params[n] ?? w);

function translate(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll<HTMLElement>("[data-i18n]")) node.textContent = t(node.dataset.i18n as MessageId);
  byId("lang-toggle").textContent = lang === "zh" ? "English" : "中文";
}

function showError(text: string): void {
  const e = byId("error");
  e.textContent = text;
  e.hidden = text === "";
}

/** An invoice.* event on the merchant's stream, validated like every response. */
const invoiceEventSchema = z.object({ invoice: invoiceSchema });

let stream: SseFollower | undefined;
let current: InvoiceView | undefined;

function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

/** A refused API key is forgotten (the key form shows again); anything else says what the node said. */
function refused(status: number, message: string): Error {
  if (status === 401) {
    sessionStorage.removeItem(KEY);
    showScreen();
    return new Error(t("error.key"));
  }
  return new Error(t("error.request", { message }));
}

/** The invoice's QR code as the node draws it (SVG). */
async function qrCode(id: string): Promise<Blob> {
  const res = await fetch(`/v1/invoices/${encodeURIComponent(id)}/qr?format=svg`, { headers: { authorization: `Bearer ${apiKey() ?? ""}` } });
  if (!res.ok) throw refused(res.status, String(res.status));
  return res.blob();
}

function showStatus(invoice: InvoiceView): void {
  current = invoice;
  document.body.className = invoice.status;
  byId("invoice-status").textContent = t(`status.${invoice.status}`, { received: moneyWithCurrency(BigInt(invoice.amountReceived), invoice.currency) });
}

function showScreen(): void {
  const hasKey = apiKey() !== null;
  byId("key-form").hidden = hasKey;
  byId("sale-form").hidden = !hasKey || current !== undefined;
  byId("invoice").hidden = current === undefined;
  if (current === undefined) document.body.className = "";
}

/** Shows what one stream message says about the current invoice, if anything. */
function onMessage(m: SseMessage): void {
  if (!m.event.startsWith("invoice.")) return;
  let data: unknown;
  try {
    data = JSON.parse(m.data);
  } catch {
    return;
  }
  const e = invoiceEventSchema.safeParse(data);
  if (e.success && e.data.invoice.id === current?.id) showStatus(e.data.invoice);
}

/** Reads the shown invoice again (after a reconnect: what happened while the stream was down). */
async function refreshCurrent(): Promise<void> {
  const shown = current;
  if (shown === undefined) return;
  const invoice = await getInvoice(location.origin, apiKey() ?? "", shown.id);
  if (current?.id === invoice.id) showStatus(invoice);
}

/**
 * Follows the merchant's stream from now on (followSse: resumed with Last-Event-ID after a
 * drop, the shown invoice read again); invoice events of the current invoice update the screen.
 */
async function listen(): Promise<void> {
  stream?.stop();
  stream = undefined;
  try {
    stream = await followSse("/v1/merchants/me/events", {
      headers: { authorization: `Bearer ${apiKey() ?? ""}` },
      onMessage,
      onReconnect: refreshCurrent,
      onRefused: (status) => {
        if (status === 401) showError(refused(401, "").message);
      },
    });
  } catch (e) {
    if (isOrioleError(e) && typeof e.details.status === "number") throw refused(e.details.status, e.message);
    throw e;
  }
}

async function charge(): Promise<void> {
  let amount: bigint;
  try {
    amount = parseAmount(byId("amount", HTMLInputElement).value);
  } catch (e) {
    if (isOrioleError(e)) throw new Error(t("error.amount"), { cause: e });
    throw e;
  }
  const currency = byId("currency", HTMLSelectElement).value;
  if (!isCurrency(currency)) throw new Error(t("error.amount"));
  // Listening before the invoice exists: a payment made at once is not missed.
  await listen();
  let invoice: InvoiceView;
  try {
    invoice = await createInvoice(location.origin, apiKey() ?? "", { amount, currency, description: byId("description", HTMLInputElement).value, expiresInSec: 900 }, crypto.randomUUID());
  } catch (e) {
    if (isOrioleError(e)) throw refused(typeof e.details.status === "number" ? e.details.status : 0, e.message);
    throw e;
  }
  const svg = await qrCode(invoice.id);
  const img = byId("invoice-qr", HTMLImageElement);
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(svg);
  img.alt = invoice.id;
  byId("invoice-amount").textContent = moneyWithCurrency(amount, currency);
  byId("invoice").dataset.invoiceId = invoice.id;
  showStatus(invoice);
  showScreen();
}

function main(): void {
  translate();
  showScreen();
  byId("lang-toggle").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    translate();
    if (current) showStatus(current);
  });
  byId("key-form", HTMLFormElement).addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, byId("api-key", HTMLInputElement).value.trim());
    showError("");
    showScreen();
  });
  byId("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    showScreen();
  });
  byId("sale-form", HTMLFormElement).addEventListener("submit", (ev) => {
    ev.preventDefault();
    showError("");
    charge().catch((e: unknown) => {
      showError(e instanceof Error ? e.message : String(e));
    });
  });
  byId("new-sale").addEventListener("click", () => {
    current = undefined;
    stream?.stop();
    stream = undefined;
    showScreen();
  });
}

main();
