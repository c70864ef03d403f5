import path from "node:path";
import { CURRENCIES } from "../sdk/currencies.ts";
import { OrioleError } from "../sdk/errors.ts";
import { hasMessage, langFromEnv, t, type Lang, type MessageId } from "../sdk/i18n.ts";
import { flag, parseArgv, stringOption, unknownOptionError, usageError, type OptionSpec, type ParsedArgv } from "./argv.ts";
import { createContext, DEFAULT_API_URL, DEFAULT_RPC_URL, defaultKeystorePath, type CliContext, type CliIo, type CommandResult } from "./context.ts";
import { MAX_HISTORY_LIMIT, parseLangOption, parseLimitArg, parseUrlOption } from "./options.ts";

/** Exit codes: 0 success, 1 error, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Every option any command knows; which command accepts which is checked after parsing. */
const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  keystore: { type: "string" },
  api: { type: "string" },
  rpc: { type: "string" },
  lang: { type: "string" },
  force: { type: "boolean" },
  passkey: { type: "boolean" },
  reference: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  name: { type: "string" },
  payout: { type: "string" },
  "admin-token-file": { type: "string" },
  // refund, report, escrow; "merchant-key-file" is every merchant command's key (merchantKey.ts)
  payment: { type: "string" },
  amount: { type: "string" },
  reason: { type: "string" },
  pay: { type: "boolean" },
  "idempotency-key": { type: "string" },
  "merchant-key-file": { type: "string" },
  date: { type: "string" },
  currency: { type: "string" },
  csv: { type: "boolean" },
  merchant: { type: "string" },
  order: { type: "string" },
  "release-timeout": { type: "string" },
  "dispute-window": { type: "string" },
  "buyer-amount": { type: "string" },
  "merchant-amount": { type: "string" },
  deployment: { type: "string" },
  "valid-for": { type: "string" },
  description: { type: "string" },
  "expires-in": { type: "string" },
  "order-id": { type: "string" },
  status: { type: "string" },
  complete: { type: "boolean" },
};
const GLOBAL_OPTIONS = new Set(["json", "help", "keystore", "api", "rpc", "lang"]);

interface CommandSpec {
  /** The words that name the command, e.g. ["wallet", "create"]. */
  readonly words: readonly string[];
  readonly help: MessageId;
  readonly options: readonly string[];
  readonly args: readonly { readonly name: string; readonly optional?: boolean }[];
  run(ctx: CliContext, args: readonly string[], parsed: ParsedArgv): Promise<CommandResult>;
}

// Command modules are imported when run, so that help and usage errors do not pay for loading ethers and zod.
const COMMANDS: readonly CommandSpec[] = [
  {
    words: ["wallet", "create"],
    help: "help.wallet.create",
    options: ["force", "passkey"],
    args: [],
    run: async (ctx, _a, p) => (await import("./commands/walletCreate.ts")).walletCreate(ctx, { force: flag(p, "force"), passkey: flag(p, "passkey") }),
  },
  {
    words: ["wallet", "import"],
    help: "help.wallet.import",
    options: ["force"],
    args: [],
    run: async (ctx, _a, p) => (await import("./commands/walletImport.ts")).walletImport(ctx, { force: flag(p, "force") }),
  },
  {
    words: ["wallet", "address"],
    help: "help.wallet.address",
    options: [],
    args: [],
    run: async (ctx) => (await import("./commands/walletAddress.ts")).walletAddress(ctx),
  },
  {
    words: ["balance"],
    help: "help.balance",
    options: [],
    args: [{ name: "address", optional: true }],
    run: async (ctx, a) => (await import("./commands/balance.ts")).balance(ctx, { address: a[0] }),
  },
  {
    words: ["pay"],
    help: "help.pay",
    options: ["reference"],
    args: [{ name: "to" }, { name: "amount", optional: true }, { name: "currency", optional: true }],
    run: async (ctx, a, p) => (await import("./commands/pay.ts")).pay(ctx, { target: a[0] ?? "", amount: a[1], currency: a[2], reference: stringOption(p, "reference") }),
  },
  {
    words: ["history"],
    help: "help.history",
    options: ["limit", "cursor"],
    args: [{ name: "address", optional: true }],
    run: async (ctx, a, p) => {
      const limitOption = stringOption(p, "limit");
      const limit = limitOption === undefined ? undefined : parseLimitArg(limitOption);
      return (await import("./commands/history.ts")).history(ctx, { address: a[0], limit, cursor: stringOption(p, "cursor") });
    },
  },
  {
    words: ["merchant", "create"],
    help: "help.merchant.create",
    options: ["name", "payout", "admin-token-file"],
    args: [],
    run: async (ctx, _a, p) => {
      const name = stringOption(p, "name");
      const payout = stringOption(p, "payout");
      if (name === undefined) throw usageError("usage.missingOption", { option: "--name", command: "merchant create" });
      if (payout === undefined) throw usageError("usage.missingOption", { option: "--payout", command: "merchant create" });
      return (await import("./commands/merchantCreate.ts")).merchantCreate(ctx, { name, payout, adminTokenFile: stringOption(p, "admin-token-file") });
    },
  },
  ...REFUND_REPORT_ESCROW_COMMANDS(),
  {
    words: ["offline", "reserve"],
    help: "help.offline.reserve",
    options: ["deployment"],
    args: [{ name: "amount" }, { name: "currency" }],
    run: async (ctx, a, p) => (await import("./commands/offline.ts")).offlineReserve(ctx, { amount: a[0] ?? "", currency: a[1] ?? "", deployment: stringOption(p, "deployment") }),
  },
  {
    words: ["offline", "withdraw"],
    help: "help.offline.withdraw",
    options: ["complete", "deployment"],
    args: [{ name: "amount" }, { name: "currency", optional: true }],
    run: async (ctx, a, p) => {
      const complete = flag(p, "complete");
      // `withdraw <amount> <currency>` requests; `withdraw --complete <currency>` completes.
      if (complete && a.length > 1) throw usageError("usage.extraArgument", { value: shortWord(a[1] ?? ""), command: "offline withdraw --complete" });
      if (!complete && a.length < 2) throw usageError("usage.missingArgument", { name: "currency", command: "offline withdraw" });
      const [amount, currency] = complete ? [undefined, a[0] ?? ""] : [a[0], a[1] ?? ""];
      return (await import("./commands/offline.ts")).offlineWithdraw(ctx, { amount, currency, complete, deployment: stringOption(p, "deployment") });
    },
  },
  {
    words: ["offline", "code"],
    help: "help.offline.code",
    options: ["valid-for"],
    args: [{ name: "merchant" }, { name: "amount" }, { name: "currency" }],
    run: async (ctx, a, p) => (await import("./commands/offline.ts")).offlineCode(ctx, { merchant: a[0] ?? "", amount: a[1] ?? "", currency: a[2] ?? "", validFor: stringOption(p, "valid-for") }),
  },
  {
    words: ["offline", "sync"],
    help: "help.offline.sync",
    options: ["deployment"],
    args: [],
    run: async (ctx, _a, p) => (await import("./commands/offline.ts")).offlineSync(ctx, { deployment: stringOption(p, "deployment") }),
  },
  {
    words: ["offline", "accept"],
    help: "help.offline.accept",
    options: [],
    args: [{ name: "code" }],
    run: async (ctx, a) => (await import("./commands/offline.ts")).offlineAccept(ctx, { code: a[0] ?? "" }),
  },
  {
    words: ["offline", "list"],
    help: "help.offline.list",
    options: [],
    args: [],
    run: async (ctx) => (await import("./commands/offline.ts")).offlineList(ctx),
  },
  {
    words: ["offline", "settle"],
    help: "help.offline.settle",
    options: [],
    args: [],
    run: async (ctx) => (await import("./commands/offline.ts")).offlineSettle(ctx),
  },
  {
    words: ["invoice", "create"],
    help: "help.invoice.create",
    options: ["amount", "currency", "description", "expires-in", "order-id", "merchant-key-file"],
    args: [],
    run: async (ctx, _a, p) => {
      const amount = stringOption(p, "amount");
      const currency = stringOption(p, "currency");
      const description = stringOption(p, "description");
      if (amount === undefined) throw usageError("usage.missingOption", { option: "--amount", command: "invoice create" });
      if (currency === undefined) throw usageError("usage.missingOption", { option: "--currency", command: "invoice create" });
      if (description === undefined) throw usageError("usage.missingOption", { option: "--description", command: "invoice create" });
      return (await import("./commands/invoice.ts")).invoiceCreate(ctx, { amount, currency, description, expiresIn: stringOption(p, "expires-in"), orderId: stringOption(p, "order-id"), keyFile: stringOption(p, "merchant-key-file") });
    },
  },
  {
    words: ["invoice", "show"],
    help: "help.invoice.show",
    options: ["merchant-key-file"],
    args: [{ name: "id" }],
    run: async (ctx, a, p) => (await import("./commands/invoice.ts")).invoiceShow(ctx, { id: a[0] ?? "", keyFile: stringOption(p, "merchant-key-file") }),
  },
  {
    words: ["invoice", "list"],
    help: "help.invoice.list",
    options: ["status", "limit", "cursor", "merchant-key-file"],
    args: [],
    run: async (ctx, _a, p) => {
      const limitOption = stringOption(p, "limit");
      const limit = limitOption === undefined ? undefined : parseLimitArg(limitOption);
      return (await import("./commands/invoice.ts")).invoiceList(ctx, { status: stringOption(p, "status"), limit, cursor: stringOption(p, "cursor"), keyFile: stringOption(p, "merchant-key-file") });
    },
  },
];

/** refund create|show|cancel, report daily, escrow fund|ship|release|refund|dispute|offer|accept|show (issue 6). */
function REFUND_REPORT_ESCROW_COMMANDS(): CommandSpec[] {
  const escrowVerbs = [
    ["ship", []],
    ["release", []],
    ["dispute", []],
    ["refund", ["amount"]],
    ["offer", ["buyer-amount", "merchant-amount"]],
    ["accept", ["buyer-amount", "merchant-amount"]],
  ] as const;
  return [
    {
      words: ["refund", "create"],
      help: "help.refund",
      options: ["payment", "amount", "reason", "pay", "idempotency-key", "merchant-key-file"],
      args: [],
      run: async (ctx, _a, p) => {
        const payment = stringOption(p, "payment");
        const amount = stringOption(p, "amount");
        if (payment === undefined) throw usageError("usage.missingOption", { option: "--payment", command: "refund create" });
        if (amount === undefined) throw usageError("usage.missingOption", { option: "--amount", command: "refund create" });
        return (await import("./commands/refund.ts")).refundCreate(ctx, { payment, amount, reason: stringOption(p, "reason"), pay: flag(p, "pay"), idempotencyKey: stringOption(p, "idempotency-key"), keyFile: stringOption(p, "merchant-key-file") });
      },
    },
    {
      words: ["refund", "show"],
      help: "help.refund",
      options: ["merchant-key-file"],
      args: [{ name: "id" }],
      run: async (ctx, a, p) => (await import("./commands/refund.ts")).refundShow(ctx, { id: a[0] ?? "", keyFile: stringOption(p, "merchant-key-file") }),
    },
    {
      words: ["refund", "cancel"],
      help: "help.refund",
      options: ["merchant-key-file"],
      args: [{ name: "id" }],
      run: async (ctx, a, p) => (await import("./commands/refund.ts")).refundCancel(ctx, { id: a[0] ?? "", keyFile: stringOption(p, "merchant-key-file") }),
    },
    {
      words: ["report", "daily"],
      help: "help.report",
      options: ["date", "currency", "csv", "merchant-key-file"],
      args: [],
      run: async (ctx, _a, p) => {
        const date = stringOption(p, "date");
        if (date === undefined) throw usageError("usage.missingOption", { option: "--date", command: "report daily" });
        return (await import("./commands/report.ts")).reportDaily(ctx, { date, currency: stringOption(p, "currency"), csv: flag(p, "csv"), keyFile: stringOption(p, "merchant-key-file") });
      },
    },
    {
      words: ["escrow", "show"],
      help: "help.escrow",
      options: [],
      args: [{ name: "id" }],
      run: async (ctx, a) => (await import("./commands/escrow.ts")).escrowShow(ctx, { id: a[0] ?? "" }),
    },
    {
      words: ["escrow", "fund"],
      help: "help.escrow",
      options: ["merchant", "amount", "currency", "order", "release-timeout", "dispute-window"],
      args: [],
      run: async (ctx, _a, p) =>
        (await import("./commands/escrow.ts")).escrowSend(ctx, {
          verb: "fund",
          merchant: stringOption(p, "merchant"),
          amount: stringOption(p, "amount"),
          currency: stringOption(p, "currency"),
          order: stringOption(p, "order"),
          releaseTimeout: stringOption(p, "release-timeout"),
          disputeWindow: stringOption(p, "dispute-window"),
        }),
    },
    ...escrowVerbs.map(
      ([verb, options]): CommandSpec => ({
        words: ["escrow", verb],
        help: "help.escrow",
        options,
        args: [{ name: "id" }],
        run: async (ctx, a, p) =>
          (await import("./commands/escrow.ts")).escrowSend(ctx, { verb, id: a[0], amount: stringOption(p, "amount"), buyerAmount: stringOption(p, "buyer-amount"), merchantAmount: stringOption(p, "merchant-amount") }),
      }),
    ),
  ];
}

/** Every command's words joined ("wallet create"), e.g. to check that the main help lists each. */
export function commandNames(): string[] {
  return COMMANDS.map((c) => c.words.join(" "));
}

/** Groups of commands that have help of their own (`oriole wallet --help`). */
const GROUPS: Readonly<Record<string, MessageId>> = { wallet: "help.wallet", merchant: "help.merchant", offline: "help.offline", invoice: "help.invoice", refund: "help.refund", report: "help.report", escrow: "help.escrow" };

const HELP_PARAMS = { currencies: CURRENCIES.join(", "), maxLimit: MAX_HISTORY_LIMIT };

function helpText(lang: Lang, id: MessageId): string {
  return `${t(lang, id, { ...HELP_PARAMS, merchantKey: t(lang, "help.merchantKey") })}\n\n${t(lang, "help.options")}`;
}

type Found = { kind: "command"; spec: CommandSpec } | { kind: "group"; help: MessageId; name: string } | { kind: "main" };

function findCommand(words: readonly string[]): Found {
  const [first, second] = words;
  if (first === undefined) return { kind: "main" };
  const group = GROUPS[first];
  if (group !== undefined) {
    if (second === undefined) return { kind: "group", help: group, name: first };
    const spec = COMMANDS.find((c) => c.words[0] === first && c.words[1] === second);
    if (!spec) throw usageError("usage.unknownCommand", { command: shortWord(`${first} ${second}`) });
    return { kind: "command", spec };
  }
  const spec = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
  if (!spec) throw usageError("usage.unknownCommand", { command: shortWord(first) });
  return { kind: "command", spec };
}

/** The command or group the words name ("wallet create", "wallet"), for a usage message; undefined for none or an unknown one. */
function commandNamed(words: readonly string[]): string | undefined {
  try {
    const found = findCommand(words[0] === "help" ? words.slice(1) : words);
    return found.kind === "command" ? found.spec.words.join(" ") : found.kind === "group" ? found.name : undefined;
  } catch {
    return undefined;
  }
}

/** A word for an error message: cut when long, and never a private key. */
function shortWord(s: string): string {
  if (/[0-9a-fA-F]{64}/.test(s)) return "<64 hex digits, not shown>";
  return s.length <= 32 ? s : `${s.slice(0, 12)}…`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** The --lang given on the command line, if it is a valid one, found even when parsing fails. */
function scanLang(argv: readonly string[]): Lang | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = a === "--lang" ? argv[i + 1] : a?.startsWith("--lang=") ? a.slice(7) : undefined;
    if (v === "en" || v === "zh") return v;
  }
  return undefined;
}

/** Runs the CLI; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes("--json");
  let lang: Lang = scanLang(argv) ?? langFromEnv(io.env);
  let ctx: CliContext | undefined;
  const out = (text: string, value: unknown) => {
    io.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  };
  try {
    const parsed = parseArgv(argv, OPTIONS, { allowUnknown: true });
    const unknown = parsed.unknown[0];
    if (unknown !== undefined) throw unknownOptionError(unknown, commandNamed(parsed.positionals));
    json = flag(parsed, "json");
    const langOption = stringOption(parsed, "lang");
    if (langOption !== undefined) lang = parseLangOption(langOption);
    const wantsHelp = flag(parsed, "help");
    let words = parsed.positionals;

    if (words[0] === "help") {
      words = words.slice(1);
      const found = findCommand(words);
      const text = helpText(lang, found.kind === "command" ? found.spec.help : found.kind === "group" ? found.help : "help.main");
      out(text, { help: text });
      return EXIT_OK;
    }

    const found = findCommand(words);
    if (found.kind !== "command") {
      const id = found.kind === "group" ? found.help : "help.main";
      if (wantsHelp) {
        const text = helpText(lang, id);
        out(text, { help: text });
        return EXIT_OK;
      }
      throw usageError("usage.missingCommand", { help: found.kind === "group" ? `oriole ${found.name} --help` : "oriole --help" });
    }
    const spec = found.spec;
    const command = spec.words.join(" ");
    if (wantsHelp) {
      const text = helpText(lang, spec.help);
      out(text, { help: text });
      return EXIT_OK;
    }

    for (const name of parsed.values.keys()) {
      if (!GLOBAL_OPTIONS.has(name) && !spec.options.includes(name)) throw unknownOptionError(`--${name}`, command);
    }
    const args = words.slice(spec.words.length);
    const required = spec.args.filter((a) => a.optional !== true).length;
    if (args.length < required) {
      throw usageError("usage.missingArgument", { name: spec.args[args.length]?.name ?? "", command });
    }
    if (args.length > spec.args.length) {
      // `wallet import` takes no arguments: whatever was given may be a key, so it is not echoed.
      if (command === "wallet import") throw usageError("usage.privateKeyArgument", {});
      throw usageError("usage.extraArgument", { value: shortWord(args[spec.args.length] ?? ""), command });
    }

    const keystore = nonEmpty(stringOption(parsed, "keystore")) ?? nonEmpty(io.env.ORIOLE_KEYSTORE) ?? defaultKeystorePath(io.env);
    const apiOption = stringOption(parsed, "api");
    const rpcOption = stringOption(parsed, "rpc");
    ctx = createContext({
      io,
      lang,
      json,
      keystorePath: path.resolve(keystore),
      apiUrl: parseUrlOption(apiOption !== undefined ? "--api" : "ORIOLE_API_URL", apiOption ?? nonEmpty(io.env.ORIOLE_API_URL) ?? DEFAULT_API_URL),
      rpcUrl: parseUrlOption(rpcOption !== undefined ? "--rpc" : "ORIOLE_RPC_URL", rpcOption ?? nonEmpty(io.env.ORIOLE_RPC_URL) ?? DEFAULT_RPC_URL),
    });
    const result = await spec.run(ctx, args, parsed);
    out(result.text, result.json);
    return EXIT_OK;
  } catch (e) {
    const { code, message } = renderError(lang, e);
    if (json) io.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    else io.stderr.write(`${t(lang, "error.prefix")} [${code}]: ${message}\n`);
    if (io.env.ORIOLE_DEBUG && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return code === "usage" ? EXIT_USAGE : EXIT_ERROR;
  } finally {
    ctx?.prompter.close();
  }
}

/** The stable code and a message in `lang` for any error. */
export function renderError(lang: Lang, e: unknown): { code: string; message: string } {
  if (!(e instanceof OrioleError)) {
    const message = e instanceof Error ? e.message : String(e);
    return { code: "internal", message: t(lang, "error.internal", { message }) };
  }
  const params: Record<string, string | number | bigint> = {};
  for (const [k, v] of Object.entries(e.details)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "bigint") params[k] = v;
  }
  const id = e.code === "usage" ? e.details.usage : `error.${e.code}`;
  if (typeof id !== "string" || !hasMessage(id)) return { code: e.code, message: e.message };
  const message = t(lang, id, params);
  // A message whose placeholders the error cannot fill (e.g. a code the node sent) falls back to the error's own.
  return { code: e.code, message: /\{\w+\}/.test(message) ? e.message : message };
}
