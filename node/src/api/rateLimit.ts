/**
 * Token buckets: `rate` requests per second, bursts up to `2 × rate`. One
 * bucket per merchant key or client IP. Buckets that refilled are forgotten
 * when the table grows, so memory stays bounded under many IPs.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #maxBuckets: number;
  readonly #now: () => number;

  constructor(opts: { perSecond: number; maxBuckets?: number; now?: () => number }) {
    this.#rate = opts.perSecond;
    this.#burst = Math.max(1, opts.perSecond * 2);
    this.#maxBuckets = opts.maxBuckets ?? 50_000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds to wait (≥ 1). */
  take(key: string): number {
    if (this.#rate <= 0) return 0;
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxBuckets) this.#prune(now);
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#rate));
  }

  #prune(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#rate >= this.#burst) this.#buckets.delete(k);
    }
    // Everyone is busy: drop the oldest half rather than grow without bound.
    if (this.#buckets.size >= this.#maxBuckets) {
      let n = Math.floor(this.#buckets.size / 2);
      for (const k of this.#buckets.keys()) {
        if (n-- <= 0) break;
        this.#buckets.delete(k);
      }
    }
  }
}
