import { isOrioleError } from "../../../client/sdk/errors.ts";
import type { Logger } from "../log.ts";
import type { StoreSublevel } from "../store/store.ts";
import { concernsMerchant, type EventSource, type MerchantRef } from "./events.ts";
import { EVENT_ID_HEADER, newWebhookSecret, SIGNATURE_HEADER, signatureHeader } from "./signature.ts";
import { OutboxFollower } from "./outboxFollower.ts";
import { checkWebhookTarget, postWebhook, redactedUrl } from "./webhookTarget.ts";

/**
 * Layout of sublevel `whk` (not derived from the chain: survives a re-index).
 *
 *   cfg!<merchantId>                         -> WebhookConfig JSON
 *   cur                                      -> last outbox seq turned into deliveries
 *   dlv!<merchantId>!<eventId>               -> Delivery JSON (one per merchant and event, ever)
 *   ord!<merchantId>!<seq:16>                -> eventId (the delivery log, newest first)
 *   due!<ms:15>!<merchantId>!<eventId>       -> "" (pending deliveries by next attempt time)
 *
 * Enqueueing writes deliveries and the cursor in one batch; each attempt's
 * outcome (record + due entries) is one batch. A crash therefore never loses
 * a delivery nor creates a second one for the same (merchant, event): at
 * worst an attempt whose outcome was not written is sent again, with the same
 * Oriole-Event-Id, which receivers use to drop duplicates.
 */
const SEQ_WIDTH = 16;
const MS_WIDTH = 15;

export interface WebhookConfig {
  url: string;
  secret: string;
  /** Only events with a greater seq are delivered (the outbox head when the URL was set). */
  fromSeq: number;
  updatedAt: string;
}

/** cancelled: the webhook was deleted before the delivery succeeded (never sent again). */
export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";

export interface DeliveryAttempt {
  at: string;
  url: string;
  /** HTTP status of the response; null when none came (network error, timeout). */
  responseStatus: number | null;
  error: string | null;
  ms: number;
}

export interface Delivery {
  merchantId: string;
  eventId: string;
  seq: number;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  /** The last attempts, newest last (at most MAX_HISTORY). */
  history: DeliveryAttempt[];
  /** The exact body sent on every attempt. */
  body: string;
}

type Op = { type: "put"; key: string; value: string } | { type: "del"; key: string };

/**
 * What became of attempts since the node started (metrics): delivered (2xx),
 * retry (failed, another attempt scheduled), failed (failed for good: the
 * retry window is over), cancelled (the webhook was deleted first).
 */
export type AttemptOutcome = "delivered" | "retry" | "failed" | "cancelled";

/** A delivery as the delivery log shows it (without the body). */
export type DeliveryView = Omit<Delivery, "body">;

export interface RetryPolicy {
  /** First retry delay. Default 5 s. */
  baseMs: number;
  /** Longest delay between attempts. Default 1 h. */
  maxMs: number;
  /** A delivery still failing this long after its event is marked failed. Default 24 h. */
  maxAgeMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 5_000, maxMs: 3_600_000, maxAgeMs: 24 * 3_600_000 };
const MAX_HISTORY = 10;

/** The merchant a webhook belongs to, by id (MerchantStore.get). */
export type MerchantById = (id: string) => Promise<MerchantRef | undefined>;

export interface WebhookServiceOptions {
  sub: StoreSublevel;
  source: EventSource;
  merchant: MerchantById;
  log: Logger;
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout. Default 10 s. */
  timeoutMs?: number;
  /** Attempts in flight at once. Default 8. */
  concurrency?: number;
  /** Outbox events read per enqueue round. Default 500. */
  pageSize?: number;
  /** Clock (tests). */
  now?: () => number;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
  /** Allow webhook URLs that reach loopback, private or link-local addresses (--allow-private-webhooks). Default false. */
  allowPrivateTargets?: boolean;
}

/** Delay before attempt `attempts + 1`: exponential, capped, with jitter in [d/2, d). */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const d = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(d / 2 + (random() * d) / 2);
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0");
const dlvKey = (merchantId: string, eventId: string): string => `dlv!${merchantId}!${eventId}`;
const ordKey = (merchantId: string, seq: number): string => `ord!${merchantId}!${pad(seq, SEQ_WIDTH)}`;
const dueKey = (at: number, merchantId: string, eventId: string): string => `due!${pad(at, MS_WIDTH)}!${merchantId}!${eventId}`;
const cfgKey = (merchantId: string): string => `cfg!${merchantId}`;

/**
 * Webhooks: turns outbox events into per-merchant deliveries and sends them,
 * signed, with retries for about a day. One loop: enqueue new events, send
 * what is due, sleep until the next due time or a notify().
 */
export class WebhookService extends OutboxFollower {
  readonly #sub: StoreSublevel;
  readonly #source: EventSource;
  readonly #merchant: MerchantById;
  readonly #log: Logger;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #pageSize: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #allowPrivate: boolean;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #outcomes: Record<AttemptOutcome, number> = { delivered: 0, retry: 0, failed: 0, cancelled: 0 };
  readonly #aborts = new Set<AbortController>();

  constructor(opts: WebhookServiceOptions) {
    const log = opts.log.child({ component: "webhooks" });
    super({ source: opts.source, cursor: { sub: opts.sub, key: "cur" }, log, errorMessage: "webhook round failed" });
    this.#sub = opts.sub;
    this.#source = opts.source;
    this.#merchant = opts.merchant;
    this.#log = log;
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#concurrency = opts.concurrency ?? 8;
    this.#pageSize = opts.pageSize ?? 500;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#allowPrivate = opts.allowPrivateTargets ?? false;
  }

  /** Aborts attempts in flight when stopped (they stay pending and are sent again after a restart). */
  protected override async stopping(roundOver: Promise<void>): Promise<void> {
    for (const a of this.#aborts) a.abort();
    await roundOver;
    await Promise.allSettled(this.#inFlight.values());
  }

  /**
   * Sets the merchant's webhook URL with a new secret (returned once). Later events go there.
   * Throws OrioleError webhook_target_forbidden / webhook_target_unresolvable (see webhookTarget.ts).
   */
  async setWebhook(merchantId: string, url: string): Promise<{ url: string; secret: string }> {
    await checkWebhookTarget(url, { allowPrivate: this.#allowPrivate });
    const config: WebhookConfig = { url, secret: newWebhookSecret(), fromSeq: await this.#source.lastEventSeq(), updatedAt: new Date(this.#now()).toISOString() };
    await this.#sub.put(cfgKey(merchantId), JSON.stringify(config));
    this.#log.info("webhook set", { merchantId, url: redactedUrl(url) });
    return { url, secret: config.secret };
  }

  /**
   * Removes the merchant's webhook; false when it had none. Its pending
   * deliveries are cancelled in the same batch (the log keeps them).
   */
  async deleteWebhook(merchantId: string): Promise<boolean> {
    if ((await this.#sub.get(cfgKey(merchantId))) === undefined) return false;
    const ops: Op[] = [{ type: "del", key: cfgKey(merchantId) }];
    for (const key of await this.#sub.keys({ gt: "due!", lt: "due!~" }).all()) {
      const [, , m, eventId] = key.split("!");
      if (m !== merchantId || eventId === undefined) continue;
      ops.push({ type: "del", key });
      const raw = await this.#sub.get(dlvKey(merchantId, eventId));
      if (raw === undefined) continue;
      const d = JSON.parse(raw) as Delivery;
      if (d.status === "pending") ops.push({ type: "put", key: dlvKey(merchantId, eventId), value: JSON.stringify({ ...d, status: "cancelled", nextAttemptAt: null } satisfies Delivery) });
    }
    await this.#sub.batch(ops);
    this.#outcomes.cancelled += ops.filter((o) => o.type === "put").length;
    this.#log.info("webhook deleted", { merchantId });
    return true;
  }

  async webhook(merchantId: string): Promise<WebhookConfig | undefined> {
    const v = await this.#sub.get(cfgKey(merchantId));
    return v === undefined ? undefined : (JSON.parse(v) as WebhookConfig);
  }

  async delivery(merchantId: string, eventId: string): Promise<Delivery | undefined> {
    const v = await this.#sub.get(dlvKey(merchantId, eventId));
    return v === undefined ? undefined : (JSON.parse(v) as Delivery);
  }

  /** The merchant's delivery log, newest event first; `before` is a seq from a previous page's `next`. */
  async deliveries(merchantId: string, opts: { limit: number; before?: number | undefined }): Promise<{ items: DeliveryView[]; next: number | null }> {
    const entries = await this.#sub
      .iterator({ reverse: true, gt: `ord!${merchantId}!`, lt: opts.before === undefined ? `ord!${merchantId}!~` : ordKey(merchantId, opts.before), limit: opts.limit + 1 })
      .all();
    const page = entries.slice(0, opts.limit);
    const records = await this.#sub.getMany(page.map(([, eventId]) => dlvKey(merchantId, eventId)));
    const items = records.filter((v): v is string => v !== undefined).map((v) => {
      const { body: _body, ...view } = JSON.parse(v) as Delivery;
      return view;
    });
    return { items, next: entries.length > opts.limit ? (items.at(-1)?.seq ?? null) : null };
  }

  /** Attempt outcomes since start, and the deliveries waiting for an attempt (metrics). */
  async metrics(): Promise<{ outcomes: Readonly<Record<AttemptOutcome, number>>; queueDepth: number }> {
    let queueDepth = 0;
    for await (const _ of this.#sub.keys({ gt: "due!", lt: "due!~" })) queueDepth++;
    return { outcomes: { ...this.#outcomes }, queueDepth };
  }

  /** Counts by status (tests; reads every record). */
  async counts(): Promise<Record<DeliveryStatus, number>> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0, cancelled: 0 };
    for await (const v of this.#sub.values({ gt: "dlv!", lt: "dlv!~" })) counts[(JSON.parse(v) as Delivery).status]++;
    return counts;
  }

  /** Enqueues new events and starts due attempts; returns how long to sleep. */
  protected override async round(): Promise<number> {
    while ((await this.#enqueue()) && this.running);
    const nextDue = await this.#dispatchDue();
    return nextDue === undefined ? 60_000 : Math.max(0, nextDue - this.#now());
  }

  /** Turns the next page of outbox events into deliveries, with the cursor, in one batch; true when it did something. */
  async #enqueue(): Promise<boolean> {
    const cur = Number((await this.#sub.get("cur")) ?? "0");
    // The outbox's head before the configs are read: a webhook set later has
    // a fromSeq at or above it, so every event up to it is judged against
    // the configs read here, and none above it is taken this round.
    const head = await this.#source.lastEventSeq();
    const configs: { merchantId: string; config: WebhookConfig; payout: string }[] = [];
    for await (const [k, v] of this.#sub.iterator({ gt: "cfg!", lt: "cfg!~" })) {
      const merchantId = k.slice("cfg!".length);
      const m = await this.#merchant(merchantId);
      if (m) configs.push({ merchantId, config: JSON.parse(v) as WebhookConfig, payout: m.payout });
    }
    // Events at or below every config's fromSeq concern no webhook: skipped
    // unread (a backfill commits thousands of events nobody subscribed to).
    const floor = Math.max(cur, Math.min(head, ...configs.map((c) => c.config.fromSeq)));
    if (floor > cur) await this.#sub.put("cur", String(floor));
    if (floor >= head) return false;
    const events = (await this.#source.eventsAfter(floor, this.#pageSize)).filter((e) => e.seq <= head);
    const last = events.at(-1);
    if (!last) return false;
    const now = this.#now();
    const candidates: Delivery[] = [];
    for (const event of events) {
      for (const { merchantId, config, payout } of configs) {
        if (event.seq <= config.fromSeq || !concernsMerchant(event, { id: merchantId, payout })) continue;
        candidates.push({
          merchantId,
          eventId: event.id,
          seq: event.seq,
          type: event.type,
          status: "pending",
          attempts: 0,
          createdAt: new Date(now).toISOString(),
          nextAttemptAt: new Date(now).toISOString(),
          deliveredAt: null,
          history: [],
          body: JSON.stringify(event),
        });
      }
    }
    // The same fact (same id) seen again, e.g. after a re-index, is not delivered a second time.
    const existing = await this.#sub.getMany(candidates.map((d) => dlvKey(d.merchantId, d.eventId)));
    const ops: { type: "put"; key: string; value: string }[] = [];
    candidates.forEach((d, i) => {
      if (existing[i] !== undefined) return;
      ops.push({ type: "put", key: dlvKey(d.merchantId, d.eventId), value: JSON.stringify(d) });
      ops.push({ type: "put", key: ordKey(d.merchantId, d.seq), value: d.eventId });
      ops.push({ type: "put", key: dueKey(now, d.merchantId, d.eventId), value: "" });
    });
    ops.push({ type: "put", key: "cur", value: String(last.seq) });
    await this.#sub.batch(ops);
    return true;
  }

  /** Starts the due attempts (up to the concurrency); returns when the next one is due, if any is pending. */
  async #dispatchDue(): Promise<number | undefined> {
    const now = this.#now();
    const due = await this.#sub.keys({ gt: "due!", lt: "due!~", limit: this.#concurrency * 4 }).all();
    let next: number | undefined;
    for (const key of due) {
      const [, at, merchantId, eventId] = key.split("!");
      if (at === undefined || merchantId === undefined || eventId === undefined) continue;
      const atMs = Number(at);
      if (atMs > now) {
        next = atMs;
        break;
      }
      if (this.#inFlight.has(key)) continue;
      if (this.#inFlight.size >= this.#concurrency) break;
      const p = this.#attempt(key, merchantId, eventId)
        .catch((e: unknown) => {
          this.#log.error("webhook attempt failed to record", { merchantId, eventId, error: e });
        })
        .finally(() => {
          this.#inFlight.delete(key);
          this.notify();
        });
      this.#inFlight.set(key, p);
    }
    return next;
  }

  async #attempt(key: string, merchantId: string, eventId: string): Promise<void> {
    const raw = await this.#sub.get(dlvKey(merchantId, eventId));
    const delivery = raw === undefined ? undefined : (JSON.parse(raw) as Delivery);
    const config = await this.webhook(merchantId);
    if (delivery?.status !== "pending" || !config) {
      // Nothing to send: already done, or the webhook was deleted (while an attempt was in flight): cancelled.
      const ops: Op[] = [{ type: "del", key }];
      if (delivery?.status === "pending") ops.push({ type: "put", key: dlvKey(merchantId, eventId), value: JSON.stringify({ ...delivery, status: "cancelled", nextAttemptAt: null } satisfies Delivery) });
      await this.#sub.batch(ops);
      if (delivery?.status === "pending") this.#outcomes.cancelled++;
      return;
    }
    const started = this.#now();
    const t0 = performance.now();
    const abort = new AbortController();
    this.#aborts.add(abort);
    const timer = setTimeout(() => {
      abort.abort(new Error(`timeout after ${this.#timeoutMs.toString()} ms`));
    }, this.#timeoutMs);
    let responseStatus: number | null = null;
    let error: string | null = null;
    try {
      const headers = {
        "content-type": "application/json",
        "user-agent": "Oriole-Webhooks/1",
        [EVENT_ID_HEADER]: eventId,
        [SIGNATURE_HEADER]: signatureHeader(config.secret, Math.floor(started / 1000), delivery.body),
      };
      // Checked again at each delivery: the URL's name may resolve elsewhere now.
      responseStatus = await postWebhook(config.url, headers, delivery.body, { signal: abort.signal, allowPrivate: this.#allowPrivate });
      if (responseStatus < 200 || responseStatus >= 300) error = `HTTP ${responseStatus.toString()}`;
    } catch (e) {
      error = abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason.message : errorMessage(e);
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(abort);
    }
    // Stopping mid-attempt: record nothing; the delivery stays due and is sent again (same id).
    if (!this.running) return;
    const ms = Math.round(performance.now() - t0);
    const now = this.#now();
    const attempts = delivery.attempts + 1;
    const history = [...delivery.history, { at: new Date(started).toISOString(), url: config.url, responseStatus, error, ms }].slice(-MAX_HISTORY);
    const ops: Op[] = [{ type: "del", key }];
    let updated: Delivery;
    let outcome: AttemptOutcome;
    if (error === null) {
      outcome = "delivered";
      updated = { ...delivery, status: "delivered", attempts, history, nextAttemptAt: null, deliveredAt: new Date(now).toISOString() };
    } else {
      const nextAt = now + retryDelayMs(attempts, this.#retry, this.#random);
      if (nextAt - Date.parse(delivery.createdAt) > this.#retry.maxAgeMs) {
        outcome = "failed";
        updated = { ...delivery, status: "failed", attempts, history, nextAttemptAt: null };
        this.#log.warn("webhook delivery failed for good", { merchantId, eventId, attempts });
      } else {
        outcome = "retry";
        updated = { ...delivery, attempts, history, nextAttemptAt: new Date(nextAt).toISOString() };
        ops.push({ type: "put", key: dueKey(nextAt, merchantId, eventId), value: "" });
      }
    }
    ops.push({ type: "put", key: dlvKey(merchantId, eventId), value: JSON.stringify(updated) });
    await this.#sub.batch(ops);
    this.#outcomes[outcome]++;
  }
}

function errorMessage(e: unknown): string {
  if (isOrioleError(e)) return `${e.code}: ${e.message}`;
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}
