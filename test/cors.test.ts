// CORS of the function APIs from the `cors` settings: preflights, headers on answers and
// errors, and none on admin routes.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN } from './helpers/admin-client.js';
import { AUTH_ENV, AUTH_REPO, SECRETS } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const ORIGIN = 'https://app.example.com';
const gitfunc = await startGitfunc(['--repo', AUTH_REPO], AUTH_ENV);
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

function corsHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-')));
}

t.test('a preflight is answered 204 with the API auth headers allowed', async (t) => {
  for (const url of ['/api/v1/al/by-header', '/api/v1/sync/by-header/s', '/api/v1/bat/by-header/simplified']) {
    const res = await fetch(`${base}${url}`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-token' },
    });
    t.equal(res.status, 204, url);
    t.ok(res.headers.get('x-trace-id'), 'trace id');
    t.same(corsHeaders(res.headers), {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'Content-Type, Authorization, X-Trace-Id, x-token',
      'access-control-max-age': '600',
    }, url);
  }
  const open = await fetch(`${base}/api/v1/al/open/s`, { method: 'OPTIONS', headers: { origin: ORIGIN } });
  t.equal(open.headers.get('access-control-allow-headers'), 'Content-Type, Authorization, X-Trace-Id', 'no auth: the configured headers');
});

t.test('answers and errors of function APIs carry CORS headers', async (t) => {
  const expected = {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'X-Trace-Id, X-Request-Cost, X-Task-Id, X-Dff-Cache',
  };
  const ok = await fetch(`${base}/api/v1/al/open/s?x=1`, { headers: { origin: ORIGIN } });
  t.equal(ok.status, 200);
  t.same(corsHeaders(ok.headers), expected);
  const refused = await fetch(`${base}/api/v1/al/by-header/s`, { headers: { origin: ORIGIN } });
  t.equal(refused.status, 401);
  t.same(corsHeaders(refused.headers), expected, 'a refused call too: the browser can read the error');
  const queued = await fetch(`${base}/api/v1/bat/by-header/s`, { method: 'POST', headers: { origin: ORIGIN, 'X-Token': SECRETS.HEADER_TOKEN } });
  t.equal(queued.status, 200);
  t.same(corsHeaders(queued.headers), expected, 'async');
});

t.test('admin routes never send CORS headers', async (t) => {
  const auth = { origin: ORIGIN, authorization: `Bearer ${ADMIN_TOKEN}` };
  for (const [method, url] of [
    ['GET', '/api/v1/status'],
    ['GET', '/api/v1/task-records'],
    ['GET', '/api/v1/tasks/task-none'],
    ['POST', '/api/v1/cron/none'],
    ['OPTIONS', '/api/v1/status'],
    ['OPTIONS', '/api/v1/task-records'],
    ['GET', '/healthz'],
  ] as const) {
    const res = await fetch(`${base}${url}`, { method, headers: auth });
    await res.arrayBuffer();
    t.same(corsHeaders(res.headers), {}, `${method} ${url} (${res.status})`);
  }
});

t.test('listed origins with credentials: the origin is echoed, others get nothing', async (t) => {
  const configFile = path.join(os.tmpdir(), `gitfunc-cors-${process.pid}.yaml`);
  writeFileSync(configFile, `cors:\n  allowOrigins: ['${ORIGIN}']\n  allowCredentials: true\n`);
  const strict = await startGitfunc(['--repo', AUTH_REPO, '--config', configFile], AUTH_ENV);
  t.teardown(() => strict.close());
  const allowed = await fetch(`${strict.url}/api/v1/al/open/s`, { headers: { origin: ORIGIN } });
  t.match(corsHeaders(allowed.headers), {
    'access-control-allow-origin': ORIGIN,
    'access-control-allow-credentials': 'true',
  });
  t.equal(allowed.headers.get('vary'), 'Origin');
  const other = await fetch(`${strict.url}/api/v1/al/open/s`, { headers: { origin: 'https://evil.example.net' } });
  t.equal(other.status, 200, 'the server still answers; the browser hides it');
  t.same(corsHeaders(other.headers), {});
  t.equal(other.headers.get('vary'), 'Origin');
  const preflight = await fetch(`${strict.url}/api/v1/al/open`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.net' } });
  t.equal(preflight.status, 204);
  t.same(corsHeaders(preflight.headers), {});
});
