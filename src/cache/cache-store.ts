import { GitfuncError } from '../errors.js';
import type { Clock } from '../schedule/fire-times.js';
import { TtlMap, type TtlMapLimits } from './ttl-map.js';

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
  private readonly map: TtlMap<string>;

  constructor(
    limits: TtlMapLimits,
    private readonly clock: Clock,
  ) {
    this.map = new TtlMap(limits, clock);
  }

  async get(key: string): Promise<string | undefined> {
    return this.map.get(key);
  }

  async set(key: string, value: string, expiresMs: number | undefined, notExists: boolean): Promise<boolean> {
    if (notExists && this.map.get(key) !== undefined) return false;
    this.write(key, value, this.expiry(expiresMs));
    return true;
  }

  async incr(key: string, step: number, expiresMs: number | undefined): Promise<number> {
    const current = this.map.get(key) ?? '0';
    if (!INTEGER.test(current)) throw new CacheValueError('value is not an integer');
    const next = Number(current) + step;
    if (!Number.isSafeInteger(next)) throw new CacheValueError('increment would overflow');
    const expiresAt = expiresMs === undefined ? this.map.expiresAt(key) : this.expiry(expiresMs);
    this.write(key, String(next), expiresAt);
    return next;
  }

  async delete(key: string): Promise<boolean> {
    return this.map.get(key) !== undefined && this.map.delete(key);
  }

  private expiry(expiresMs: number | undefined): number | undefined {
    return expiresMs === undefined ? undefined : this.clock.now() + expiresMs;
  }

  private write(key: string, value: string, expiresAt: number | undefined): void {
    this.map.set(key, value, expiresAt, key.length + value.length);
  }
}
