import type { Redis } from 'ioredis';
import type { CachedResult, ResultCache } from '../cache/result-cache.js';

/** `cache_result` shared by every replica: each result as JSON, expiring with its TTL. */
export class RedisResultCache implements ResultCache {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(key: string): Promise<CachedResult | undefined> {
    const json = await this.redis.get(this.keyOf(key));
    return json === null ? undefined : (JSON.parse(json) as CachedResult);
  }

  async set(key: string, result: CachedResult, ttlMs: number): Promise<void> {
    await this.redis.set(this.keyOf(key), JSON.stringify({ kind: result.kind, body: result.body }), 'PX', ttlMs);
  }

  private keyOf(key: string): string {
    return `${this.keyPrefix}result:${key}`;
  }
}
