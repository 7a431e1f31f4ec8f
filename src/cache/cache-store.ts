import type { LRUCache } from 'lru-cache';
import { GitfuncError } from '../errors.js';
import type { Clock } from '../model/clock.js';
import { boundedCache, type CacheLimits } from './bounded-cache.js';

/**
 * The store behind `DFF.CACHE` (CONTRACT section 9): string values with an optional expiry,
 * Redis semantics, one store for every worker. Async so a Redis implementation fits.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  /** Writes `value`, replacing any expiry; with `notExists`, only when the key is absent. Resolves whether it wrote. */
  set(key: string, value: string, expiresMs: number | undefined, notExists: boolean): Promise<boolean>;
  /** Adds `step` to the integer value (0 when absent), keeping its expiry unless `expiresMs` is given. */
  incr(key: string, step: number, expiresMs: number | undefined): Promise<number>;
  /** Resolves whether the key existed. */
  delete(key: string): Promise<boolean>;
}

/** A value `incr` cannot add to, or a sum past what it can hold. */
export class CacheValueError extends GitfuncError {
  constructor(message: string) {
    super('CACHE_VALUE_INVALID', message);
    this.name = 'CacheValueError';
  }
}

const INTEGER = /^-?\d+$/;

/** The CacheStore of a single server: a bounded in-memory map in the server thread. */
export class MemoryCacheStore implements CacheStore {
  private readonly map: LRUCache<string, string>;

  constructor(limits: CacheLimits, clock: Clock) {
    this.map = boundedCache(limits, clock);
  }

  async get(key: string): Promise<string | undefined> {
    return this.map.get(key);
  }

  async set(key: string, value: string, expiresMs: number | undefined, notExists: boolean): Promise<boolean> {
    if (notExists && this.map.get(key) !== undefined) return false;
    this.map.set(key, value, { ttl: expiresMs ?? 0, size: key.length + value.length });
    return true;
  }

  async incr(key: string, step: number, expiresMs: number | undefined): Promise<number> {
    const current = this.map.get(key) ?? '0';
    if (!INTEGER.test(current)) throw new CacheValueError('value is not an integer');
    const next = Number(current) + step;
    if (!Number.isSafeInteger(next)) throw new CacheValueError('increment would overflow');
    const written = String(next);
    const size = key.length + written.length;
    // Without a new expiry the key keeps its own (noUpdateTTL only applies to a key present).
    if (expiresMs === undefined) this.map.set(key, written, { size, noUpdateTTL: true });
    else this.map.set(key, written, { ttl: expiresMs, size });
    return next;
  }

  async delete(key: string): Promise<boolean> {
    return this.map.get(key) !== undefined && this.map.delete(key);
  }
}
