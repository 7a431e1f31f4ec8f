// A timeout really stops a call whatever its Python does: each stubborn function below answers
// 599.2 within timeout + grace + 1 s, its task record ends as `timeout`, and calls keep being
// answered on the other worker meanwhile (2 workers). time.sleep is no longer stubborn: it
// waits without spinning a core and ends at the deadline, in place.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, adminGet, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const GRACE_MS = 500;
const TIMEOUT_MS = 1000;
const FAST_CALL_GAP_MS = 50;
const configFile = path.join(os.tmpdir(), `gitfunc-stubborn-${process.pid}.yaml`);
writeFileSync(configFile, `callTimeoutGraceMs: ${GRACE_MS}\n`);
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'runtime'), '--config', configFile, '--workers', '2'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());

/** Waits until both workers have their interpreter loaded (a terminated one is being replaced). */
async function bothWorkersReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { pool } = await adminGet(gitfunc.url, '/api/v1/status');
    const ready = pool.threads.filter((w: { ready: boolean }) => w.ready).length;
    if (ready === 2 && pool.busyWorkers === 0) return;
    if (Date.now() > deadline) throw new Error(`workers not ready: ${JSON.stringify(pool)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Thread ids of the pool's workers, sorted. */
async function workerThreads(): Promise<number[]> {
  const { pool } = await adminGet(gitfunc.url, '/api/v1/status');
  return pool.threads.map((w: { threadId: number }) => w.threadId).sort();
}

/** Runs `run` and returns its result with the CPU time this process (server thread and workers) spent meanwhile, in s. */
async function withCpu<T>(run: () => Promise<T>): Promise<{ value: T; cpuSeconds: number; ms: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return { value, cpuSeconds: (used.user + used.system) / 1e6, ms: performance.now() - started };
}

async function getText(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gitfunc.url}${url}`);
  return { status: res.status, text: await res.text() };
}

/**
 * Runs `url` once on each worker, then waits until the process is idle: a worker's first calls
 * cost up to ~0.5 s of CPU whatever they do (V8 compiling hot WASM code on its own threads).
 */
async function warmBothWorkers(url: string): Promise<void> {
  const answers = await Promise.all([getText(url), getText(url)]);
  if (answers.some((a) => a.status !== 200)) throw new Error(`warm-up failed: ${JSON.stringify(answers)}`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { cpuSeconds } = await withCpu(() => new Promise((resolve) => setTimeout(resolve, 200)));
    if (cpuSeconds < 0.02) return;
    if (Date.now() > deadline) throw new Error(`the process never went idle (${cpuSeconds} s of CPU in 200 ms)`);
  }
}

// Emscripten's own sleep spun a core for the whole nap (~1 s of CPU here).
t.test('time.sleep(1) returns after 1 s without spinning a core', async (t) => {
  await bothWorkersReady();
  await warmBothWorkers('/api/v1/al/slow/s?seconds=0.05');
  const { value, cpuSeconds, ms } = await withCpu(() => getText('/api/v1/al/slow/s?seconds=1'));
  t.same(value, { status: 200, text: 'done' });
  t.ok(ms >= 1000 && ms < 1500, `answered after ${Math.round(ms)} ms`);
  t.ok(cpuSeconds < 0.3, `${cpuSeconds.toFixed(3)} s of CPU for the whole call`);
});

// Emscripten's select returned at once, whatever the timeout.
t.test('select.select with nothing to watch sleeps its timeout without spinning', async (t) => {
  await warmBothWorkers('/api/v1/al/select-nap/s?seconds=0.05');
  const { value, cpuSeconds, ms } = await withCpu(() => getText('/api/v1/al/select-nap/s?seconds=0.5'));
  t.same([value.status, JSON.parse(value.text)], [200, [0, 0, 0]]);
  t.ok(ms >= 500 && ms < 1000, `answered after ${Math.round(ms)} ms`);
  t.ok(cpuSeconds < 0.3, `${cpuSeconds.toFixed(3)} s of CPU for the whole call`);
});

t.test('time.sleep past the deadline is interrupted there: 599.2, record timeout, its worker serves on', async (t) => {
  await bothWorkersReady();
  const threads = await workerThreads();
  const logsBefore = gitfunc.logs.length;
  const started = performance.now();
  const res = await fetch(`${gitfunc.url}/api/v1/al/sleep`); // sleeps 60 s, timeout 1 s
  const ms = performance.now() - started;
  t.same([res.status, ((await res.json()) as { error: number }).error], [599, 599.2]);
  t.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + GRACE_MS, `answered after ${Math.round(ms)} ms`);
  // Recorded once the worker stopped: at the deadline, not when a terminate after the grace ended it.
  const record = await waitForTask(gitfunc.url, res.headers.get('x-task-id')!, (r) => r.status !== 'running');
  t.equal(record.status, 'timeout');
  t.ok(performance.now() - started < TIMEOUT_MS + GRACE_MS, 'recorded before the grace period ran out');
  // Both workers take a 300 ms call at once, the one that slept included: no reload.
  const pair = await withCpu(() => Promise.all([getText('/api/v1/al/slow/s?seconds=0.3'), getText('/api/v1/al/slow/s?seconds=0.3')]));
  t.same(pair.value, [{ status: 200, text: 'done' }, { status: 200, text: 'done' }]);
  t.ok(pair.ms < 550, `two 300 ms calls side by side took ${Math.round(pair.ms)} ms`);
  await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
  t.same(await workerThreads(), threads, 'no worker was replaced');
  t.notOk(gitfunc.logs.slice(logsBefore).some((l) => /terminating its worker/.test(String(l.msg))), 'no worker terminated');
});

const STUBBORN = [
  ['spin', 'while True: count += 1'],
  ['catch-all', 'a loop catching BaseException'],
  ['loop-in-finally', 'a loop inside finally'],
  ['c-loop', 'sum(range(10**12))'],
  ['regex', 'catastrophic regex backtracking'],
] as const;

for (const [api, what] of STUBBORN) {
  t.test(`${what}: 599.2 in time, record timeout, the other worker keeps serving`, async (t) => {
    await bothWorkersReady();
    const started = performance.now();
    const stubborn = fetch(`${gitfunc.url}/api/v1/al/${api}`).then(async (res) => ({
      status: res.status,
      ms: performance.now() - started,
      taskId: res.headers.get('x-task-id'),
      body: (await res.json()) as { error: number },
    }));
    // Fast calls while the stubborn one holds its worker, one every FAST_CALL_GAP_MS until it
    // answers (back to back they kept both cores busy for nothing).
    let answered = false;
    void stubborn.then(() => (answered = true));
    const fast: number[] = [];
    while (!answered) {
      const res = await fetch(`${gitfunc.url}/api/v1/al/hello/s?name=${fast.length}`);
      fast.push(res.status);
      await res.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, FAST_CALL_GAP_MS));
    }
    const res = await stubborn;
    t.equal(res.status, 599);
    t.equal(res.body.error, 599.2);
    t.ok(res.ms < TIMEOUT_MS + GRACE_MS + 1000, `answered after ${Math.round(res.ms)} ms`);
    t.ok(fast.length > 0 && fast.every((status) => status === 200), `${fast.length} concurrent fast calls all answered 200`);
    const record = await waitForTask(gitfunc.url, res.taskId!, (r) => r.status !== 'running');
    t.equal(record.status, 'timeout');
  });
}

t.test('after all that, both workers serve again', async (t) => {
  await bothWorkersReady();
  const res = await fetch(`${gitfunc.url}/api/v1/al/hello/s?name=end`);
  t.same(await res.json(), { hello: 'end' });
});
