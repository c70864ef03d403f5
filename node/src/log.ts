/**
 * JSON logs: one object per line on stdout (or any sink), with a timestamp,
 * a level and a short `msg`. Never pass secrets: URLs that may carry API keys
 * go through `redactUrl` first.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Receives each line, newline included. Default: process.stdout. */
  write?: (line: string) => void;
  fields?: LogFields;
}

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(LEVELS, s);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => void process.stdout.write(line));
  const base = opts.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < min) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, jsonSafe)}\n`);
  };
  return {
    debug: (m, f) => {
      emit("debug", m, f);
    },
    info: (m, f) => {
      emit("info", m, f);
    },
    warn: (m, f) => {
      emit("warn", m, f);
    },
    error: (m, f) => {
      emit("error", m, f);
    },
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = createLogger({ write: () => {} });

/** bigint as a decimal string and errors as {name, message, code} so every line stays valid JSON. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}
