// A timeout really stops a call whatever its Python does: each stubborn function below answers
// 599.2 within timeout + grace + 1 s, its task record ends as `timeout`, and calls keep being
// answered on the other worker meanwhile (2 workers).
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

const STUBBORN = [
  ['spin', 'while True: count += 1'],
  ['sleep', 'time.sleep(60)'],
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
