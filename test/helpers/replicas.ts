// Three gitfunc processes on one Redis and one git server, as several servers behind a load
// balancer run (CONTRACT section 13): distinct ports and data dirs, one key prefix per test
// file, every key of it removed at the end (SCAN + UNLINK, never FLUSHDB).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, adminGet } from './admin-client.js';
import { startGitServer } from './git-server.js';
import { createWorkRepo } from './git-repo.js';
import { REDIS_URL, removeKeys, testKeyPrefix } from './redis-test-keys.js';
import { type GitfuncProcess, spawnGitfunc, waitReady } from './spawn-gitfunc.js';

export const WEBHOOK_SECRET = 'replicas-webhook-secret';

/** The functions every replica serves; `version` names the commit's content, `cron` adds a job firing every second. */
export function replicaRepo(version: string, options: { cron?: boolean } = {}): Record<string, string> {
  return {
    'gitfunc.yaml': [
      'version: 1',
      'syncAPIs:',
      '  - {id: version, func: shared__calls.version}',
      '  - {id: incr, func: shared__calls.incr}',
      '  - {id: read, func: shared__calls.read}',
      '  - {id: limited, func: shared__calls.version, throttling: {bySecond: 5}}',
      'asyncAPIs:',
      '  - {id: hold, func: shared__calls.hold}',
      ...(options.cron ? ['cronJobs:', '  - {id: tick, func: shared__calls.tick, cron: "* * * * * *"}'] : []),
      '',
    ].join('\n'),
    'shared/calls.py': [
      'import time',
      '',
      `VERSION = ${JSON.stringify(version)}`,
      '',
      "@DFF.API('Version')",
      'def version():',
      '    return VERSION',
      '',
      "@DFF.API('Adds one to a shared counter')",
      "def incr(key='hits'):",
      '    return DFF.CACHE.incr(key)',
      '',
      "@DFF.API('Reads a shared counter')",
      "def read(key='hits'):",
      '    return DFF.CACHE.get(key)',
      '',
      "@DFF.API('Sleeps, then says which attempt it was', timeout=120)",
      "def hold(seconds='0'):",
      '    time.sleep(float(seconds))',
      "    return {'attempt': _DFF_TASK_ATTEMPT, 'version': VERSION}",
      '',
      "@DFF.API('Tick')",
      'def tick():',
      '    return VERSION',
      '',
    ].join('\n'),
  };
}

export interface Replicas {
  /** The key prefix of this file's replicas. */
  prefix: string;
  /** The replicas, by index; a restart replaces its entry. */
  procs: GitfuncProcess[];
  /** Each replica's URL, by index. */
  urls(): string[];
  /** A client of the test's own, on the replicas' Redis. */
  redis: Redis;
  /** Commits `files` to the served branch and publishes it on the git server; resolves with the commit. */
  publish(files: Record<string, string>): Promise<string>;
  /** Starts replica `index` (again), resolving once it is ready. */
  start(index: number): Promise<GitfuncProcess>;
  /** Ends replica `index` with `signal` and waits for it to exit. */
  stop(index: number, signal: NodeJS.Signals): Promise<void>;
}

export interface ReplicaOptions {
  count?: number;
  files: Record<string, string>;
  redisUrl?: string;
  /** Names the key prefix. */
  label: string;
  /** More settings of every replica, as GITFUNC_* variables. */
  env?: Record<string, string>;
}

/** Starts `count` replicas (3 by default) serving `files`; everything is stopped and removed at the end of `t`. */
export async function startReplicas(t: { teardown(fn: () => unknown): void }, options: ReplicaOptions): Promise<Replicas> {
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const prefix = testKeyPrefix(options.label);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const git = await startGitServer();
  const work = await createWorkRepo(options.files);
  await git.publish('functions', work.dir);
  const dataDirs: string[] = [];
  const procs: GitfuncProcess[] = [];
  t.teardown(async () => {
    for (const proc of procs) proc.child.kill('SIGKILL');
    await Promise.all(procs.map((proc) => proc.exited));
    await git.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await removeKeys(redis, prefix);
    redis.disconnect();
  });
  const start = async (index: number): Promise<GitfuncProcess> => {
    dataDirs[index] ??= mkdtempSync(path.join(os.tmpdir(), `gitfunc-replica-${index}-`));
    const proc = await spawnGitfunc(['--repo', git.url('functions'), '--data-dir', dataDirs[index]!, '--workers', '1'], {
      GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
      GITFUNC_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITFUNC_REDIS_URL: redisUrl,
      GITFUNC_REDIS_PREFIX: prefix,
      GITFUNC_SHUTDOWN_DRAIN_SECONDS: '0',
      GITFUNC_SHUTDOWN_GRACE_SECONDS: '1',
      ...options.env,
    });
    procs[index] = proc;
    await waitReady(proc.url);
    return proc;
  };
  await Promise.all(Array.from({ length: options.count ?? 3 }, (_, index) => start(index)));
  return {
    prefix,
    procs,
    urls: () => procs.map((proc) => proc.url),
    redis,
    publish: async (files) => {
      const commit = await work.commit(files);
      await git.publish('functions', work.dir);
      return commit;
    },
    start,
    stop: async (index, signal) => {
      procs[index]!.child.kill(signal);
      await procs[index]!.exited;
    },
  };
}

/** The live replicas `GET /api/v1/status` lists on `url`. */
export async function liveReplicas(url: string): Promise<{ id: string; url: string; commit: string | null }[]> {
  return (await adminGet(url, '/api/v1/status')).replicas;
}

/** POSTs a sync call to `url` with `kwargs`. */
export function callSync(url: string, api: string, kwargs: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/api/v1/al/${api}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kwargs }) });
}

/** POSTs an async call to `url`; resolves with the task id. */
export async function acceptTask(url: string, api: string, kwargs: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}/api/v1/bat/${api}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kwargs }),
  });
  const body = (await res.json()) as { data: { id: string } };
  if (res.status !== 200) throw new Error(`async ${api}: ${res.status} ${JSON.stringify(body)}`);
  return body.data.id;
}

/** Sends GitHub's push event for `commit` on main to `url`'s webhook, signed. */
export async function githubPush(url: string, commit: string): Promise<Response> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: commit, repository: { full_name: 'team/funcs' } });
  const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
  return fetch(`${url}/api/v1/webhooks/git`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature },
    body,
  });
}
