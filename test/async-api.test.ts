// Async API calls and the task records of every call, read back over the admin API of a
// started gitfunc: results, failures, timeouts, print capture, trimming, paging, a full queue.
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const KEEP_PER_API = 5;
const QUEUE_MAX = 3;

const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'tasks')], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_TASKS_KEEP_PER_API: String(KEEP_PER_API),
  GITFUNC_ASYNC_QUEUE_MAX: String(QUEUE_MAX),
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;
const commit = gitfunc.server.holder.current!.commit;

function postJson(value: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

async function submit(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any; taskId: string | null }> {
  const res = await fetch(`${base}${pathAndQuery}`, init);
  return { status: res.status, body: await res.json(), taskId: res.headers.get('x-task-id') };
}

t.test('an async call answers with its task id at once, in every route and form', async (t) => {
  const calls: [string, RequestInit][] = [
    ['/api/v1/async/echo/s?word=a', {}],
    ['/api/v1/bat/echo/s', postJson({ word: 'b' })],
    ['/api/v1/async/echo', postJson({ kwargs: { word: 'c' } })],
    [`/api/v1/bat/echo/normal?kwargs=${encodeURIComponent('{"word":"d"}')}`, {}],
  ];
  for (const [[url, init], word] of calls.map((call, i) => [call, 'abcd'[i]] as const)) {
    const started = Date.now();
    const res = await submit(url, init);
    t.equal(res.status, 200, url);
    t.same(Object.keys(res.body), ['ok', 'error', 'message', 'data'], url);
    t.match(res.body, { ok: true, error: 200, message: '', data: { id: /^task-[A-Za-z0-9_-]{24}$/ } }, url);
    t.equal(res.taskId, res.body.data.id, 'X-Task-Id names the task');
    const record = await waitForTask(base, res.body.data.id, ended);
    t.match(
      record,
      { status: 'success', origin: 'asyncAPI', originId: 'echo', funcId: 'jobs__work.echo', kwargs: { word }, returnValue: { word }, attempt: 1, commit },
      url,
    );
    t.ok(started <= record.triggerTime && record.triggerTime <= record.startTime && record.startTime <= record.endTime, 'times in order');
  }
});

t.test('a raising async function ends as failure with its exception and traceback', async (t) => {
  const res = await submit('/api/v1/async/fail/s?value=bad');
  const record = await waitForTask(base, res.body.data.id, ended);
  t.match(record, { status: 'failure', exceptionType: 'ValueError', exceptionText: 'value was bad' });
  t.match(record.traceback, /jobs\/work\.py", line \d+, in fail[\s\S]*in check[\s\S]*ValueError: value was bad/);
  t.notMatch(record.traceback, /gitfunc_runtime/, 'only user-script frames');
  t.notOk('returnValue' in record);
  const line = outcomeLine(record.id);
  t.match(line, {
    level: 40,
    msg: 'call failed',
    taskId: record.id,
    origin: 'asyncAPI',
    apiId: 'fail',
    funcId: 'jobs__work.fail',
    status: 'failure',
    ms: record.endTime - record.startTime,
    exceptionType: 'ValueError',
    exceptionText: 'value was bad',
  });
  t.notOk('kwargs' in line! || 'traceback' in line!, 'neither kwargs nor traceback logged');
});

/** The one outcome line logged for `taskId` (an async task, a cron run or a failed sync call). */
function outcomeLine(taskId: string): Record<string, unknown> | undefined {
  const lines = gitfunc.logs.filter((l) => l.taskId === taskId && (l.msg === 'call failed' || l.msg === 'call ended'));
  return lines.length === 1 ? lines[0] : undefined;
}

t.test('every async outcome is logged once: a success at info, without kwargs or result', async (t) => {
  const res = await submit('/api/v1/async/echo/s?word=logged-word');
  const record = await waitForTask(base, res.body.data.id, ended);
  const line = outcomeLine(record.id);
  t.match(line, { level: 30, msg: 'call ended', origin: 'asyncAPI', apiId: 'echo', funcId: 'jobs__work.echo', status: 'success', commit });
  t.equal(typeof line?.ms, 'number');
  t.notMatch(JSON.stringify(line), 'logged-word', 'no kwargs or result');
});

t.test('an async task sees its own task id, origin and attempt', async (t) => {
  const res = await submit('/api/v1/async/context');
  const record = await waitForTask(base, res.body.data.id, ended);
  t.same(record.returnValue, {
    taskId: res.body.data.id,
    funcId: 'jobs__work.context',
    origin: 'asyncAPI',
    originId: 'context',
    attempt: 1,
    cronExpr: null,
  });
});

t.test('an async task past its timeout ends as timeout', async (t) => {
  const res = await submit('/api/v1/async/short/s?seconds=30');
  const record = await waitForTask(base, res.body.data.id, ended);
  t.match(record, { status: 'timeout', exceptionType: 'TimeoutError' });
  t.ok(record.endTime - record.startTime < 5000, `stopped after ${record.endTime - record.startTime} ms`);
  t.match(outcomeLine(record.id), { level: 40, msg: 'call failed', status: 'timeout', exceptionType: 'TimeoutError', exceptionText: 'did not finish within 1 s' });
});

t.test('a timed-out call keeps the output it printed before it was stopped', async (t) => {
  const res = await submit('/api/v1/async/spin');
  const record = await waitForTask(base, res.body.data.id, ended);
  t.match(record, { status: 'timeout', exceptionType: 'TimeoutError', printLogs: /\] started spinning\n$/ });
  t.ok(record.startTime <= record.endTime, 'started before the deadline answer');

  const sync = await fetch(`${base}/api/v1/al/spin`);
  t.match([sync.status, await sync.json()], [599, { error: 599.2 }]);
  const deadline = Date.now() + 10_000;
  let syncRecord: any;
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/api/v1/tasks/${sync.headers.get('x-task-id')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (res.status === 200) {
      syncRecord = ((await res.json()) as { data: unknown }).data;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.match(syncRecord, { status: 'timeout', origin: 'syncAPI', printLogs: /started spinning/ }, 'recorded once its worker stopped');
  t.match(outcomeLine(syncRecord.id), { level: 40, msg: 'call failed', origin: 'syncAPI', apiId: 'spin', status: 'timeout', exceptionType: 'TimeoutError' });
});

t.test('bad async calls are refused before anything is queued', async (t) => {
  t.match(await submit('/api/v1/async/nope'), { status: 404, body: { error: 404.41 } });
  t.match(await submit('/api/v1/async/chatty'), { status: 404, body: { error: 404.41 } }, 'a sync-only API');
  t.match(await submit('/api/v1/async/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kwargs":' }), {
    status: 400,
    body: { error: 400.43 },
  });
  t.match(await submit('/api/v1/async/echo', postJson({ options: { nope: 1 } })), { status: 400, body: { error: 400.43 } });
});

t.test('an unknown API id answers 404.41 with a hint at the right route or a close id', async (t) => {
  const cases: [string, string][] = [
    ['/api/v1/al/context', "No sync API 'context': 'context' is an async API, call it at /api/v1/bat/context"],
    ['/api/v1/sync/short/s', "No sync API 'short': 'short' is an async API, call it at /api/v1/bat/short"],
    ['/api/v1/bat/chatty', "No async API 'chatty': 'chatty' is a sync API, call it at /api/v1/al/chatty"],
    ['/api/v1/al/ehco', "No sync API 'ehco' (did you mean 'echo'?)"],
    ['/api/v1/bat/contxt/s', "No async API 'contxt' (did you mean 'context'?)"],
    ['/api/v1/al/zzzz', "No sync API 'zzzz'"],
    ['/api/v1/al/echo/bogus', "No sync API 'echo' with call form 'bogus'"],
  ];
  for (const [url, message] of cases) {
    const res = await submit(url);
    t.match([res.status, res.body], [404, { ok: false, error: 404.41, reason: 'ENotFound', message }], url);
    t.equal(res.body.message, message, url);
  }
});

t.test('sync calls are recorded too, success and failure', async (t) => {
  const ok = await fetch(`${base}/api/v1/al/echo/s?word=sync`);
  const okId = ok.headers.get('x-task-id')!;
  t.match(await adminGet(base, `/api/v1/tasks/${okId}`), {
    status: 'success',
    origin: 'syncAPI',
    originId: 'echo',
    kwargs: { word: 'sync' },
    returnValue: { word: 'sync' },
    commit,
  });
  const failed = await fetch(`${base}/api/v1/al/fail/s?value=bad`);
  t.equal(failed.status, 599);
  t.match(await adminGet(base, `/api/v1/tasks/${failed.headers.get('x-task-id')}`), {
    status: 'failure',
    exceptionType: 'ValueError',
    traceback: /in check/,
  });
  t.match(outcomeLine(failed.headers.get('x-task-id')!), { level: 40, origin: 'syncAPI', apiId: 'fail', exceptionType: 'ValueError', exceptionText: 'value was bad' });
  t.equal(outcomeLine(okId), undefined, 'a sync success has only its HTTP line');
});

t.test('very large kwargs and return values are answered in full but not stored in the record', async (t) => {
  const big = 'x'.repeat(300 * 1024);
  const res = await fetch(`${base}/api/v1/al/echo/s`, postJson({ big }));
  t.equal(((await res.json()) as { big: string }).big.length, big.length);
  const record = await adminGet(base, `/api/v1/tasks/${res.headers.get('x-task-id')}`);
  t.match(record, {
    status: 'success',
    returnValue: /^\(return value of \d+ characters not stored\)$/,
    kwargs: { '(not stored)': /^kwargs of \d+ characters$/ },
  });
});

t.test('a sync call is recorded even when its client went away', async (t) => {
  const before = Date.now();
  await t.rejects(fetch(`${base}/api/v1/al/nap/s?seconds=0.5`, { signal: AbortSignal.timeout(100) }));
  const deadline = Date.now() + 10_000;
  let records: any[] = [];
  while (Date.now() < deadline) {
    records = (await adminGet(base, '/api/v1/task-records?origin=syncAPI&originId=nap')).records;
    if (records.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(records.length, 1);
  t.match(records[0], { status: 'success', returnValue: { slept: '0.5' } });
  t.ok(records[0].triggerTime >= before);
});

t.test('print output is captured with time and elapsed ms per line', async (t) => {
  const res = await fetch(`${base}/api/v1/al/chatty/s?lines=2&width=3`);
  const record = await adminGet(base, `/api/v1/tasks/${res.headers.get('x-task-id')}`);
  const lines = record.printLogs.trimEnd().split('\n');
  t.equal(lines.length, 2);
  t.match(lines[0], /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] \[\+\d+ms\] line 0 xxx$/);
  t.match(lines[1], /\] line 1 xxx$/);
});

t.test('print capture keeps a long log\'s head and tail and caps each line', async (t) => {
  const long = await fetch(`${base}/api/v1/al/chatty/s?lines=3000&width=4`);
  const record = await adminGet(base, `/api/v1/tasks/${long.headers.get('x-task-id')}`);
  const lines: string[] = record.printLogs.trimEnd().split('\n');
  t.equal(lines.length, 1001, '500 head lines, a marker, 500 tail lines');
  t.match(lines[0], /\] line 0 xxxx$/);
  t.match(lines[499], /\] line 499 xxxx$/);
  t.match(lines[500], /\] \.\.\.\(2000 lines cut\)$/);
  t.match(lines[501], /\] line 2500 xxxx$/);
  t.match(lines[1000], /\] line 2999 xxxx$/);

  const wide = await fetch(`${base}/api/v1/al/chatty/s?lines=1&width=50000`);
  const wideRecord = await adminGet(base, `/api/v1/tasks/${wide.headers.get('x-task-id')}`);
  const [line] = wideRecord.printLogs.trimEnd().split('\n');
  t.match(line, /\] line 0 x+\.\.\.\(cut\)$/);
  t.ok(line.length < 2100, `a printed line is capped (${line.length} chars)`);
});

t.test('records are trimmed per API to the newest ones', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < KEEP_PER_API + 7; i++) {
    const res = await fetch(`${base}/api/v1/al/echo/s?i=${i}`);
    ids.push(res.headers.get('x-task-id')!);
  }
  const { records } = await adminGet(base, '/api/v1/task-records?origin=syncAPI&originId=echo&limit=100');
  t.same(
    records.map((r: { id: string }) => r.id),
    ids.slice(-KEEP_PER_API).reverse(),
  );
});

t.test('task records are listed newest first, filtered and paged', async (t) => {
  const first = await adminGet(base, '/api/v1/task-records?origin=asyncAPI&limit=2');
  t.equal(first.records.length, 2);
  t.ok(first.records.every((r: { origin: string }) => r.origin === 'asyncAPI'));
  t.ok(first.records[0].triggerTime >= first.records[1].triggerTime);
  t.type(first.next, 'string');
  const second = await adminGet(base, `/api/v1/task-records?origin=asyncAPI&limit=2&before=${first.next}`);
  t.equal(second.records.length, 2);
  t.notOk(second.records.some((r: { id: string }) => first.records.some((f: { id: string }) => f.id === r.id)));
  const failures = await adminGet(base, '/api/v1/task-records?status=failure&funcId=jobs__work.fail');
  t.ok(failures.records.length >= 2);
  t.ok(failures.records.every((r: { status: string; funcId: string }) => r.status === 'failure' && r.funcId === 'jobs__work.fail'));
  for (const bad of ['limit=0', 'limit=abc', 'status=done', 'origin=web', 'before=x']) {
    const res = await fetch(`${base}/api/v1/task-records?${bad}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    t.equal(res.status, 400, bad);
  }
  const missing = await fetch(`${base}/api/v1/tasks/task-nope`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.match(await missing.json(), { error: 404.41 });
});

t.test('admin endpoints need the bearer token; health probes do not', async (t) => {
  for (const url of ['/api/v1/status', '/api/v1/task-records', '/api/v1/tasks/task-x']) {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}x`]) {
      const res = await fetch(`${base}${url}`, { headers: authorization ? { authorization } : {} });
      t.equal(res.status, 401, `${url} with ${authorization}`);
      t.match(await res.json(), { error: 401.99 });
      t.match(res.headers.get('www-authenticate'), /^Bearer/);
      t.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS on admin routes');
    }
  }
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  t.match(await (await fetch(`${base}/readyz`)).json(), { ok: true, phase: 'ready' });
});

t.test('status shows the served commit, APIs, queue and pool', async (t) => {
  const status = await adminGet(base, '/api/v1/status');
  t.match(status, {
    ready: true,
    revision: { commit, loadedAt: /^\d{4}-/, loadMs: Number },
    syncAPIs: [{ id: 'echo', funcId: 'jobs__work.echo' }],
    asyncAPIs: [{ id: 'echo' }, { id: 'fail' }, { id: 'nap', timeoutSeconds: 120 }],
    cronJobs: [],
    queue: { asyncWaiting: 0 },
    pool: { workers: 1, backgroundSlots: 1 },
  });
});

// Last: it fills the queue.
t.test('a full async queue answers 429.47 and accepts again once it drains', async (t) => {
  const running = await submit('/api/v1/async/nap/s?seconds=1.5');
  await waitForTask(base, running.body.data.id, (r) => r.status === 'running');
  const queued = [];
  for (let i = 0; i < QUEUE_MAX; i++) queued.push(await submit('/api/v1/async/nap/s?seconds=0.1'));
  t.ok(queued.every((r) => r.status === 200));
  const refused = await submit('/api/v1/async/echo/s?x=1');
  t.equal(refused.status, 429);
  t.match(refused.body, { error: 429.47, reason: 'EAsyncQueueFull', message: /queue is full/ });
  t.equal((await adminGet(base, '/api/v1/status')).queue.asyncWaiting, QUEUE_MAX);
  for (const task of [running, ...queued]) t.match(await waitForTask(base, task.body.data.id, ended), { status: 'success' });
  t.equal((await submit('/api/v1/async/echo/s?x=2')).status, 200);
});
