import type { Logger } from "../log.ts";

export interface WakeableLoopOptions {
  /** One round of work; returns how long to sleep before the next one unless notify() comes first. */
  round: () => Promise<number>;
  log: Logger;
  /** Logged (with the error) when a round throws; the loop then retries after ERROR_RETRY_MS. */
  errorMessage: string;
}

const ERROR_RETRY_MS = 1000;

/**
 * A background loop for the outbox followers (webhooks, status watchers):
 * runs rounds until stopped, sleeping between them until the round's delay
 * is over or notify() is called. A notify() that comes during a round makes
 * the next round start at once, so a wake-up is never lost.
 */
export class WakeableLoop {
  readonly #round: () => Promise<number>;
  readonly #log: Logger;
  readonly #errorMessage: string;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #pokes = 0;

  constructor(opts: WakeableLoopOptions) {
    this.#round = opts.round;
    this.#log = opts.log;
    this.#errorMessage = opts.errorMessage;
  }

  get running(): boolean {
    return !this.#stopped;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Runs a round now (or right after the current one). */
  notify(): void {
    this.#pokes++;
    this.#wake?.();
  }

  /** Marks the loop stopped at once (synchronously) and resolves when the current round is over. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const pokes = this.#pokes;
      let waitMs: number;
      try {
        waitMs = await this.#round();
      } catch (e) {
        this.#log.error(this.#errorMessage, { error: e });
        waitMs = ERROR_RETRY_MS;
      }
      if (!this.running || pokes !== this.#pokes) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
