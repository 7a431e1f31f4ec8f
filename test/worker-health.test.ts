// A worker whose interpreter fails, or whose thread dies, is replaced and never answers for a
// dead interpreter again; nothing a script does to its worker takes the server down.
import path from 'node:path';
import t, { type Test } from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'runtime'), '--workers', '2'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());

interface ThreadStatus {
  threadId: number;
  ready: boolean;
  calls: number;
  heapMB: number;
}

async function threads(): Promise<ThreadStatus[]> {
  return (await adminGet(gitfunc.url, '/api/v1/status')).pool.threads as ThreadStatus[];
}

/** Waits until `count` workers have their interpreter loaded. */
async function readyWorkers(count: number): Promise<ThreadStatus[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await threads();
    if (list.filter((w) => w.ready).length === count) return list;
    if (Date.now() > deadline) throw new Error(`workers not ready: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until `count` of the workers are new (not in `before`) and both are ready. */
async function replaced(before: ThreadStatus[], count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await threads();
    const fresh = list.filter((w) => !before.some((b) => b.threadId === w.threadId));
    if (list.length === 2 && list.every((w) => w.ready) && fresh.length === count) return;
    if (Date.now() > deadline) throw new Error(`not replaced: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function call(api: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}`);
  return { status: res.status, body: await res.json() };
}

/** Calls `hello` until every live worker has served one, proving none answers for a dead interpreter. */
async function everyWorkerServes(t: Test): Promise<void> {
  const before = await readyWorkers(2);
  for (let i = 0; i < 20; i++) t.same((await Promise.all([call('hello'), call('hello')])).map((r) => r.body), [{ hello: 'world' }, { hello: 'world' }]);
  const after = await threads();
  t.same(after.map((w) => w.threadId).sort(), before.map((w) => w.threadId).sort(), 'same workers');
  t.ok(after.every((w) => w.calls > 0), `every worker served calls: ${JSON.stringify(after)}`);
}

t.test('GET /api/v1/status shows each worker: thread id, ready, calls served, heap MB', async (t) => {
  const list = await readyWorkers(2);
  t.equal(list.length, 2);
  for (const worker of list) {
    t.type(worker.threadId, 'number');
    t.ok(worker.heapMB > 1, `heap ${worker.heapMB} MB`);
  }
});

t.test('a Pyodide fatal error (C recursion past the JS stack) kills only its interpreter: 599.99, the worker is replaced', async (t) => {
  const before = await readyWorkers(2);
  const res = await call('recursion');
  t.equal(res.status, 599);
  t.equal(res.body.error, 599.99, JSON.stringify(res.body));
  await replaced(before, 1);
  await everyWorkerServes(t);
});

t.test('js.process.exit(1) in a script ends only its worker, never the server', async (t) => {
  const before = await readyWorkers(2);
  const res = await call('js-exit');
  // Where `js` is still reachable the worker exits (599.99); where it is sandboxed away the
  // import fails (599.1). Either way the server lives on and both workers serve.
  t.equal(res.status, 599);
  t.ok([599.1, 599.99].includes(res.body.error), JSON.stringify(res.body));
  await replaced(before, res.body.error === 599.99 ? 1 : 0);
  await everyWorkerServes(t);
});

t.test('worker threads killed from outside are replaced; the call they ran answers 599.99', async (t) => {
  const before = await readyWorkers(2);
  const slow = call('slow/s?seconds=5');
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Kill every worker thread the way a crash would, under the running call.
  const pool = gitfunc.server.pool;
  for (const thread of pool.workerStatus().threads) pool.terminateThread(thread.threadId);
  const res = await slow;
  t.equal(res.body.error, 599.99, JSON.stringify(res.body));
  await replaced(before, 2);
  await everyWorkerServes(t);
});
