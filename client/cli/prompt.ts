import { createInterface, type Interface } from "node:readline";
import { OrioleError } from "../sdk/errors.ts";

/** The terminal side of stdin, as far as prompting needs it. */
export interface PromptInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface PromptOutput {
  write(s: string): unknown;
}

/**
 * Asks for secrets (PINs, private keys). On a terminal the answer is read in
 * raw mode and never echoed. When stdin is not a terminal (a pipe), each
 * question takes the next line of stdin, so scripts can feed answers.
 * Returns null when there is no answer (end of input).
 */
export interface Prompter {
  secret(question: string): Promise<string | null>;
  close(): void;
}

export function createPrompter(input: PromptInput, output: PromptOutput): Prompter {
  let lines: AsyncIterator<string> | undefined;
  let rl: Interface | undefined;
  return {
    async secret(question) {
      if (input.isTTY && input.setRawMode) return readHidden(input, output, question);
      if (!lines) {
        rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
        lines = rl[Symbol.asyncIterator]();
      }
      const next = await lines.next();
      return next.done ? null : next.value;
    },
    close() {
      rl?.close();
      input.pause();
    },
  };
}

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const CTRL_U = "\u0015";
const ESC = "\u001b";
const BACKSPACE = new Set(["\u007f", "\b"]);

/** Reads one line from a terminal in raw mode without echoing it. */
export function readHidden(input: PromptInput, output: PromptOutput, question: string): Promise<string | null> {
  output.write(question);
  input.setRawMode?.(true);
  input.setEncoding("utf8");
  input.resume();
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    let escape: "none" | "start" | "sequence" = "none";
    const finish = () => {
      input.removeListener("data", onData);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        // Skip terminal escape sequences (arrow keys and the like).
        if (escape === "start") {
          escape = ch === "[" || ch === "O" ? "sequence" : "none";
          continue;
        }
        if (escape === "sequence") {
          if (ch >= "@" && ch <= "~") escape = "none";
          continue;
        }
        if (ch === ESC) {
          escape = "start";
        } else if (ch === "\r" || ch === "\n") {
          finish();
          resolve(chars.join(""));
          return;
        } else if (ch === CTRL_C) {
          finish();
          reject(new OrioleError("cancelled", "cancelled"));
          return;
        } else if (ch === CTRL_D) {
          if (chars.length === 0) {
            finish();
            resolve(null);
            return;
          }
        } else if (BACKSPACE.has(ch)) {
          chars = chars.slice(0, -1);
        } else if (ch === CTRL_U) {
          chars = [];
        } else if (ch >= " ") {
          chars.push(ch);
        }
      }
    };
    input.on("data", onData);
  });
}
