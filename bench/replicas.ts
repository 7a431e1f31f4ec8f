/**
 * bench/replicas: what several servers on one Redis cost and give, in one run on
 * functions.example (each server its own process, BENCH_WORKERS workers, default 2):
 *   - async: accepted/s (BENCH_TASKS tasks POSTed by autocannon to summary-async, spread over
 *     the servers, ÷ the time to accept them all) and drained/s (the same tasks ÷ the time from
 *     the first accept until the last ended), for one embedded server, one server on Redis,
 *     three servers on Redis;
 *   - sync: req/s of the `summary` API on one server without and with redis.url (the sync path
 *     needs no Redis: it must not get slower), rounds alternating.
 * Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379), under a key prefix of this run
 * removed at the end (SCAN + UNLINK).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { type SpawnedGitfunc, spawnGitfunc, stopGitfunc } from './spawn-gitfunc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const REPO = path.join(ROOT, 'functions.example');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TASKS = Number(process.env.BENCH_TASKS ?? 1000);
const WARM_UP_TASKS = 60;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 12);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const DRAIN_LIMIT_MS = 300_000;
const ADMIN_TOKEN = randomBytes(18).toString('base64url');
const PREFIX = `gitfunc-bench:replicas:${randomBytes(4).toString('hex')}:`;
const SYNC_PATH = '/api/v1/al/summary/simplified?text=bench';

const dataDirs: string[] = [];

/** `count` servers, on Redis under `prefix` when given, ready to serve. */
async function startServers(count: number, prefix?: string): Promise<SpawnedGitfunc[]> {
  return Promise.all(
    Array.from({ length: count }, () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-replicas-'));
      dataDirs.push(dataDir);
      const env: Record<string, string> = {
        GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
        GITFUNC_ASYNC_QUEUE_MAX: '100000000',
        GITFUNC_SHUTDOWN_DRAIN_SECONDS: '0',
        GITFUNC_SHUTDOWN_GRACE_SECONDS: '5',
        ...(prefix === undefined ? {} : { GITFUNC_REDIS_URL: REDIS_URL, GITFUNC_REDIS_PREFIX: prefix }),
      };
      return spawnGitfunc({ repo: REPO, dataDir, readyPath: SYNC_PATH, workers: WORKERS, env });
    }),
  );
}

async function stopServers(servers: SpawnedGitfunc[]): Promise<void> {
  await Promise.all(servers.map((server) => stopGitfunc(server)));
}

/** Whether any task of the async API is still queued or running (records are shared on Redis: one server sees all). */
async function busy(server: SpawnedGitfunc): Promise<boolean> {
  for (const status of ['queued', 'running']) {
    const res = await fetch(`${server.url}/api/v1/task-records?origin=asyncAPI&status=${status}&limit=1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await res.json()) as { data: { records: unknown[] } };
    if (body.data.records.length > 0) return true;
  }
  return false;
}

/** Accepts `tasks` async tasks spread over the servers, then waits for the queue to empty. */
async function asyncRound(servers: SpawnedGitfunc[], tasks: number): Promise<{ acceptedPerSecond: number; drainedPerSecond: number; errors: number }> {
  const started = Date.now();
  const results = await Promise.all(
    servers.map((server) =>
      autocannon({
        url: `${server.url}/api/v1/async/summary-async/s`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'replicas bench' }),
        connections: Math.max(1, Math.round(CONNECTIONS / servers.length)),
        amount: Math.round(tasks / servers.length),
      }),
    ),
  );
  const acceptSeconds = (Date.now() - started) / 1000;
  const accepted = results.reduce((sum, result) => sum + result['2xx'], 0);
  console.error(`  accepted ${accepted} tasks in ${acceptSeconds.toFixed(1)} s; waiting for them to end`);
  const errors = results.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  while (await busy(servers[0]!)) {
    if (Date.now() > deadline) throw new Error('the queue did not drain');
    await sleep(100);
  }
  const seconds = (Date.now() - started) / 1000;
  return { acceptedPerSecond: accepted / acceptSeconds, drainedPerSecond: accepted / seconds, errors };
}

async function syncRps(server: SpawnedGitfunc): Promise<number> {
  const result = await autocannon({ url: `${server.url}${SYNC_PATH}`, connections: CONNECTIONS, duration: SECONDS });
  return result.requests.average;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (value: number): string => value.toFixed(0).padStart(9);

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const rows: string[] = [];
  try {
    const setups: [string, number, string | undefined][] = [
      ['1 server, embedded', 1, undefined],
      ['1 server, Redis', 1, `${PREFIX}one:`],
      ['3 servers, Redis', 3, `${PREFIX}three:`],
    ];
    const sync = new Map<string, number[]>();
    for (const [name, count, prefix] of setups) {
      console.error(`${name}: starting`);
      const servers = await startServers(count, prefix);
      try {
        await asyncRound(servers, WARM_UP_TASKS);
        const rounds = [];
        for (let round = 0; round < ROUNDS; round++) rounds.push(await asyncRound(servers, TASKS));
        rows.push(
          `| ${name.padEnd(20)} | ${fmt(median(rounds.map((r) => r.acceptedPerSecond)))} | ${fmt(median(rounds.map((r) => r.drainedPerSecond)))} | ${rounds.reduce((s, r) => s + r.errors, 0)} |`,
        );
        if (count === 1) {
          await syncRps(servers[0]!); // warm-up
          const values = [];
          for (let round = 0; round < ROUNDS; round++) values.push(await syncRps(servers[0]!));
          sync.set(name, values);
        }
      } finally {
        await stopServers(servers);
      }
    }
    console.log(`\nasync (${TASKS} tasks a round, median of ${ROUNDS}, ${CONNECTIONS} connections in all, ${WORKERS} workers per server)`);
    console.log('| setup                | accepted/s | drained/s | non-2xx |\n|---|---:|---:|---:|');
    for (const row of rows) console.log(row);
    console.log(`\nsync summary API, one server (${CONNECTIONS} connections, ${SECONDS} s rounds)`);
    console.log('| setup                | req/s (each round) | median |\n|---|---|---:|');
    for (const [name, values] of sync) console.log(`| ${name.padEnd(20)} | ${values.map((v) => v.toFixed(0)).join(', ')} | ${fmt(median(values))} |`);
  } finally {
    await removeKeys(redis, PREFIX);
    redis.disconnect();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

await main();
