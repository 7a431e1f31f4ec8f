import type { LRUCache } from 'lru-cache';
import { configure } from 'safe-stable-stringify';
import type { Clock } from '../model/clock.js';
import type { Invocation } from '../model/invocation.js';
import { boundedCache, type CacheLimits } from './bounded-cache.js';

/** A successful result kept by `cache_result` (CONTRACT section 2). */
export interface CachedResult {
  kind: 'json' | 'text' | 'response';
  body: string;
}

/** Where `cache_result` keeps results; async so a Redis implementation fits. */
export interface ResultCache {
  get(key: string): Promise<CachedResult | undefined>;
  set(key: string, result: CachedResult, ttlMs: number): Promise<void>;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same call. */
const canonicalJson = configure({ deterministic: true });

/** The cache key of a call: its commit (a new commit never serves an old result), function, return type and kwargs. */
export function resultCacheKey(commit: string, call: Invocation): string {
  return `${commit}\n${call.funcId}\n${call.returnType}\n${canonicalJson(call.kwargs)}`;
}

/** The ResultCache of a single server: bounded, in memory; a result larger than `maxSize / 64` is not kept. */
export class MemoryResultCache implements ResultCache {
  private readonly map: LRUCache<string, CachedResult>;

  constructor(limits: CacheLimits, clock: Clock) {
    this.map = boundedCache(limits, clock, Math.floor(limits.maxSize / 64));
  }

  async get(key: string): Promise<CachedResult | undefined> {
    return this.map.get(key);
  }

  async set(key: string, result: CachedResult, ttlMs: number): Promise<void> {
    // lru-cache keeps nothing larger than maxEntrySize.
    this.map.set(key, result, { ttl: ttlMs, size: key.length + result.body.length });
  }
}
