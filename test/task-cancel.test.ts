// Cancelling async tasks (POST /api/v1/tasks/:id/cancel) on a started server: a queued task is
// taken out of the queue and never runs; a running one is interrupted like at its deadline and
// its worker keeps serving; an ended or unknown task is refused.
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

// Two workers: one background slot (every worker but one), so one slow task keeps the lane busy.
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'tasks'), '--workers', '2'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

async function submit(pathAndQuery: string): Promise<string> {
  const res = await fetch(`${base}${pathAndQuery}`);
  t.equal(res.status, 200, `${pathAndQuery} accepted`);
  return res.headers.get('x-task-id')!;
}

async function cancel(taskId: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/v1/tasks/${taskId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

t.test('a queued task, cancelled, never runs', async (t) => {
  const busy = await submit('/api/v1/async/nap/s?seconds=2');
  await waitForTask(base, busy, (record) => record.status === 'running');
  const queued = await submit('/api/v1/async/echo/s?word=never');
  t.match(await cancel(queued), { status: 200, body: { data: { id: queued, status: 'cancelled' } } });
  const record = await waitForTask(base, queued, ended);
  t.match(record, { status: 'cancelled', exceptionType: 'TaskCancelled' });
  await waitForTask(base, busy, ended);
  // The lane is free again: had the cancelled task stayed queued it would have run by now.
  const next = await submit('/api/v1/async/echo/s?word=after');
  t.match(await waitForTask(base, next, ended), { status: 'success' });
  const again = await waitForTask(base, queued, ended);
  t.equal(again.status, 'cancelled');
  t.notOk('startTime' in again || 'returnValue' in again, 'it never started');
});

t.test('a running task, cancelled, is interrupted and its worker keeps serving', async (t) => {
  const long = await submit('/api/v1/async/nap/s?seconds=30');
  await waitForTask(base, long, (record) => record.status === 'running');
  const cancelledAt = Date.now();
  t.match(await cancel(long), { status: 200, body: { data: { id: long, status: 'cancelling' } } });
  const record = await waitForTask(base, long, ended, 5000);
  t.match(record, { status: 'cancelled', exceptionType: 'TaskCancelled', startTime: Number });
  t.ok(record.endTime - cancelledAt < 3000, 'it ended at once, not after its 30 s');
  const next = await submit('/api/v1/async/echo/s?word=still-serving');
  t.match(await waitForTask(base, next, ended), { status: 'success', returnValue: { word: 'still-serving' } });
  const sync = await fetch(`${base}/api/v1/al/echo/s?word=sync`);
  t.equal(sync.status, 200);
});

t.test('an ended task answers 409, an unknown one 404', async (t) => {
  const done = await submit('/api/v1/async/echo/s?word=done');
  await waitForTask(base, done, ended);
  t.match(await cancel(done), { status: 409, body: { error: 409.1, reason: 'ETaskEnded', detail: { status: 'success' } } });
  t.match(await cancel('task-unknown'), { status: 404, body: { error: 404.41 } });
});

t.test('cancelled is a status the record list filters on', async (t) => {
  const res = await fetch(`${base}/api/v1/task-records?status=cancelled`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const records = ((await res.json()) as { data: { records: any[] } }).data.records;
  t.equal(records.length, 2);
  t.ok(records.every((record) => record.status === 'cancelled'));
});
