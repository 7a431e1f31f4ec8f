// The Redis implementations of the storage ports (issue 17) against the single-server ones:
// the same cases run on both (DFF.CACHE, cache_result, throttling, DFF.STORE, the cron fire
// ledger), then what only a shared store must hold: atomicity across three clients.
// Redis at 127.0.0.1:6379, every key under this file's own prefix, deleted at the end.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import t from 'tap';
import type { Throttling } from '../src/manifest/index.js';
import { type ThrottleLimit, type ThrottleStore, MemoryThrottleStore, throttleLimits } from '../src/access/throttle.js';
import { type CacheStore, MemoryCacheStore } from '../src/cache/cache-store.js';
import { type ResultCache, MemoryResultCache } from '../src/cache/result-cache.js';
import { systemClock } from '../src/model/clock.js';
import { LuaScript } from '../src/redis/lua-script.js';
import { RedisCacheStore } from '../src/redis/redis-cache-store.js';
import { RedisCronLedger } from '../src/redis/redis-cron-ledger.js';
import { RedisResultCache } from '../src/redis/redis-result-cache.js';
import { RedisScriptStore } from '../src/redis/redis-script-store.js';
import { RedisThrottleStore } from '../src/redis/redis-throttle-store.js';
import type { CronFireLedger } from '../src/tasks/ports.js';
import type { ScriptStore } from '../src/tasks/script-store.js';
import { removeKeys } from './helpers/redis-test-keys.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';

const RUN = randomUUID();
const PREFIX = `gitfunc-test:shared-stores:${RUN}:`;
/** Three connections, as three replicas would have. */
const clients = [0, 1, 2].map(() => new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true }));
await Promise.all(clients.map((client) => client.connect()));
const redis = clients[0]!;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-shared-stores-'));
const sqlite = openSqliteStorage(dataDir);

t.teardown(async () => {
  await removeKeys(redis, PREFIX);
  await Promise.all(clients.map((client) => client.quit()));
  await sqlite.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Stores {
  cache: CacheStore;
  results: ResultCache;
  throttle: ThrottleStore;
  scripts: ScriptStore;
  ledger: CronFireLedger;
}

const limits = { maxEntries: 10_000, maxSize: 10_000_000 };
const implementations: [string, Stores][] = [
  [
    'single server (memory, SQLite)',
    {
      cache: new MemoryCacheStore(limits, systemClock),
      results: new MemoryResultCache(limits, systemClock),
      throttle: new MemoryThrottleStore(),
      scripts: sqlite.scriptStore,
      ledger: sqlite.cronLedger,
    },
  ],
  [
    'Redis',
    {
      cache: new RedisCacheStore(redis, PREFIX),
      results: new RedisResultCache(redis, PREFIX),
      throttle: new RedisThrottleStore(redis, PREFIX),
      scripts: new RedisScriptStore(redis, PREFIX),
      ledger: new RedisCronLedger(redis, PREFIX),
    },
  ],
];

/**
 * A TTL short enough for a fast test, long enough for the few round trips before the value is
 * read back on a loaded machine (100 ms was not, in CI), and a wait safely past it.
 */
const TTL_MS = 600;
const PAST_TTL_MS = 800;

for (const [name, stores] of implementations) {
  t.test(`${name}: DFF.CACHE`, async (t) => {
    const { cache } = stores;
    t.equal(await cache.get('absent'), undefined);
    t.equal(await cache.set('k', 'v1', undefined, false), true);
    t.equal(await cache.get('k'), 'v1');
    t.equal(await cache.set('k', 'v2', undefined, true), false, 'notExists refuses a present key');
    t.equal(await cache.get('k'), 'v1');
    t.equal(await cache.set('k', 'v3', undefined, false), true, 'a plain set replaces');
    t.equal(await cache.get('k'), 'v3');
    t.equal(await cache.delete('k'), true);
    t.equal(await cache.delete('k'), false, 'deleting an absent key says so');
    t.equal(await cache.set('k', 'v4', undefined, true), true, 'notExists writes an absent key');

    t.equal(await cache.set('short', 'x', TTL_MS, false), true);
    t.equal(await cache.set('kept', 'x', TTL_MS, false), true);
    t.equal(await cache.set('kept', 'y', undefined, false), true, 'a set without expiry drops the old one');
    t.equal(await cache.get('short'), 'x');
    await sleep(PAST_TTL_MS);
    t.equal(await cache.get('short'), undefined, 'expired');
    t.equal(await cache.get('kept'), 'y');
    t.equal(await cache.set('short', 'z', undefined, true), true, 'notExists writes over an expired key');
  });

  t.test(`${name}: DFF.CACHE incr`, async (t) => {
    const { cache } = stores;
    t.equal(await cache.incr('n', 5, undefined), 5, 'an absent key counts from 0');
    t.equal(await cache.incr('n', -7, undefined), -2);
    t.equal(await cache.get('n'), '-2');
    await cache.set('padded', '007', undefined, false);
    t.equal(await cache.incr('padded', 1, undefined), 8, 'leading zeros are an integer');

    await cache.set('expiring', '10', TTL_MS, false);
    t.equal(await cache.incr('expiring', 1, undefined), 11, 'incr keeps the expiry');
    t.equal(await cache.incr('renewed', 1, TTL_MS), 1, 'incr with an expiry sets it');
    await cache.set('forever', '1', undefined, false);
    await sleep(PAST_TTL_MS);
    t.equal(await cache.get('expiring'), undefined);
    t.equal(await cache.get('renewed'), undefined);
    t.equal(await cache.incr('forever', 1, undefined), 2);

    for (const value of ['abc', '1.5', '', ' 1', '1e3']) {
      await cache.set('bad', value, undefined, false);
      await t.rejects(cache.incr('bad', 1, undefined), { name: 'CacheValueError', code: 'CACHE_VALUE_INVALID', message: 'value is not an integer' }, JSON.stringify(value));
      t.equal(await cache.get('bad'), value, 'left as it was');
    }
    await cache.set('big', String(Number.MAX_SAFE_INTEGER), undefined, false);
    await t.rejects(cache.incr('big', 1, undefined), { code: 'CACHE_VALUE_INVALID', message: 'increment would overflow' });
    t.equal(await cache.incr('big', -1, undefined), Number.MAX_SAFE_INTEGER - 1);
  });

  t.test(`${name}: cache_result`, async (t) => {
    const { results } = stores;
    t.equal(await results.get('call'), undefined);
    await results.set('call', { kind: 'json', body: '{"a": "日本"}' }, 10_000);
    t.same(await results.get('call'), { kind: 'json', body: '{"a": "日本"}' });
    await results.set('brief', { kind: 'text', body: 'x' }, TTL_MS);
    t.same(await results.get('brief'), { kind: 'text', body: 'x' });
    await sleep(PAST_TTL_MS);
    t.equal(await results.get('brief'), undefined, 'expired');
  });

  t.test(`${name}: throttling windows aligned to the epoch`, async (t) => {
    const { throttle } = stores;
    const throttleOf = (throttling: Throttling): ThrottleLimit[] => throttleLimits(throttling)!;
    const both = throttleOf({ bySecond: 2, byMinute: 3 });
    const minute = 1_800_000_000_000; // a minute boundary
    const at = minute + 30_100;
    t.equal(await throttle.take('api', both, at), undefined);
    t.equal(await throttle.take('api', both, at + 10), undefined);
    t.same(await throttle.take('api', both, at + 20), { limit: both[0], retryAfterMs: 880 }, 'the second is full until its end');
    t.equal(await throttle.take('other', both, at + 20), undefined, 'another key has its own counters');
    t.equal(await throttle.take('api', both, at + 1000), undefined, 'a new second; the refused call was not counted in the minute');
    t.same(await throttle.take('api', both, at + 2000), { limit: both[1], retryAfterMs: 27_900 }, 'the minute is full');
    t.equal(await throttle.take('api', both, minute + 60_000), undefined, 'a new minute');

    // Both full: the one freeing last is named.
    const tight = throttleOf({ bySecond: 1, byMinute: 1 });
    t.equal(await throttle.take('tight', tight, at), undefined);
    t.same(await throttle.take('tight', tight, at + 1), { limit: tight[1], retryAfterMs: 29_899 });
  });

  t.test(`${name}: DFF.STORE`, async (t) => {
    const { scripts } = stores;
    t.equal(await scripts.get('s1', 'absent'), undefined);
    t.equal(await scripts.set('s1', 'user:1', '{"name": "Zoë"}', undefined, false), true);
    t.equal(await scripts.get('s1', 'user:1'), '{"name": "Zoë"}', 'the JSON text as written');
    t.equal(await scripts.set('s1', 'user:1', '2', undefined, true), false, 'notExists refuses a live entry');
    t.equal(await scripts.set('s1', 'user:1', '3', undefined, false), true);
    t.same(await scripts.mget('s1', ['user:1', 'missing', 'user:1']), ['3', undefined, '3']);
    t.same(await scripts.mget('s1', []), []);

    // Scopes are separate, even when a scope's name holds the separator.
    t.equal(await scripts.set('a:b', 'c', '"ab/c"', undefined, false), true);
    t.equal(await scripts.set('a', 'b:c', '"a/bc"', undefined, false), true);
    t.equal(await scripts.get('a:b', 'c'), '"ab/c"');
    t.equal(await scripts.get('a', 'b:c'), '"a/bc"');
    t.same(await scripts.keys('a', '*'), ['b:c']);
    t.equal(await scripts.get('s2', 'user:1'), undefined);

    t.equal(await scripts.set('s1', 'brief', '1', TTL_MS, false), true);
    t.equal(await scripts.set('s1', 'made-forever', '1', TTL_MS, false), true);
    t.equal(await scripts.set('s1', 'made-forever', '2', undefined, false), true, 'a set without ttl drops the expiry');
    t.same(await scripts.keys('s1', '*'), ['brief', 'made-forever', 'user:1']);
    await sleep(PAST_TTL_MS);
    t.equal(await scripts.get('s1', 'brief'), undefined, 'expired');
    t.same(await scripts.mget('s1', ['brief', 'made-forever']), [undefined, '2']);
    t.same(await scripts.keys('s1', '*'), ['made-forever', 'user:1'], 'an expired key is not listed');
    t.equal(await scripts.delete('s1', 'brief'), false, 'an expired entry was not live');
    t.equal(await scripts.set('s1', 'brief', '"again"', undefined, true), true, 'notExists writes over an expired entry');
    t.equal(await scripts.delete('s1', 'brief'), true);
    t.equal(await scripts.delete('s1', 'brief'), false);
    t.same(await scripts.keys('s1', 'brief'), []);
  });

  t.test(`${name}: DFF.STORE keys with wildcards`, async (t) => {
    const { scripts } = stores;
    const keys = ['a[1]', 'a1', 'ab', 'a]', 'a\\b', 'a\\', 'x*y', 'x?y', 'xzy', 'é', 'e', '！', '😀', 'A1', '[', '^$.+'];
    for (const key of keys) t.equal(await scripts.set('wild', key, '0', undefined, false), true);
    const cases: [string, string[]][] = [
      ['*', ['A1', '[', '^$.+', 'a1', 'a[1]', 'a\\', 'a\\b', 'a]', 'ab', 'e', 'x*y', 'x?y', 'xzy', 'é', '！', '😀']],
      ['a[1]', ['a[1]']],
      ['a[1*', ['a[1]']],
      ['a[!1]', []],
      ['a[ab]', []],
      ['a?', ['a1', 'a\\', 'a]', 'ab']],
      ['a\\*', ['a\\', 'a\\b']],
      ['a\\?', ['a\\b']],
      ['*]', ['a[1]', 'a]']],
      ['[', ['[']],
      ['x*y', ['x*y', 'x?y', 'xzy']],
      ['x\\*y', []],
      ['?', ['[', 'e', 'é', '！', '😀']],
      ['a1', ['a1']],
      ['A?', ['A1']],
      ['^$.+', ['^$.+']],
      ['', []],
    ];
    for (const [pattern, expected] of cases) t.same(await scripts.keys('wild', pattern), expected, `keys(${JSON.stringify(pattern)})`);
  });

  t.test(`${name}: cron fire ledger`, async (t) => {
    const { ledger } = stores;
    t.equal(await ledger.lastFire('job'), undefined);
    t.equal(await ledger.claim('job', 3000, 't3'), true);
    t.equal(await ledger.claim('job', 3000, 't3-again'), false, 'a fire is claimed once');
    t.equal(await ledger.claim('job', 1000, 't1'), true);
    t.equal(await ledger.claim('job', 2000, 't2'), true);
    t.equal(await ledger.lastFire('job'), 3000, 'the latest, whatever the order of claims');
    t.equal(await ledger.claim('job:2', 500, 'u'), true, 'another job has its own fires');
    t.equal(await ledger.lastFire('job:2'), 500);

    t.equal(await ledger.prune(2500), 2, 'fires before the bound go');
    t.equal(await ledger.prune(10_000), 0, "each job's latest stays");
    t.equal(await ledger.lastFire('job'), 3000);
    t.equal(await ledger.lastFire('job:2'), 500);
    t.equal(await ledger.claim('job', 3000, 'x'), false);
    t.equal(await ledger.claim('job', 1000, 'x'), true, 'a pruned fire is forgotten');
    t.equal(await ledger.prune(3000), 1);
  });
}

t.test('Redis: 300 concurrent increments from 3 clients', async (t) => {
  const caches = clients.map((client) => new RedisCacheStore(client, PREFIX));
  await Promise.all(Array.from({ length: 300 }, (_, i) => caches[i % 3]!.incr('counter', 1, 10_000)));
  t.equal(await caches[0]!.get('counter'), '300');
});

t.test('Redis: a throttling limit holds across 3 clients in one window', async (t) => {
  const stores = clients.map((client) => new RedisThrottleStore(client, PREFIX));
  const limits = throttleLimits({ byMinute: 25, byHour: 1000 })!;
  const now = Date.now();
  const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => stores[i % 3]!.take('shared', limits, now)));
  t.equal(answers.filter((answer) => answer === undefined).length, 25, 'exactly the limit got through');
  t.ok(answers.every((answer) => answer === undefined || answer.limit.name === 'byMinute'));
  const hourKeys = await redis.keys(`${PREFIX}throttle:3600000:*`);
  t.equal(await redis.get(hourKeys[0]!), '25', 'refused calls were counted nowhere');
});

t.test('Redis: a cron fire is claimed exactly once by concurrent replicas', async (t) => {
  const ledgers = clients.map((client) => new RedisCronLedger(client, PREFIX));
  for (const scheduledAt of [60_000, 120_000, 180_000]) {
    const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => ledgers[i % 3]!.claim('race', scheduledAt, `task-${i}`)));
    t.equal(claims.filter(Boolean).length, 1, `one claim of ${scheduledAt}`);
  }
  t.equal(await ledgers[1]!.lastFire('race'), 180_000);
});

t.test('Redis: every key is under the prefix', async (t) => {
  const all = await redis.keys(`*${RUN}*`);
  t.ok(all.length > 0, 'this file wrote keys');
  t.ok(all.every((key) => key.startsWith(PREFIX)), 'nothing written outside the prefix');
});

t.test('Redis: DFF.STORE notExists writes once under concurrent sets from 3 clients', async (t) => {
  const stores = clients.map((client) => new RedisScriptStore(client, PREFIX));
  const writes = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3]!.set('race', 'lock', String(i), 10_000, true)));
  t.equal(writes.filter(Boolean).length, 1, 'one writer');
  t.equal(await stores[2]!.get('race', 'lock'), String(writes.indexOf(true)), "the winner's value");
  t.same(await stores[1]!.keys('race', '*'), ['lock']);
});

t.test('Redis: a Lua script Redis has not seen yet is sent in full, then run by its sha', async (t) => {
  // The run id in the source makes a script no Redis has cached.
  const script = new LuaScript(`-- ${RUN}\nreturn redis.call('INCR', KEYS[1])`);
  const key = `${PREFIX}lua-counter`;
  t.equal(await script.run(redis, [key], []), 1);
  const sha = createHash('sha1').update(`-- ${RUN}\nreturn redis.call('INCR', KEYS[1])`).digest('hex');
  t.same(await redis.script('EXISTS', sha), [1], 'Redis keeps it');
  t.equal(await script.run(clients[1]!, [key], []), 2);
});
