import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * A Lua script of `src/redis/lua/`, run atomically by Redis: by its SHA1 (EVALSHA), sent
 * whole only when this Redis has not seen it yet (after a restart or on a new server).
 * Scripts build their keys from a prefix argument, so they need one Redis node holding them
 * all (a single Redis, or a primary with replicas), not a cluster.
 */
export class LuaScript {
  private readonly source: string;
  private readonly sha1: string;

  constructor(fileName: string) {
    this.source = readFileSync(new URL(`./lua/${fileName}`, import.meta.url), 'utf8');
    this.sha1 = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: Redis, args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha1, 0, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.source, 0, ...args);
    }
  }
}
