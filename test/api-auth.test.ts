// API auth declared in the manifest: fixedField (header, query, body) and httpBasic, against a
// started gitfunc; credentials never reach the function, secrets never leave the server.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { RevisionInvalidError } from '../src/errors.js';
import { adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { AUTH_ENV, AUTH_REPO, SECRETS } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const gitfunc = await startGitfunc(['--repo', AUTH_REPO], AUTH_ENV);
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

async function call(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${pathAndQuery}`, init);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function postJson(value: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function assertRefused(t: Test, res: { status: number; body: any; headers: Headers }, what: string): void {
  t.equal(res.status, 401, what);
  t.match(res.body, { ok: false, error: 401.99, reason: 'EAuthFailed', status: 401 }, what);
  t.ok(res.headers.get('x-trace-id') && res.headers.get('x-request-cost'), `${what}: trace headers`);
  t.equal(res.headers.get('x-task-id'), null, `${what}: no task ran`);
}

t.test('_DFF_HTTP_REQUEST is {method, url, headers, query, body, ip} of the call, and the fields Express adds', async (t) => {
  const res = await call('/api/v1/al/open/s?q=1', postJson({ x: 1 }, { 'x-kept': 'yes' }));
  t.equal(res.status, 200);
  const request = res.body.request;
  t.same(Object.keys(request).sort(), ['body', 'headers', 'host', 'hostname', 'ip', 'ips', 'method', 'originalUrl', 'protocol', 'query', 'url', 'xhr']);
  t.match(request, { method: 'POST', url: '/api/v1/al/open/s?q=1', query: { q: '1' }, body: { x: 1 }, headers: { 'x-kept': 'yes' } });
  t.match(request.ip, /^(::ffff:)?127\.0\.0\.1$/);
});

t.test('header fixedField: right, wrong, empty and missing credentials', async (t) => {
  const ok = await call('/api/v1/al/by-header/s?x=1', {
    headers: { 'X-Token': SECRETS.HEADER_TOKEN, authorization: 'Bearer other', cookie: 'session=abc', 'x-kept': 'yes' },
  });
  t.equal(ok.status, 200);
  t.same(ok.body.kwargs, { x: '1' });
  const seen = ok.body.request.headers as Record<string, string>;
  t.equal(seen['x-kept'], 'yes', 'other headers reach the function');
  for (const hidden of ['x-token', 'authorization', 'cookie']) t.notOk(hidden in seen, `${hidden} hidden from _DFF_HTTP_REQUEST`);
  t.notMatch(JSON.stringify(ok.body), SECRETS.HEADER_TOKEN);

  assertRefused(t, await call('/api/v1/al/by-header/s', { headers: { 'X-Token': 'wrong' } }), 'wrong token');
  assertRefused(t, await call('/api/v1/al/by-header/s', { headers: { 'X-Token': '' } }), 'empty token');
  assertRefused(t, await call('/api/v1/al/by-header/s'), 'missing token');
  const refused = await call('/api/v1/al/by-header/s');
  t.equal(refused.headers.get('www-authenticate'), null, 'fixedField asks for no Basic credentials');
});

t.test('query fixedField: the field is removed from kwargs, query and url', async (t) => {
  const ok = await call(`/api/v1/al/by-query/s?token=${SECRETS.QUERY_TOKEN}&x=1`);
  t.equal(ok.status, 200);
  t.same(ok.body.kwargs, { x: '1' });
  t.same(ok.body.request.query, { x: '1' });
  t.equal(ok.body.request.url, '/api/v1/al/by-query/s?x=1');
  const normal = await call(`/api/v1/al/by-query?kwargs=${encodeURIComponent('{"a":1}')}&token=${SECRETS.QUERY_TOKEN}`);
  t.equal(normal.status, 200, 'the normal form accepts the auth field beside kwargs');
  t.same(normal.body.kwargs, { a: 1 });
  const post = await call(`/api/v1/al/by-query/s?token=${SECRETS.QUERY_TOKEN}`, postJson({ y: 2 }));
  t.same([post.status, post.body.kwargs], [200, { y: 2 }]);
  assertRefused(t, await call('/api/v1/al/by-query/s?token=wrong&x=1'), 'wrong token');
  assertRefused(t, await call(`/api/v1/al/by-query/s?token=${SECRETS.QUERY_TOKEN}&token=${SECRETS.QUERY_TOKEN}`), 'repeated token');
  assertRefused(t, await call('/api/v1/al/by-query/s?x=1'), 'missing token');
  assertRefused(t, await call('/api/v1/al/by-query/s', { headers: { token: SECRETS.QUERY_TOKEN } }), 'token in the wrong place');
});

t.test('body fixedField: JSON and form bodies, normal and simplified forms', async (t) => {
  const ok = await call('/api/v1/al/by-body/s', postJson({ token: SECRETS.BODY_TOKEN, x: 1 }));
  t.equal(ok.status, 200);
  t.same(ok.body.kwargs, { x: 1 });
  t.same(ok.body.request.body, { x: 1 }, 'hidden from _DFF_HTTP_REQUEST');
  const normal = await call('/api/v1/al/by-body', postJson({ kwargs: { a: 1 }, token: SECRETS.BODY_TOKEN }));
  t.same([normal.status, normal.body.kwargs], [200, { a: 1 }]);
  const form = await call('/api/v1/al/by-body/s', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${SECRETS.BODY_TOKEN}&x=1`,
  });
  t.same([form.status, form.body.kwargs, form.body.request.body], [200, { x: '1' }, { x: '1' }]);
  assertRefused(t, await call('/api/v1/al/by-body/s', postJson({ token: 'wrong', x: 1 })), 'wrong token');
  assertRefused(t, await call('/api/v1/al/by-body/s', postJson({ token: 7 })), 'a number is not the token');
  assertRefused(t, await call('/api/v1/al/by-body/s', postJson({ x: 1 })), 'missing token');
  assertRefused(t, await call(`/api/v1/al/by-body/s?token=${SECRETS.BODY_TOKEN}`), 'a GET has no body');
  assertRefused(t, await call('/api/v1/al/by-body/s', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: SECRETS.BODY_TOKEN }), 'text body');
});

t.test('httpBasic: each user, wrong password, missing header', async (t) => {
  for (const [user, password] of [['ops', SECRETS.OPS_PASSWORD], ['dev', SECRETS.DEV_PASSWORD]] as const) {
    const ok = await call('/api/v1/al/by-basic/s?x=1', { headers: { authorization: basic(user, password) } });
    t.equal(ok.status, 200, user);
    t.notOk('authorization' in ok.body.request.headers, 'Authorization hidden');
  }
  for (const [what, headers] of [
    ['wrong password', { authorization: basic('ops', SECRETS.DEV_PASSWORD) }],
    ['unknown user', { authorization: basic('eve', SECRETS.OPS_PASSWORD) }],
    ['empty password', { authorization: basic('ops', '') }],
    ['not Basic', { authorization: `Bearer ${SECRETS.OPS_PASSWORD}` }],
    ['missing', {}],
  ] as const) {
    const res = await call('/api/v1/al/by-basic/s', { headers });
    assertRefused(t, res, what);
    t.equal(res.headers.get('www-authenticate'), 'Basic realm="gitfunc"', `${what}: asks for Basic credentials`);
  }
});

t.test('async APIs check auth before queueing', async (t) => {
  assertRefused(t, await call('/api/v1/bat/by-header/s', { method: 'POST' }), 'async without token');
  const ok = await call('/api/v1/bat/by-header/s?x=1', { method: 'POST', headers: { 'X-Token': SECRETS.HEADER_TOKEN } });
  t.equal(ok.status, 200);
  const record = await waitForTask(base, ok.body.data.id, ended);
  t.equal(record.status, 'success');
  t.notOk('x-token' in record.returnValue.request.headers, 'the queued request keeps no credentials');
});

t.test('cache_result never answers a caller that fails the auth: auth is checked first', async (t) => {
  const token = { 'X-Token': SECRETS.HEADER_TOKEN };
  const first = await fetch(`${base}/api/v1/al/cached-by-header/s?x=1`, { headers: token });
  t.same([first.status, await first.json()], [200, { kwargs: { x: '1' }, runs: 1 }]);
  const hit = await fetch(`${base}/api/v1/al/cached-by-header/s?x=1`, { headers: token });
  t.equal(hit.headers.get('x-dff-cache'), 'Cached', 'the same call with the credential is a hit');
  t.same(await hit.json(), { kwargs: { x: '1' }, runs: 1 });

  for (const [what, headers] of [
    ['wrong token', { 'X-Token': 'wrong' }],
    ['missing token', {}],
  ] as const) {
    const res = await call('/api/v1/al/cached-by-header/s?x=1', { headers });
    assertRefused(t, res, what);
    t.equal(res.headers.get('x-dff-cache'), null, `${what}: not answered from the cache`);
    t.notMatch(JSON.stringify(res.body), /runs/, `${what}: nothing of the cached result`);
  }
  const after = await fetch(`${base}/api/v1/al/cached-by-header/s?x=1`, { headers: token });
  t.same([after.headers.get('x-dff-cache'), await after.json()], ['Cached', { kwargs: { x: '1' }, runs: 1 }], 'the cache still serves the caller who passes');
});

t.test('secret values are masked in error bodies, task records and logs', async (t) => {
  const sync = await call('/api/v1/al/leak/s');
  t.equal(sync.status, 599);
  t.match(sync.body.detail.exception, 'ValueError: bad secret ***');
  t.match(sync.body.detail.traceback, '***');
  t.notMatch(JSON.stringify(sync.body), SECRETS.HEADER_TOKEN, 'not in the error body');
  const record = await adminGet(base, `/api/v1/tasks/${sync.headers.get('x-task-id')}`);
  t.match(record.printLogs, 'the secret is ***');
  t.match(record.exceptionText, 'bad secret ***');
  t.notMatch(JSON.stringify(record), SECRETS.HEADER_TOKEN, 'not in the sync record');

  const queued = await call('/api/v1/bat/leak/s', { method: 'POST' });
  const asyncRecord = await waitForTask(base, queued.body.data.id, ended);
  t.equal(asyncRecord.status, 'failure');
  t.match(asyncRecord.printLogs, 'the secret is ***');
  t.notMatch(JSON.stringify(asyncRecord), SECRETS.HEADER_TOKEN, 'not in the async record');

  const failures = gitfunc.logs.filter((l) => l.msg === 'call failed' && l.funcId === asyncRecord.funcId);
  t.match(failures, [{ level: 40, exceptionText: 'bad secret ***' }, { level: 40, exceptionText: 'bad secret ***' }], 'sync and async failures logged, masked');
  const logs = JSON.stringify(gitfunc.logs);
  for (const secret of Object.values(SECRETS)) t.notMatch(logs, secret, 'no secret in the server logs');
});

t.test('a revision whose secrets are refused, unset or empty is never served', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-auth-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'secure'));
  writeFileSync(path.join(dir, 'secure', 'calls.py'), "@DFF.API('Plain')\ndef plain(**kwargs):\n    return kwargs\n");
  writeFileSync(path.join(dir, 'secure', 'boom.py'), "raise ValueError('cannot start with ' + DFF.ENV('LEAK'))\n");
  writeFileSync(
    path.join(dir, 'gitfunc.yaml'),
    [
      'version: 1',
      'env: {LEAK: "${SET_TOKEN}"}',
      'apiAuths:',
      '  - id: own-token',
      '    type: fixedField',
      '    fields: [{location: header, name: X-Token, value: "${GITFUNC_GIT_TOKEN}"}]',
      '  - id: unset',
      '    type: fixedField',
      '    fields: [{location: header, name: X-Token, value: "${UNSET_TOKEN}"}]',
      '  - id: empty',
      '    type: httpBasic',
      '    users: [{username: ops, password: "${EMPTY_PASSWORD}"}]',
      'syncAPIs:',
      '  - {id: plain, func: secure__calls.plain, auth: own-token}',
      '',
    ].join('\n'),
  );
  const env = {
    GITFUNC_GIT_TOKEN: 'git-token-3e9d',
    GITFUNC_ENV_ALLOW: 'UNSET_TOKEN,EMPTY_PASSWORD,SET_TOKEN',
    EMPTY_PASSWORD: '',
    SET_TOKEN: 'set-token-51ab',
  };
  const error = await startGitfunc(['--repo', dir], env).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, RevisionInvalidError);
  const problems = (error as RevisionInvalidError).problems.filter((p) => p.severity === 'error');
  const manifestProblems = problems.filter((p) => p.file === 'gitfunc.yaml');
  t.match(
    manifestProblems.map((p) => [p.line, p.message]),
    [
      [6, /apiAuth own-token: \$\{GITFUNC_GIT_TOKEN\} can never be read/],
      [9, /apiAuth unset: \$\{UNSET_TOKEN\} is not set/],
      [12, /apiAuth empty: \$\{EMPTY_PASSWORD\} is empty/],
    ],
  );
  t.match(problems.find((p) => p.file === 'secure/boom.py')?.message, /cannot start with \*\*\*/, 'an import error is masked');
  // These problems are what the server logs as 'revision failed'.
  t.notMatch(JSON.stringify(error), /git-token-3e9d|set-token-51ab/, 'values are never shown');
});
