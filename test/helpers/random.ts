import { randomInt } from "node:crypto";

/** A seeded pseudo-random source in [0, 1) (mulberry32): the same seed replays the same run. */
export interface SeededRandom {
  readonly seed: number;
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
}

/** Seeded from `envVar` when set (to replay a failure), else from a fresh random seed; tests print the seed. */
export function seededRandom(envVar: string): SeededRandom {
  const fromEnv = process.env[envVar];
  const seed = fromEnv !== undefined && /^\d{1,10}$/.test(fromEnv) ? Number(fromEnv) >>> 0 : randomInt(2 ** 31);
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
