// A test file's own corner of the Redis at 127.0.0.1:6379: a unique key prefix, and every key
// under it removed at the end (SCAN + UNLINK; never FLUSHDB, other tests share the server).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** `gitfunc-test:<name>:<random>:`, unique per run. */
export function testKeyPrefix(name: string): string {
  return `gitfunc-test:${name}:${randomBytes(6).toString('hex')}:`;
}

/** Removes every key starting with `prefix`. */
export async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A client for the test file, its keys under a fresh prefix removed and the client closed at teardown. */
export function testRedis(t: { teardown(fn: () => Promise<void>): void }, name: string): { redis: Redis; prefix: string } {
  const redis = new Redis(REDIS_URL);
  const prefix = testKeyPrefix(name);
  t.teardown(async () => {
    await removeKeys(redis, prefix);
    await redis.quit();
  });
  return { redis, prefix };
}
