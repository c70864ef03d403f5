import { MESSAGES_EN, MESSAGES_ZH, type MessageId } from "./i18nMessages.ts";

/**
 * A deliberately small message catalog: stable ids, one string per language,
 * `{name}` placeholders. The design rule is that people see their own
 * language (Simplified Chinese or English), chosen by LANG / LC_* or an
 * explicit switch.
 */
export const LANGS = ["en", "zh"] as const;
export type Lang = (typeof LANGS)[number];

export type { MessageId };

const CATALOGS: Readonly<Record<Lang, Readonly<Record<MessageId, string>>>> = { en: MESSAGES_EN, zh: MESSAGES_ZH };

export function isLang(value: string): value is Lang {
  return (LANGS as readonly string[]).includes(value);
}

/**
 * The language from the POSIX locale variables, in their order of precedence
 * (LC_ALL, then LC_MESSAGES, then LANG). Any `zh*` locale gives Chinese;
 * everything else, including "C" and unset, gives English.
 */
export function langFromEnv(env: Readonly<Record<string, string | undefined>>): Lang {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== "");
  return locale?.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function hasMessage(id: string): id is MessageId {
  return Object.hasOwn(MESSAGES_EN, id);
}

/** The message `id` in `lang`, with `{name}` placeholders replaced from `params`. */
export function t(lang: Lang, id: MessageId, params: Readonly<Record<string, string | number | bigint>> = {}): string {
  return CATALOGS[lang][id].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

/** The `{name}` placeholders a message uses, for checking that translations agree. */
export function placeholders(lang: Lang, id: MessageId): string[] {
  return [...CATALOGS[lang][id].matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();
}
