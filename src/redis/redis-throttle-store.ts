import type { Redis } from 'ioredis';
import type { ThrottleLimit, ThrottleRefusal, ThrottleStore } from '../access/throttle.js';
import { LuaScript } from './lua-script.js';

/**
 * Every limit checked, then every counter incremented, in one step: KEYS are the counters of
 * the current windows, ARGV per limit its max and the ms until its window ends. A full limit
 * counts nothing anywhere; the answer is the full limit (1-based) whose window ends last, and
 * that wait. A counter expires when its window ends (a window's start is in its key, so replicas
 * whose clocks differ slightly still share it).
 */
const TAKE = new LuaScript(`
local refused, wait = 0, -1
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  local left = tonumber(ARGV[2 * i])
  if count >= tonumber(ARGV[2 * i - 1]) and left > wait then refused, wait = i, left end
end
if refused > 0 then return { refused, wait } end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return false
`);

/** Throttling counters shared by every replica: fixed windows aligned to the epoch, as MemoryThrottleStore has them. */
export class RedisThrottleStore implements ThrottleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async take(key: string, limits: readonly ThrottleLimit[], nowMs: number): Promise<ThrottleRefusal | undefined> {
    const keys: string[] = [];
    const args: number[] = [];
    for (const limit of limits) {
      const start = nowMs - (nowMs % limit.windowMs);
      keys.push(`${this.keyPrefix}throttle:${limit.windowMs}:${start}:${key}`);
      args.push(limit.max, start + limit.windowMs - nowMs);
    }
    const refused = (await TAKE.run(this.redis, keys, args)) as [number, number] | null;
    if (refused === null) return undefined;
    const [index, retryAfterMs] = refused;
    return { limit: limits[index - 1], retryAfterMs };
  }
}
