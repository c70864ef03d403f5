import type { Logger } from "../log.ts";
import type { StoreSublevel } from "../store/store.ts";
import type { EventSource } from "./events.ts";
import { WakeableLoop } from "./wakeableLoop.ts";

export interface OutboxFollowerOptions {
  source: EventSource;
  /** Where the follower keeps its cursor: the seq of the last outbox event it has taken. */
  cursor: { sub: StoreSublevel; key: string };
  log: Logger;
  /** Logged (with the error) when a round throws. */
  errorMessage: string;
}

/**
 * A background follower of the events outbox (webhooks, the status watchers):
 * its cursor in the store, and a {@link WakeableLoop} running its rounds.
 * Subclasses do the work in `round()`, and may hook `started()` and
 * `stopping()`.
 */
export abstract class OutboxFollower {
  readonly #source: EventSource;
  readonly #cursor: { sub: StoreSublevel; key: string };
  readonly #loop: WakeableLoop;

  protected constructor(opts: OutboxFollowerOptions) {
    this.#source = opts.source;
    this.#cursor = opts.cursor;
    this.#loop = new WakeableLoop({ round: () => this.round(), log: opts.log, errorMessage: opts.errorMessage });
  }

  /**
   * Starts following: a fresh store starts at the outbox head (only events
   * after the start count), and so does a cursor past the head (the outbox was
   * wiped under it: a chain reset).
   */
  async start(): Promise<void> {
    const head = await this.#source.lastEventSeq();
    const cur = await this.#cursor.sub.get(this.#cursor.key);
    if (cur === undefined || Number(cur) > head) await this.#cursor.sub.put(this.#cursor.key, String(head));
    this.started();
    this.#loop.start();
  }

  get running(): boolean {
    return this.#loop.running;
  }

  /** New events were committed, or work became due: run a round now (or right after the current one). */
  notify(): void {
    this.#loop.notify();
  }

  /** Stops the loop; resolves once the current round (and what `stopping()` waits for) is over. */
  async stop(): Promise<void> {
    if (!this.#loop.running) return;
    await this.stopping(this.#loop.stop());
  }

  /** One round of work; returns how long to sleep before the next one unless notify() comes first. */
  protected abstract round(): Promise<number>;

  /** Hook: the cursor is set, the loop is about to start. */
  protected started(): void {}

  /** Hook: the loop is marked stopped (no new round starts); `roundOver` resolves when the current one is over. */
  protected async stopping(roundOver: Promise<void>): Promise<void> {
    await roundOver;
  }
}
