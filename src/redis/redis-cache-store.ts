import type { Redis } from 'ioredis';
import { CacheValueError, type CacheStore } from '../cache/cache-store.js';
import { LuaScript } from './lua-script.js';

/**
 * INCR with the in-memory store's rules rather than Redis' own: a value is an integer when it
 * matches -?digits (leading zeros allowed), and a sum must stay a JS safe integer. The expiry is
 * kept (KEEPTTL) unless a new one is given. Errors come back as replies naming the problem (Redis puts 'ERR ' before them).
 */
const INCR = new LuaScript(`
local current = redis.call('GET', KEYS[1]) or '0'
if not string.match(current, '^-?%d+$') then return redis.error_reply('CACHE_NOT_INTEGER') end
local next = tonumber(current) + tonumber(ARGV[1])
if next > 9007199254740991 or next < -9007199254740991 then return redis.error_reply('CACHE_OVERFLOW') end
local written = string.format('%.0f', next)
if ARGV[2] == '' then redis.call('SET', KEYS[1], written, 'KEEPTTL')
else redis.call('SET', KEYS[1], written, 'PX', ARGV[2]) end
return written
`);

/** DFF.CACHE shared by every replica: one Redis string per key. */
export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.keyOf(key))) ?? undefined;
  }

  async set(key: string, value: string, expiresMs: number | undefined, notExists: boolean): Promise<boolean> {
    const id = this.keyOf(key);
    let reply: string | null;
    if (expiresMs === undefined) reply = notExists ? await this.redis.set(id, value, 'NX') : await this.redis.set(id, value);
    else reply = notExists ? await this.redis.set(id, value, 'PX', expiresMs, 'NX') : await this.redis.set(id, value, 'PX', expiresMs);
    return reply === 'OK';
  }

  async incr(key: string, step: number, expiresMs: number | undefined): Promise<number> {
    try {
      return Number(await INCR.run(this.redis, [this.keyOf(key)], [step, expiresMs ?? '']));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      if (error.message.includes('CACHE_NOT_INTEGER')) throw new CacheValueError('value is not an integer');
      if (error.message.includes('CACHE_OVERFLOW')) throw new CacheValueError('increment would overflow');
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.keyOf(key))) === 1;
  }

  private keyOf(key: string): string {
    return `${this.keyPrefix}cache:${key}`;
  }
}
