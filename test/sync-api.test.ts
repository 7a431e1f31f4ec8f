// Every sync API call form, kwargs rule, result encoding and error row, against a started
// gitfunc serving a repository from a real git HTTP server.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const BODY_LIMIT = 64 * 1024;

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(readTree(path.join(FIXTURES, 'callables')));
await git.publish('callables', work.dir);
const configFile = path.join(os.tmpdir(), `gitfunc-sync-api-${process.pid}.yaml`);
writeFileSync(configFile, `limits:\n  bodyBytes: ${BODY_LIMIT}\n`);
const gitfunc = await startGitfunc(['--repo', git.url('callables'), '--ref', 'main', '--config', configFile]);
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

async function call(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; type: string; text: string; headers: Headers }> {
  const res = await fetch(`${base}${pathAndQuery}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

async function callJson(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await call(pathAndQuery, init);
  return { status: res.status, body: JSON.parse(res.text), headers: res.headers };
}

function postJson(value: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

t.test('the seed hello call answers in every form', async (t) => {
  const expected = { message: 'hi' };
  for (const url of [
    '/api/v1/al/hello/simplified?message=hi',
    '/api/v1/al/hello/s?message=hi',
    '/api/v1/sync/hello/s?message=hi',
    `/api/v1/al/hello?kwargs=${encodeURIComponent('{"message":"hi"}')}`,
    `/api/v1/sync/hello/normal?kwargs=${encodeURIComponent('{"message":"hi"}')}`,
  ]) {
    const res = await callJson(url);
    t.equal(res.status, 200, url);
    t.same(res.body, expected, url);
  }
  for (const url of ['/api/v1/al/hello', '/api/v1/al/hello/normal', '/api/v1/sync/hello']) {
    const res = await callJson(url, postJson({ kwargs: { message: 'hi' } }));
    t.same([res.status, res.body], [200, expected], url);
  }
  const simplified = await callJson('/api/v1/al/hello/s', postJson({ message: 'hi' }));
  t.same(simplified.body, expected);
  const form = await callJson('/api/v1/al/hello/simplified', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'message=hi',
  });
  t.same(form.body, expected);
});

t.test('JSON forms keep types, query and form values are strings', async (t) => {
  const kwargs = { n: 1, flag: true, list: [1, 'a'], nested: { x: null } };
  const get = await callJson(`/api/v1/al/echo?kwargs=${encodeURIComponent(JSON.stringify(kwargs))}`);
  t.same(get.body, kwargs);
  const post = await callJson('/api/v1/al/echo', postJson({ kwargs }));
  t.same(post.body, kwargs);
  const simplified = await callJson('/api/v1/al/echo/s?n=1&flag=true');
  t.same(simplified.body, { n: '1', flag: 'true' });
  const postedJson = await callJson('/api/v1/al/echo/s', postJson(kwargs));
  t.same(postedJson.body, kwargs, 'a simplified JSON body keeps its types');
  const postedForm = await callJson('/api/v1/al/echo/s', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'n=1&flag=true',
  });
  t.same(postedForm.body, { n: '1', flag: 'true' }, 'form values are strings');
});

t.test('non-JSON bodies reach the function as text or base64', async (t) => {
  const text = await callJson('/api/v1/al/echo/s', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'héllo\nworld' });
  t.same(text.body, { text: 'héllo\nworld' });
  const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
  const binary = await callJson('/api/v1/al/echo/s', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  t.same(binary.body, { base64: bytes.toString('base64') });
  const xml = await callJson('/api/v1/al/echo/s', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
  t.same(xml.body, { base64: Buffer.from('<a/>').toString('base64') });
});

t.test('results are encoded per the contract', async (t) => {
  const cases: [string, number, string, string][] = [
    ['str', 200, 'text/plain; charset=utf-8', 'plain text'],
    ['int', 200, 'text/plain; charset=utf-8', '42'],
    ['float', 200, 'text/plain; charset=utf-8', '1.5'],
    ['zero', 200, 'text/plain; charset=utf-8', '0'],
    ['empty', 200, 'text/plain; charset=utf-8', ''],
    ['false', 200, 'application/json; charset=utf-8', 'false'],
    ['none', 200, 'application/json; charset=utf-8', 'null'],
    ['list', 200, 'application/json; charset=utf-8', '[1,"two",{"three":3}]'],
    ['date', 200, 'application/json; charset=utf-8', '{"at":"2026-01-02"}'],
    ['shout', 200, 'text/plain; charset=utf-8', 'HI!'],
  ];
  for (const [kind, status, type, text] of cases) {
    const res = await call(`/api/v1/al/value/s?kind=${kind}`);
    t.same([res.status, res.type, res.text], [status, type, text], kind);
  }
  const dumped = await call(`/api/v1/al/value?kwargs=${encodeURIComponent('{"kind":"str"}')}&options=${encodeURIComponent('{"returnType":"jsonDumps"}')}`);
  t.same([dumped.type, dumped.text], ['application/json; charset=utf-8', '"plain text"']);
});

t.test('manifest kwargs: INPUT_BY_CALLER, fixed values, undeclared keys', async (t) => {
  t.same((await callJson('/api/v1/al/fixed/s?name=ann')).body, { name: 'ann', mode: 'fixed-mode' });
  t.same((await callJson('/api/v1/al/fixed/s')).body, { mode: 'fixed-mode' });
  const fixed = await callJson('/api/v1/al/fixed/s?name=ann&mode=mine');
  t.equal(fixed.status, 400);
  t.equal(fixed.body.error, 400.43);
  t.match(fixed.body.message, /Cannot specify a fixed kwargs field: mode/);
  const extra = await callJson('/api/v1/al/fixed', postJson({ kwargs: { other: 1 } }));
  t.equal(extra.body.error, 400.43);
  t.match(extra.body.message, /Unexpected kwargs field 'other'/);
});

t.test("a kwarg the function cannot take is refused with 400.43 before it runs, naming what it takes", async (t) => {
  const misspelt = await callJson('/api/v1/al/hello/s?mesage=hi');
  t.equal(misspelt.status, 400);
  t.match(misspelt.body, { error: 400.43, reason: 'EClientBadRequest', detail: { field: 'mesage', accepted: ['message'] } });
  t.equal(misspelt.body.message, "Unexpected kwargs field 'mesage': the function takes only 'message'");
  const none = await callJson('/api/v1/al/context', postJson({ kwargs: { x: 1 } }));
  t.match(none.body, { error: 400.43, message: "Unexpected kwargs field 'x': the function takes no kwargs" });
  t.notOk(
    gitfunc.logs.some((l) => l.apiId === 'hello' && l.status === 599),
    'never run, so never a function failure',
  );
  // **kwargs takes any name, and a known name still runs.
  t.same((await callJson('/api/v1/al/echo/s?anything=1')).body, { anything: '1' });
  t.same((await callJson('/api/v1/al/hello/s?message=ok')).body, { message: 'ok' });
});

t.test('a sync call waits at most 180 s, whatever the API declares', async (t) => {
  // The manifest says 600 s: the API's timeout is capped, so options.timeout may not pass 180.
  const options = (timeout: number): string => `options=${encodeURIComponent(JSON.stringify({ timeout }))}`;
  const kwargs = `kwargs=${encodeURIComponent('{"seconds":0}')}`;
  const atCap = await call(`/api/v1/al/slow-declared?${kwargs}&${options(180)}`);
  t.same([atCap.status, atCap.text], [200, 'rested']);
  const overCap = await callJson(`/api/v1/al/slow-declared?${kwargs}&${options(181)}`);
  t.same([overCap.status, overCap.body.error], [400, 400.43]);
  t.match(overCap.body.message, /at most 180$/);
});

t.test('bad requests answer 400.43 and never echo the body', async (t) => {
  const secret = 'do-not-echo-7f3a';
  const cases: [string, RequestInit][] = [
    ['/api/v1/al/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"kwargs": ${secret}` }],
    ['/api/v1/al/echo/s', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${secret}` }],
    ['/api/v1/al/echo/s', postJson([secret])],
    ['/api/v1/al/echo', postJson({ kwargs: {}, extra: secret })],
    ['/api/v1/al/echo', postJson({ kwargs: [secret] })],
    ['/api/v1/al/echo', postJson({ kwargs: {}, options: { colour: secret } })],
    ['/api/v1/al/echo', postJson({ kwargs: {}, options: { returnType: secret } })],
    ['/api/v1/al/echo', postJson({ kwargs: {}, options: { timeout: 3600 } })],
    [`/api/v1/al/echo?kwargs=${secret}`, {}],
    [`/api/v1/al/echo?kwargs=%7B%7D&bogus=${secret}`, {}],
  ];
  for (const [url, init] of cases) {
    const res = await call(url, init);
    const body = JSON.parse(res.text);
    t.equal(res.status, 400, url);
    t.equal(body.error, 400.43, url);
    t.equal(body.ok, false);
    t.equal(body.status, 400);
    t.equal(body.traceId, res.headers.get('x-trace-id'));
    t.notMatch(res.text, secret, `no echo for ${url}`);
  }
});

t.test('refused kwargs and options answer the exact DFF error body', async (t) => {
  const traced = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), 'x-trace-id': 'trace-exact' } });
  const body = (message: string, detail: Record<string, unknown>): string =>
    JSON.stringify({ ok: false, error: 400.43, reason: 'EClientBadRequest', message, detail, status: 400, traceId: 'trace-exact' });
  const cases: [string, RequestInit, string][] = [
    ['/api/v1/al/fixed/s?name=ann&mode=mine', {}, body('Cannot specify a fixed kwargs field: mode', { field: 'mode' })],
    ['/api/v1/al/fixed', postJson({ kwargs: { other: 1 } }), body("Unexpected kwargs field 'other': this API does not take it", { field: 'other' })],
    ['/api/v1/al/echo', postJson({ kwargs: {}, options: { colour: 1 } }), body("Unknown option 'colour': only returnType and timeout are accepted", {})],
    ['/api/v1/al/echo', postJson({ kwargs: {}, options: { returnType: 'xml' } }), body("options.returnType must be 'raw' or 'jsonDumps'", {})],
  ];
  for (const [url, init, expected] of cases) {
    const res = await call(url, traced(init));
    t.same([res.status, res.type, res.text], [400, 'application/json; charset=utf-8', expected], url);
  }
});

t.test('unknown APIs, forms and routes answer 404.41', async (t) => {
  for (const url of ['/api/v1/al/nope', '/api/v1/sync/nope/s', '/api/v1/al/hello/bogus', '/nothing/here']) {
    const res = await callJson(url);
    t.equal(res.status, 404, url);
    t.same(Object.keys(res.body).sort(), ['detail', 'error', 'message', 'ok', 'reason', 'status', 'traceId']);
    t.equal(res.body.error, 404.41, url);
  }
});

t.test('an oversize body answers 413.1', async (t) => {
  const res = await callJson('/api/v1/al/echo/s', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(BODY_LIMIT + 1) });
  t.equal(res.status, 413);
  t.equal(res.body.error, 413.1);
  const atLimit = await callJson('/api/v1/al/echo/s', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(BODY_LIMIT) });
  t.equal(atLimit.status, 200);
});

t.test('a Python exception answers 599.1 with user frames only', async (t) => {
  const res = await callJson('/api/v1/al/crash/s?n=0');
  t.equal(res.status, 599);
  t.equal(res.body.error, 599.1);
  t.equal(res.body.detail.exception, 'ZeroDivisionError: division by zero');
  const traceback: string = res.body.detail.traceback;
  t.match(traceback, /File "errors\/raising\.py", line 10, in crash/);
  t.match(traceback, /File "errors\/raising\.py", line 5, in inner\n\s+return 10 \/ n/);
  t.notMatch(traceback, /gitfunc_runtime|gitfunc_dff|pyodide|\/lib\/python/);
  t.equal((await callJson('/api/v1/al/crash/s?n=5')).body, 2);
});

t.test('scripts see their call context and no credentials', async (t) => {
  const res = await callJson('/api/v1/al/context/s', {
    headers: { authorization: 'Bearer abc', cookie: 'session=1', 'x-custom': 'yes' },
  });
  t.equal(res.status, 200);
  t.equal(res.body.taskId, res.headers.get('x-task-id'));
  t.match(res.body.taskId, /^task-[A-Za-z0-9_-]{24}$/);
  t.same(
    { funcId: res.body.funcId, origin: res.body.origin, originId: res.body.originId, attempt: res.body.attempt, method: res.body.method, region: res.body.region },
    { funcId: 'calls__basic.context', origin: 'syncAPI', originId: 'context', attempt: 1, method: 'GET', region: 'eu-test' },
  );
  t.ok(res.body.headers.includes('x-custom'));
  t.notOk(res.body.headers.includes('authorization'));
  t.notOk(res.body.headers.includes('cookie'));
});

t.test('trace ids are echoed when safe, cost and task ids always sent, one log line per call', async (t) => {
  const echoed = await call('/api/v1/al/hello/s?message=x', { headers: { 'x-trace-id': 'trace-abc.123' } });
  t.equal(echoed.headers.get('x-trace-id'), 'trace-abc.123');
  t.match(echoed.headers.get('x-request-cost'), /^\d+$/);
  const unsafe = await call('/api/v1/al/hello/s?message=x', { headers: { 'x-trace-id': '<script>' } });
  t.match(unsafe.headers.get('x-trace-id'), /^trace-[0-9a-f-]{36}$/);
  const notFound = await call('/api/v1/al/nope');
  t.ok(notFound.headers.get('x-trace-id'));
  t.ok(notFound.headers.get('x-request-cost'));

  const line = gitfunc.logs.find((l) => l.traceId === 'trace-abc.123');
  t.ok(line, 'request logged');
  t.match(line, { apiId: 'hello', status: 200, taskId: echoed.headers.get('x-task-id'), commit: await work.head() });
  t.type(line!.ms, 'number');
});
