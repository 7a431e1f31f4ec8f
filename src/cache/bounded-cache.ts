import { LRUCache } from 'lru-cache';
import type { Clock } from '../model/clock.js';

/** Bounds of an in-memory cache: beyond either, the least recently used entries go first. */
export interface CacheLimits {
  maxEntries: number;
  /** Sum of the sizes given to `set`. */
  maxSize: number;
}

/**
 * An in-memory cache (lru-cache) bounded in count and total size, whose entries may carry a TTL
 * (`set(key, value, { ttl, size })`; no ttl: never expires). Expired entries are dropped when
 * read, or when the bounds evict them. Time comes from `clock` on every check (ttlResolution 0:
 * no timer per read, and tests can move time). As in Redis, an entry lives through the last
 * millisecond of its TTL. lru-cache reads a start time of 0 as "no TTL": a test clock must not
 * start at 0.
 */
export function boundedCache<V extends {}>(limits: CacheLimits, clock: Clock, maxEntrySize?: number): LRUCache<string, V> {
  return new LRUCache<string, V>({
    max: limits.maxEntries,
    maxSize: limits.maxSize,
    ...(maxEntrySize === undefined ? {} : { maxEntrySize }),
    perf: clock,
    ttlResolution: 0,
  });
}
