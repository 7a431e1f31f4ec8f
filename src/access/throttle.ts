/**
 * Per-API call limits (`throttling` in the manifest, CONTRACT section 5: 429.46). Windows are
 * fixed and aligned to the epoch (a minute window starts at :00), as counters in Redis would be
 * (INCR + EXPIRE), so a Redis store can replace the in-memory one for several servers.
 */
import type { Throttling } from '../manifest/index.js';

/** At most `max` calls per window of `windowMs`. */
export interface ThrottleLimit {
  /** The manifest field, for messages: `bySecond`, `byMinute`, ... */
  name: keyof Throttling;
  windowMs: number;
  max: number;
}

/** Counts calls per key and window. */
export interface ThrottleStore {
  /**
   * Counts one call of `key` against every limit, unless a limit is full: then nothing is
   * counted and the answer names that limit and the ms until its window ends.
   */
  take(key: string, limits: readonly ThrottleLimit[], nowMs: number): Promise<ThrottleRefusal | undefined>;
}

/** Why a call was refused: the full limit and when a slot frees. */
export interface ThrottleRefusal {
  limit: ThrottleLimit;
  retryAfterMs: number;
}

const WINDOW_MS: Readonly<Record<keyof Throttling, number>> = Object.freeze({
  bySecond: 1000,
  byMinute: 60_000,
  byHour: 3_600_000,
  byDay: 86_400_000,
});

/** The limits of a manifest `throttling`, or undefined when it sets none. */
export function throttleLimits(throttling: Throttling | undefined): ThrottleLimit[] | undefined {
  if (throttling === undefined) return undefined;
  const limits: ThrottleLimit[] = [];
  for (const name of Object.keys(WINDOW_MS) as (keyof Throttling)[]) {
    const max = throttling[name];
    if (max !== undefined) limits.push({ name, windowMs: WINDOW_MS[name], max });
  }
  return limits.length > 0 ? limits : undefined;
}

/** Counters of one server's memory: enough for a single replica. */
export class MemoryThrottleStore implements ThrottleStore {
  /** `key|windowMs` -> the window's start and the calls counted in it. */
  private readonly windows = new Map<string, { start: number; count: number }>();

  take(key: string, limits: readonly ThrottleLimit[], nowMs: number): Promise<ThrottleRefusal | undefined> {
    return Promise.resolve(this.takeNow(key, limits, nowMs));
  }

  private takeNow(key: string, limits: readonly ThrottleLimit[], nowMs: number): ThrottleRefusal | undefined {
    const counters = limits.map((limit) => {
      const start = nowMs - (nowMs % limit.windowMs);
      const id = `${key}|${limit.windowMs}`;
      let counter = this.windows.get(id);
      if (counter === undefined || counter.start !== start) {
        counter = { start, count: 0 };
        this.windows.set(id, counter);
      }
      return { limit, counter };
    });
    // A call refused by one window is not counted in the others: it did not run.
    let refusal: ThrottleRefusal | undefined;
    for (const { limit, counter } of counters) {
      if (counter.count < limit.max) continue;
      const retryAfterMs = counter.start + limit.windowMs - nowMs;
      if (refusal === undefined || retryAfterMs > refusal.retryAfterMs) refusal = { limit, retryAfterMs };
    }
    if (refusal === undefined) for (const { counter } of counters) counter.count += 1;
    return refusal;
  }
}
