import type { Redis } from 'ioredis';
import type { ScriptStore } from '../tasks/script-store.js';
import { LuaScript } from './lua-script.js';

/**
 * Writes an entry (KEYS[1]) and its place in the scope's index (KEYS[2], a sorted set of keys
 * scored by expiry time in Redis' clock, +inf for none), after dropping index members already
 * expired. ARGV: the key, the JSON text, the TTL in ms ('' for none), 'NX' for notExists.
 * Returns 1 when it wrote.
 */
const SET = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local args = { 'SET', KEYS[1], ARGV[2] }
if ARGV[3] ~= '' then table.insert(args, 'PX'); table.insert(args, ARGV[3]) end
if ARGV[4] == 'NX' then table.insert(args, 'NX') end
local written = redis.call(unpack(args))
if not written then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3] == '' and '+inf' or string.format('%.0f', now + tonumber(ARGV[3])), ARGV[1])
return 1
`);

/** The scope's live keys: the index members whose expiry is still ahead. */
const LIVE_KEYS = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%.0f', now), '+inf')
`);

/** Deletes an entry and its index member; returns whether the entry was live. */
const DELETE = new LuaScript(`
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
`);

/**
 * DFF.STORE shared by every replica: each entry one Redis string expiring by its own TTL (so in
 * Redis' clock, the same for every replica), plus a sorted set per scope for `keys`. `keys`
 * matches DFF's wildcards in JS, as the SQLite store's GLOB does: by characters, not the bytes
 * Redis' MATCH counts, and with `[`, `]` and `\` as themselves.
 */
export class RedisScriptStore implements ScriptStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(scope: string, key: string): Promise<string | undefined> {
    return (await this.redis.get(this.entryKey(scope, key))) ?? undefined;
  }

  async mget(scope: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys.map((key) => this.entryKey(scope, key)));
    return values.map((value) => value ?? undefined);
  }

  async set(scope: string, key: string, valueJson: string, ttlMs: number | undefined, notExists: boolean): Promise<boolean> {
    const keys = [this.entryKey(scope, key), this.indexKey(scope)];
    return (await SET.run(this.redis, keys, [key, valueJson, ttlMs ?? '', notExists ? 'NX' : ''])) === 1;
  }

  async keys(scope: string, pattern: string): Promise<string[]> {
    const live = (await LIVE_KEYS.run(this.redis, [this.indexKey(scope)], [])) as string[];
    const matcher = wildcardRegExp(pattern);
    return live.filter((key) => matcher.test(key)).sort(byUtf8Bytes);
  }

  async delete(scope: string, key: string): Promise<boolean> {
    return (await DELETE.run(this.redis, [this.entryKey(scope, key), this.indexKey(scope)], [key])) === 1;
  }

  // A scope is URI-encoded, so its ':' cannot be mistaken for the separator before the key.
  private entryKey(scope: string, key: string): string {
    return `${this.keyPrefix}store:${encodeURIComponent(scope)}:${key}`;
  }

  private indexKey(scope: string): string {
    return `${this.keyPrefix}store-keys:${encodeURIComponent(scope)}`;
  }
}

/** DFF's `*` (any run of characters) and `?` (one character) as an anchored RegExp; everything else literal. */
function wildcardRegExp(pattern: string): RegExp {
  const source = Array.from(pattern, (char) => {
    if (char === '*') return '.*';
    if (char === '?') return '.';
    return char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }).join('');
  return new RegExp(`^${source}$`, 'su');
}

/** SQLite's ORDER BY on text: by the UTF-8 bytes. */
function byUtf8Bytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
