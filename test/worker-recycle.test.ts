// Workers are recycled after limits.workerMaxCalls calls or once their WASM heap passes
// limits.workerHeapMB: one at a time, each replacement started and ready before the worker
// it replaces stops taking calls, so the pool never has fewer ready workers than configured.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const MAX_CALLS = 10;
const HEAP_MB = 64;
const configFile = path.join(os.tmpdir(), `gitfunc-recycle-${process.pid}.yaml`);
writeFileSync(configFile, `limits:\n  workerMaxCalls: ${MAX_CALLS}\n  workerHeapMB: ${HEAP_MB}\n`);
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'runtime'), '--config', configFile, '--workers', '2'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());

interface PoolStatus {
  recycled: number;
  threads: { threadId: number; ready: boolean; calls: number; heapMB: number; retiring: boolean }[];
}

async function pool(): Promise<PoolStatus> {
  return (await adminGet(gitfunc.url, '/api/v1/status')).pool as PoolStatus;
}

async function until(check: (status: PoolStatus) => boolean): Promise<PoolStatus> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await pool();
    if (check(status)) return status;
    if (Date.now() > deadline) throw new Error(`pool never got there: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const bothReady = (status: PoolStatus): boolean => status.threads.length === 2 && status.threads.every((w) => w.ready && !w.retiring);

t.test('after workerMaxCalls calls a worker is replaced, one at a time, at full capacity throughout', async (t) => {
  await until(bothReady);
  const statuses: number[] = [];
  let leastReady = 2;
  // A replacement takes an interpreter start, while its worker goes on serving: keep calling
  // until three recycles are done.
  const deadline = Date.now() + 90_000;
  for (let round = 0; ; round++) {
    const responses = await Promise.all([0, 1].map(() => fetch(`${gitfunc.url}/api/v1/al/hello/s?name=${round}`)));
    for (const res of responses) {
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    const status = await pool();
    leastReady = Math.min(leastReady, status.threads.filter((w) => w.ready && !w.retiring).length);
    if (status.recycled >= 3 || Date.now() > deadline) break;
    // A pause per round: calls back to back only kept both cores busy while replacements start.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(statuses.every((s) => s === 200), `all ${statuses.length} calls answered 200`);
  const status = await until(bothReady);
  t.ok(status.recycled >= 3, `${status.recycled} workers recycled`);
  t.equal(leastReady, 2, 'two ready workers at every step: each replacement was ready before its worker retired');
  t.ok(gitfunc.logs.some((line) => line.msg === 'worker recycled: its replacement is serving'), 'logged');
});

t.test('a worker whose heap grew past workerHeapMB is recycled after its call', async (t) => {
  const before = await until(bothReady);
  const res = await fetch(`${gitfunc.url}/api/v1/al/grow/s?mb=${2 * HEAP_MB}`);
  t.equal(res.status, 200);
  t.equal(await res.json(), 2 * HEAP_MB * 1024 * 1024);
  const after = await until((status) => bothReady(status) && status.recycled > before.recycled);
  t.ok(after.threads.every((w) => w.heapMB < HEAP_MB), `fresh heaps: ${JSON.stringify(after.threads)}`);
  const line = gitfunc.logs.findLast((l) => l.msg === 'worker recycled: its replacement is serving');
  t.ok((line?.heapMB as number) > HEAP_MB, `recycled at ${String(line?.heapMB)} MB`);
});
