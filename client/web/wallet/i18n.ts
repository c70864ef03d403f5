import { isLang, type Lang } from "../../sdk/i18n.ts";
import { isOrioleError } from "../../sdk/errors.ts";
import { WALLET_MESSAGES_EN, WALLET_MESSAGES_ZH, type WalletMessageId } from "./messages.ts";

const LANG_KEY = "oriole.wallet.lang";
const CATALOGS: Readonly<Record<Lang, Readonly<Record<WalletMessageId, string>>>> = { en: WALLET_MESSAGES_EN, zh: WALLET_MESSAGES_ZH };

let current: Lang = initialLang();

/** The saved choice, else the browser's language: any zh* gives Chinese, everything else English. */
function initialLang(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved !== null && isLang(saved)) return saved;
  return navigator.languages.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  localStorage.setItem(LANG_KEY, l);
}

function isMessageId(id: string): id is WalletMessageId {
  return Object.hasOwn(WALLET_MESSAGES_EN, id);
}

export function t(id: WalletMessageId, params: Readonly<Record<string, string | number | bigint>> = {}): string {
  return CATALOGS[current][id].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

/** Fills every `data-i18n` element's text (and `data-i18n-aria` label) in the current language. */
export function translatePage(root: ParentNode = document): void {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const node of root.querySelectorAll<HTMLElement>("[data-i18n]")) {
    const id = node.dataset.i18n ?? "";
    if (isMessageId(id)) node.textContent = t(id);
  }
  for (const node of root.querySelectorAll<HTMLElement>("[data-i18n-aria]")) {
    const id = node.dataset.i18nAria ?? "";
    if (isMessageId(id)) node.setAttribute("aria-label", t(id));
  }
}

/**
 * A person-readable message for any error: the wallet's own translation of
 * an OrioleError code when it has one (with the error's details as
 * placeholders), else the error's message (the node's errors carry a human
 * message in English).
 */
export function errorMessage(e: unknown): string {
  if (isOrioleError(e)) {
    const id = `error.${e.code}`;
    if (isMessageId(id)) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.details)) if (typeof v === "string" || typeof v === "number" || typeof v === "bigint") params[k] = String(v);
      return t(id, { message: e.message, ...params });
    }
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
