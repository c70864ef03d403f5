import { OrioleError } from "../sdk/errors.ts";
import { t, type MessageId } from "../sdk/i18n.ts";

/**
 * A small command-line parser. Unlike node:util parseArgs it treats
 * negative-number-looking words ("-5", "-.5") as arguments, so that
 * `oriole pay <to> -5 USD` is reported as an invalid amount rather than an
 * unknown option; and it never echoes an option that looks like a key.
 */

export type OptionType = "string" | "boolean";

export interface OptionSpec {
  readonly type: OptionType;
  readonly short?: string;
}

export interface ParsedArgv {
  positionals: string[];
  values: Map<string, string | boolean>;
  /** Unknown options as shown in messages; only filled with `allowUnknown` (otherwise they throw). */
  unknown: string[];
}

/** A usage error: code `usage`, rendered from the catalog message `id` (the error's own message is the English one). */
export function usageError(id: MessageId, params: Record<string, string | number> = {}): OrioleError {
  return new OrioleError("usage", t("en", id, params), { usage: id, ...params });
}

const NUMBER_LIKE = /^-\.?\d/;
const KEY_OPTION = /^(private-?key|priv-?key|pk|key|secret)$/i;

/** `oriole --help`, or `oriole <command> --help` for a command or group (e.g. "wallet create", "wallet"). */
export function unknownOptionError(option: string, command?: string): OrioleError {
  return usageError("usage.unknownOption", { option, command: command ?? "oriole", help: command === undefined ? "oriole --help" : `oriole ${command} --help` });
}

/**
 * Parses `argv`. With `allowUnknown`, an unknown option is collected (as a flag: it takes no value) instead of
 * thrown, so that the caller can first find which command it was given to and point at that command's help.
 */
export function parseArgv(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>, opts: { command?: string; allowUnknown?: boolean } = {}): ParsedArgv {
  const positionals: string[] = [];
  const values = new Map<string, string | boolean>();
  const unknown: string[] = [];
  const unknownOption = (arg: string): void => {
    if (opts.allowUnknown !== true) throw unknownOptionError(shown(arg), opts.command);
    unknown.push(shown(arg));
  };
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) if (spec.short) byShort.set(spec.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-") || NUMBER_LIKE.test(arg)) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const long = arg.length === 2 ? byShort.get(arg.slice(1)) : undefined;
      if (long === undefined) {
        unknownOption(arg);
        continue;
      }
      name = long;
    }
    if (KEY_OPTION.test(name)) throw usageError("usage.privateKeyArgument", {});
    const spec = options[name];
    if (!spec) {
      unknownOption(`--${name}`);
      continue;
    }
    if (spec.type === "boolean") {
      if (inline !== undefined) throw usageError("usage.unexpectedValue", { option: `--${name}` });
      values.set(name, true);
    } else {
      let value = inline;
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith("--") && next.length > 2)) throw usageError("usage.missingValue", { option: `--${name}` });
        value = next;
        i++;
      }
      values.set(name, value);
    }
  }
  return { positionals, values, unknown };
}

/** Long words are cut in messages: whatever was mistyped there is not worth echoing in full. */
function shown(arg: string): string {
  if (/[0-9a-fA-F]{64}/.test(arg)) return "<64 hex digits, not shown>";
  return arg.length <= 32 ? arg : `${arg.slice(0, 12)}…`;
}

export function stringOption(p: ParsedArgv, name: string): string | undefined {
  const v = p.values.get(name);
  return typeof v === "string" ? v : undefined;
}

export function flag(p: ParsedArgv, name: string): boolean {
  return p.values.get(name) === true;
}
