// fixedField passes on any one of its fields (DFF's rule), and function auths (CONTRACT section
// 12): a function of the repository gets the request and admits with a true value; raising or
// a false value refuses (401.99). Against one started gitfunc.
import t, { type Test } from 'tap';
import { adminGet } from './helpers/admin-client.js';
import { AUTH_ENV, AUTH_SCHEMES_REPO, SECRETS } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const gitfunc = await startGitfunc(['--repo', AUTH_SCHEMES_REPO], AUTH_ENV);
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(pathAndQuery: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${base}${pathAndQuery}`, init);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function assertRefused(t: Test, res: Answer, what: string): void {
  t.equal(res.status, 401, what);
  t.match(res.body, { ok: false, error: 401.99, reason: 'EAuthFailed', status: 401 }, what);
  t.same(res.body.detail, {}, `${what}: nothing of the auth's reasons`);
  t.equal(res.headers.get('x-task-id'), null, `${what}: no task ran`);
  t.equal(res.headers.get('www-authenticate'), null, `${what}: no challenge`);
}

t.test('fixedField: any one listed field admits; none refuses', async (t) => {
  const header = { 'X-Token': SECRETS.HEADER_TOKEN };
  const byHeader = await call('/api/v1/al/by-either/s?x=1', { headers: header });
  t.same([byHeader.status, byHeader.body.kwargs], [200, { x: '1' }], 'the header alone');
  const byQuery = await call(`/api/v1/al/by-either/s?token=${SECRETS.QUERY_TOKEN}&x=1`);
  t.same([byQuery.status, byQuery.body.kwargs], [200, { x: '1' }], 'the query field alone');
  const oneWrong = await call('/api/v1/al/by-either/s?token=wrong&x=1', { headers: header });
  t.equal(oneWrong.status, 200, 'a right header beside a wrong query field');
  t.same(oneWrong.body.kwargs, { x: '1' }, 'every listed field is removed from the kwargs');
  t.notOk('x-token' in oneWrong.body.request.headers, 'and from _DFF_HTTP_REQUEST');

  assertRefused(t, await call('/api/v1/al/by-either/s?token=wrong', { headers: { 'X-Token': 'wrong' } }), 'both wrong');
  assertRefused(t, await call('/api/v1/al/by-either/s?x=1'), 'neither sent');
  assertRefused(t, await call('/api/v1/al/by-either/s?token=', { headers: { 'X-Token': '' } }), 'both empty');
  assertRefused(t, await call(`/api/v1/al/by-either/s?token=${SECRETS.HEADER_TOKEN}`), 'one field\'s value in the other field');
});

t.test('a function auth admits with a true value, headers in any case', async (t) => {
  for (const name of ['X-Gate', 'x-gate', 'X-GATE']) {
    const ok = await call('/api/v1/al/by-func/s?x=1', { headers: { [name]: 'letmein' } });
    t.equal(ok.status, 200, `sent as ${name}`);
    t.same(ok.body.kwargs, { x: '1' });
    t.match(ok.headers.get('x-task-id'), /^task-/, 'the API call is a task');
  }
  t.equal((await call('/api/v1/al/by-func/s', { headers: { 'X-Gate': 'text' } })).status, 200, "any true value: 'yes'");

  // The function sees the credentials (its job); the API's function still does not.
  const bearer = await call('/api/v1/al/by-func/s', { headers: { 'X-Gate': 'bearer', authorization: 'Bearer tok-9' } });
  t.equal(bearer.status, 200, 'the auth function read Authorization');
  t.notOk('authorization' in bearer.body.request.headers, 'Authorization hidden from the API function');
  assertRefused(t, await call('/api/v1/al/by-func/s', { headers: { 'X-Gate': 'bearer', authorization: 'Bearer other' } }), 'wrong bearer');

  const body = await call('/api/v1/al/by-func/s', {
    method: 'POST',
    headers: { 'X-Gate': 'body', 'content-type': 'application/json' },
    body: JSON.stringify({ pass: 'letmein', x: 1 }),
  });
  t.same([body.status, body.body.kwargs], [200, { pass: 'letmein', x: 1 }], 'the function read the body; a function auth removes nothing');
  assertRefused(t, await call('/api/v1/al/by-func/s', { method: 'POST', headers: { 'X-Gate': 'body', 'content-type': 'application/json' }, body: '{"pass":"no"}' }), 'wrong body');
});

t.test('a function auth refuses by raising or returning a false value: 401.99', async (t) => {
  assertRefused(t, await call('/api/v1/al/by-func/s', { headers: { 'X-Gate': 'nope' } }), 'returned False');
  assertRefused(t, await call('/api/v1/al/by-func/s'), 'no header: returned False');
  assertRefused(t, await call('/api/v1/al/by-func/s', { headers: { 'X-Gate': 'none' } }), 'returned None');
  const raised = await call('/api/v1/al/by-func/s?x=1', { headers: { 'X-Gate': 'raise' } });
  assertRefused(t, raised, 'raised');
  t.notMatch(JSON.stringify(raised.body), /PermissionError|no entry/, 'what it raised stays in the server');

  const line = gitfunc.logs.find((l) => l.msg === 'auth function' && l.exception !== undefined) as Record<string, string> | undefined;
  t.match(line, { apiAuth: 'by-func', funcId: 'gate__check.verify', exception: 'PermissionError: no entry' }, 'logged with its exception');
  t.match(line?.printLogs, /\] checking GET \/api\/v1\/al\/by-func\/s\?x=1\n/, 'and its print output');
});

t.test('a DFF-style auth function: no argument, reads _DFF_HTTP_REQUEST, raises to refuse', async (t) => {
  t.equal((await call('/api/v1/al/dff-style/s', { headers: { 'X-Auth-Token': 'TOKEN' } })).status, 200);
  assertRefused(t, await call('/api/v1/al/dff-style/s', { headers: { 'X-Auth-Token': 'other' } }), 'wrong token');
});

t.test('an auth function past its timeout answers 599.2 (the server failed, not the caller)', async (t) => {
  const started = Date.now();
  const res = await call('/api/v1/al/stuck/s');
  t.match([res.status, res.body], [599, { error: 599.2, reason: 'EFuncTimeout', detail: { timeout: 1 } }]);
  t.ok(Date.now() - started < 5000, 'answered at the function\'s own timeout (1 s)');
  t.equal(res.headers.get('x-task-id'), null, 'the API function never ran');
  t.equal((await call('/api/v1/al/by-func/s', { headers: { 'X-Gate': 'letmein' } })).status, 200, 'the worker serves the next call');
});

t.test('async APIs run the auth function before queueing', async (t) => {
  assertRefused(t, await call('/api/v1/bat/by-func/s', { method: 'POST' }), 'async refused');
  const ok = await call('/api/v1/bat/by-func/s', { method: 'POST', headers: { 'X-Gate': 'letmein' } });
  t.equal(ok.status, 200);
  t.match(ok.body.data.id, /^task-/);
});

t.test("an auth function's runs are no task records", async (t) => {
  const page = await adminGet(base, '/api/v1/task-records?funcId=gate__check.verify');
  t.same(page.records, [], 'none for the auth function');
  const calls = await adminGet(base, '/api/v1/task-records?funcId=gate__calls.request_view&originId=by-func&origin=syncAPI');
  t.ok(calls.records.length > 0, 'the API calls it admitted are');
});
