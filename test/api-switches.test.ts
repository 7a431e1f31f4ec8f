// `disabled` and `expireTime` of an API (403.21) against a started gitfunc with a fake clock,
// and the order of the checks: unknown 404.41, then disabled/expired, then auth.
import t from 'tap';
import { AUTH_ENV, AUTH_REPO, FakeClock } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const EXPIRES = Date.UTC(2030, 0, 1);
const clock = new FakeClock(EXPIRES - 1000);
const gitfunc = await startGitfunc(['--repo', AUTH_REPO], AUTH_ENV, { clock });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

async function call(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${pathAndQuery}`, init);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const POST: RequestInit = { method: 'POST' };

t.test('a disabled API answers 403.21, sync and async', async (t) => {
  for (const [url, init] of [['/api/v1/al/switched-off/s', {}], ['/api/v1/bat/switched-off/s', POST]] as const) {
    const res = await call(url, init);
    t.equal(res.status, 403, url);
    t.match(res.body, { ok: false, error: 403.21, reason: 'EApiDisabled', message: "API 'switched-off' is disabled" }, url);
    t.equal(res.headers.get('x-task-id'), null, 'nothing ran');
  }
});

t.test('order of checks: unknown, then disabled, then auth', async (t) => {
  t.match((await call('/api/v1/al/no-such-api/s')).body, { error: 404.41 });
  t.match((await call('/api/v1/al/switched-off-auth/s')).body, { error: 403.21 }, 'disabled wins over missing credentials');
});

t.test('an API serves until its expireTime, then answers 403.21', async (t) => {
  clock.set(EXPIRES - 1000);
  t.equal((await call('/api/v1/al/expiring/s?x=1')).status, 200, 'not yet expired (date-time in the manifest)');
  t.equal((await call('/api/v1/bat/expiring/s', POST)).status, 200, 'not yet expired (epoch seconds in the manifest)');
  clock.set(EXPIRES);
  for (const [url, init] of [['/api/v1/al/expiring/s', {}], ['/api/v1/bat/expiring/s', POST]] as const) {
    const res = await call(url, init);
    t.equal(res.status, 403, url);
    t.match(res.body, { error: 403.21, reason: 'EApiDisabled', message: /expired at 2030-01-01T00:00:00.000Z/, detail: { expireTime: EXPIRES / 1000 } });
  }
  t.equal((await call('/api/v1/al/open/s')).status, 200, 'other APIs are not affected');
});
