// DataFlux Func compatibility items of CONTRACT section 12, through a started gitfunc: numbers
// as DFF's (JavaScript) server writes them, _DFF_HTTP_REQUEST's case-insensitive headers and
// Express fields, DFF.RESP_LARGE_DATA, DFF members gitfunc lacks (and the check's warnings),
// api_timeout beside timeout, and the normal call forms taking the same fields.
import { request } from 'node:http';
import path from 'node:path';
import t from 'tap';
import { checkInProcess } from './helpers/check-in-process.js';
import { ADMIN_TOKEN, adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const REPO = path.join(FIXTURES, 'dff-compat');
const gitfunc = await startGitfunc(['--repo', REPO], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());

interface Answer {
  status: number;
  type: string | null;
  text: string;
  taskId: string | null;
  ms: number;
}

async function call(pathAndQuery: string, init?: RequestInit): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${gitfunc.url}${pathAndQuery}`, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, taskId: res.headers.get('x-task-id'), ms: performance.now() - started };
}

/** A GET through node:http, which (unlike fetch) sends the Host header it is given; resolves with the body. */
function getWithHeaders(pathAndQuery: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gitfunc.url}${pathAndQuery}`, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

function kwargsQuery(kwargs: Record<string, unknown>, options?: Record<string, unknown>): string {
  const query = `?kwargs=${encodeURIComponent(JSON.stringify(kwargs))}`;
  return options === undefined ? query : `${query}&options=${encodeURIComponent(JSON.stringify(options))}`;
}

t.test('a plain number result is written as JavaScript writes it', async (t) => {
  const expected: [string, number][] = [
    ['whole', 30],
    ['huge', 1e21],
    ['big', 1e20],
    ['negative-zero', -0],
    ['tiny', 1e-7],
    ['small', 1.5e-5],
    ['fraction', 0.1],
    ['int', 30],
  ];
  for (const [name, value] of expected) {
    const res = await call(`/api/v1/al/number/s?name=${name}`);
    t.same([res.status, res.text], [200, String(value)], `${name}: ${String(value)}`);
    t.match(res.type, /^text\/plain/);
  }
  t.same([(await call('/api/v1/al/number/s?name=whole')).text], ['30'], 'not 30.0');
  for (const name of ['nan', 'infinity']) {
    const res = await call(`/api/v1/al/number/s?name=${name}`);
    t.same([res.status, res.text], [200, 'null'], `${name}: null, as JSON.stringify writes it`);
    t.match(res.type, /^application\/json/);
  }
});

t.test('floats nested in a JSON result are written as JSON.stringify writes them', async (t) => {
  const asJavaScript = JSON.stringify({
    whole: 30,
    list: [1, -0, 2.5, 1e21, 1e-7, 1.5e-5, NaN, -Infinity, 2 ** 60],
    text: 'keeps 30.0, 1e-05 and NaN',
    deep: { x: [{ y: 1e16 }], tuple: [4, 5] },
    decimal: 2,
  });
  const res = await call('/api/v1/al/nested');
  t.equal(res.status, 200);
  t.equal(res.text, asJavaScript);
  t.equal(res.text, '{"whole":30,"list":[1,0,2.5,1e+21,1e-7,0.000015,null,null,1152921504606847000],"text":"keeps 30.0, 1e-05 and NaN","deep":{"x":[{"y":10000000000000000}],"tuple":[4,5]},"decimal":2}');
  const dumped = await call(`/api/v1/al/nested${kwargsQuery({}, { returnType: 'jsonDumps' })}`);
  t.equal(dumped.text, asJavaScript, 'returnType jsonDumps too');
  const record = await waitForTask(gitfunc.url, res.taskId!, ended);
  t.same(record.returnValue, JSON.parse(asJavaScript), 'the task record holds the same numbers');
});

t.test('_DFF_HTTP_REQUEST: headers in any case, and the fields Express gives', async (t) => {
  const res = await getWithHeaders('/api/v1/al/request/s?x=1', {
    'X-Custom': 'yes',
    'X-Custom-Two': '2',
    Host: 'api.example.com:8443',
    'X-Requested-With': 'XMLHttpRequest',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Host': 'forged.example.com',
    'X-Forwarded-Proto': 'https',
  });
  t.equal(res.status, 200, res.text);
  const seen = JSON.parse(res.text);
  t.same(seen.lookups, ['yes', 'yes', true, 'none'], '[], get and in ignore case');
  t.same([seen.isDict, seen.dumped, seen.names], [true, 'yes', ['x-custom', 'x-custom-two']], 'still a dict, iterated and dumped as one');
  t.same(seen.fields, {
    ip: '127.0.0.1',
    ips: [],
    host: 'api.example.com:8443',
    hostname: 'api.example.com',
    protocol: 'http',
    xhr: true,
    method: 'GET',
    url: '/api/v1/al/request/s?x=1',
    originalUrl: '/api/v1/al/request/s?x=1',
  }, 'without trustProxy, X-Forwarded-* headers are not believed');
  const plain = JSON.parse((await getWithHeaders('/api/v1/al/request', { 'x-custom': 'no', host: '[::1]:9000' })).text);
  t.same([plain.fields.xhr, plain.fields.hostname], [false, '[::1]'], 'no X-Requested-With; an IPv6 host keeps its brackets');
});

t.test('DFF.RESP_LARGE_DATA answers with the body, inline, typed as DFF types it', async (t) => {
  const rows = await call(`/api/v1/al/large${kwargsQuery({ kind: 'rows', size: 20_000 })}`);
  t.equal(rows.status, 200);
  t.match(rows.type, /^application\/json/);
  const parsed = JSON.parse(rows.text) as { id: number; value: number }[];
  t.same([parsed.length, parsed[3], parsed[19_999]], [20_000, { id: 3, value: 1.5 }, { id: 19_999, value: 9999.5 }]);
  t.ok(rows.text.includes('{"id":2,"value":1}'), 'its floats written as JavaScript writes them');
  const text = await call(`/api/v1/al/large${kwargsQuery({ kind: 'text', size: 3_000_000 })}`);
  t.same([text.status, text.text.length, text.type], [200, 3_000_000, 'text/plain; charset=utf-8']);
  const csv = await fetch(`${gitfunc.url}/api/v1/al/large${kwargsQuery({ kind: 'csv' })}`);
  t.same([csv.headers.get('content-type'), csv.headers.get('content-disposition'), await csv.text()], ['text/csv; charset=utf-8', null, 'a,b\n1,2\n']);
});

t.test('a DFF member gitfunc lacks raises NotImplementedError naming it', async (t) => {
  for (const name of ['SQL', 'THREAD', 'sys_db', 'FUNC']) {
    const res = await call(`/api/v1/al/member/s?name=${name}`);
    t.equal(res.status, 599, name);
    const body = JSON.parse(res.text);
    t.equal(body.error, 599.1);
    t.match(body.detail.exception, new RegExp(`^NotImplementedError: DFF\\.${name} is not supported by gitfunc`), name);
    t.match(body.detail.traceback, /NotImplementedError: DFF\./);
  }
  const probe = JSON.parse((await call('/api/v1/al/member/s?name=probe')).text);
  t.same(probe, { hasattr: false, getattr: 'default', lower: true }, 'hasattr and getattr with a default see it missing; lower-case names work as in DFF');
  const unknown = JSON.parse((await call('/api/v1/al/member/s?name=NOPE')).text);
  t.match(unknown.detail.exception, /^AttributeError: DFF has no member 'NOPE'/, 'a name DFF never had is an AttributeError');
  t.match((await call('/api/v1/al/member/s?name=RESP_LARGE_DATA')).text, /function RESP_LARGE_DATA/, 'what gitfunc has is there');
});

t.test('uses of a lacking DFF member are warnings at file:line:col, in gitfunc check and in the status', async (t) => {
  const expected = [
    { file: 'compat/members.py', line: 13, col: 12, severity: 'warning', message: /^DFF\.SQL is not supported by gitfunc \(using it raises NotImplementedError\)$/ },
    { file: 'compat/members.py', line: 17, col: 12, severity: 'warning', message: /^DFF\.func is not supported by gitfunc: import the script/ },
  ];
  const status = await adminGet(gitfunc.url, '/api/v1/status');
  t.match(status.revision.warnings, expected, 'the served revision lists them');
  t.equal(status.revision.warnings.length, 2, 'getattr(DFF, name) and hasattr are not flagged');
  const problems = await checkInProcess(REPO, { packagesDir: path.join(t.testdir(), 'packages') });
  t.match(problems, expected, 'gitfunc check warns, and does not fail');
  t.equal(problems.length, 2);
});

t.test('api_timeout with timeout: the caller waits api_timeout, the run goes on to timeout and is recorded', async (t) => {
  // detached: timeout=3, api_timeout=1.
  const late = await call(`/api/v1/al/detached${kwargsQuery({ seconds: 2, marker: 'late' })}`);
  t.equal(late.status, 599);
  t.match(JSON.parse(late.text), { error: 599.2, detail: { timeout: 1 } });
  t.ok(late.ms >= 950 && late.ms < 1900, `answered at the wait, not at the end of the run (${Math.round(late.ms)} ms)`);
  t.match(late.taskId, /^task-/, 'with the id of its task record');
  const record = await waitForTask(gitfunc.url, late.taskId!, ended);
  t.match(record, { status: 'success', returnValue: { done: 'late' } }, 'the run finished and was recorded');
  t.ok(record.endTime - record.startTime >= 1900, 'it ran its full two seconds');
  t.match(record.printLogs, /finished late/);

  const stopped = await call(`/api/v1/al/detached${kwargsQuery({ seconds: 10, marker: 'stopped' })}`);
  t.match([stopped.status, JSON.parse(stopped.text).error], [599, 599.2]);
  const timedOut = await waitForTask(gitfunc.url, stopped.taskId!, ended);
  t.match(timedOut, { status: 'timeout', exceptionType: 'TimeoutError' }, 'a run past its own timeout is stopped there');
  t.ok(timedOut.endTime - timedOut.startTime < 5000, 'at its timeout of 3 s');

  const quick = await call(`/api/v1/al/detached${kwargsQuery({ seconds: 0.1, marker: 'quick' })}`);
  t.same([quick.status, JSON.parse(quick.text)], [200, { done: 'quick' }], 'a run within the wait answers as usual');
});

t.test('api_timeout alone is the timeout, as before', async (t) => {
  const res = await call(`/api/v1/al/alias${kwargsQuery({ seconds: 3 })}`);
  t.match([res.status, JSON.parse(res.text).error], [599, 599.2]);
  const record = await waitForTask(gitfunc.url, res.taskId!, ended);
  t.equal(record.status, 'timeout', 'the run was stopped with the answer');
  t.ok(record.endTime - record.startTime < 2500);
});

t.test('GET and POST normal forms take the same fields', async (t) => {
  const kwargs = { message: 'hi', n: 1.5 };
  const expected = '{"message":"hi","n":1.5}';
  const options = { returnType: 'raw' };
  const get = await call(`/api/v1/al/echo${kwargsQuery(kwargs, options)}`);
  t.same([get.status, get.text], [200, expected], 'GET: JSON text in the query');
  const form = await call('/api/v1/al/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `kwargs=${encodeURIComponent(JSON.stringify(kwargs))}&options=${encodeURIComponent(JSON.stringify(options))}`,
  });
  t.same([form.status, form.text], [200, expected], 'POST: the same JSON text in a form body');
  const asText = await call('/api/v1/al/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kwargs: JSON.stringify(kwargs), options: JSON.stringify(options) }),
  });
  t.same([asText.status, asText.text], [200, expected], 'POST: JSON text in a JSON body, as DFF reads it');
  for (const [what, init] of [
    ['an unexpected form field', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'kwargs=%7B%7D&extra=1' }],
    ['kwargs text that is not JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kwargs":"{nope"}' }],
    ['kwargs text that is not an object', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kwargs":"[1]"}' }],
  ] as const) {
    const res = await call('/api/v1/al/echo', init);
    t.match([res.status, JSON.parse(res.text).error], [400, 400.43], what);
  }
  t.match(JSON.parse((await call('/api/v1/al/echo?kwargs=%7B%7D&extra=1')).text).error, 400.43, 'GET: the same field refused');
});
