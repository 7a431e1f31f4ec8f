import type { Redis } from 'ioredis';
import type { CronFireLedger } from '../tasks/ports.js';
import { LuaScript } from './lua-script.js';

/**
 * Claims a fire: its time added to the job's sorted set (KEYS[1]) only when absent (ZADD NX),
 * and the job named in the set of jobs (KEYS[2]). Returns 1 for the one claim that added it.
 */
const CLAIM = new LuaScript(`
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[2]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`);

/**
 * For every job (members of KEYS[1], whose fires are under ARGV[1] .. job id), removes fires
 * scheduled before ARGV[2] except the job's latest. Returns how many it removed.
 */
const PRUNE = new LuaScript(`
local removed = 0
for _, job in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fires = ARGV[1] .. job
  local latest = redis.call('ZRANGE', fires, -1, -1, 'WITHSCORES')[2]
  if latest then
    local bound = math.min(tonumber(latest), tonumber(ARGV[2]))
    removed = removed + redis.call('ZREMRANGEBYSCORE', fires, '-inf', '(' .. string.format('%.0f', bound))
  end
end
return removed
`);

/**
 * Cron fires shared by every replica, as the SQLite ledger keeps them: per job a sorted set of
 * its claimed scheduled times (ZADD NX: exactly one replica fires each), whose last member is
 * the job's latest fire; `prune` trims every job's set but its latest.
 */
export class RedisCronLedger implements CronFireLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async claim(jobId: string, scheduledAt: number, _taskId: string): Promise<boolean> {
    return (await CLAIM.run(this.redis, [this.firesKey(jobId), this.jobsKey()], [jobId, scheduledAt])) === 1;
  }

  async lastFire(jobId: string): Promise<number | undefined> {
    const [latest] = await this.redis.zrange(this.firesKey(jobId), -1, -1);
    return latest === undefined ? undefined : Number(latest);
  }

  async prune(before: number): Promise<number> {
    return (await PRUNE.run(this.redis, [this.jobsKey()], [this.firesKey(''), before])) as number;
  }

  private firesKey(jobId: string): string {
    return `${this.keyPrefix}cron-fires:${jobId}`;
  }

  private jobsKey(): string {
    return `${this.keyPrefix}cron-jobs`;
  }
}
