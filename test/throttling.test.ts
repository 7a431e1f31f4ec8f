// Per-API throttling (429.46 with Retry-After) against a started gitfunc whose clock the test
// moves: windows fill, refuse, and free again without any sleep.
import t from 'tap';
import { AUTH_ENV, AUTH_REPO, FakeClock, SECRETS } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

// A whole minute (and second) on the epoch: windows are aligned to it.
const T0 = 1_700_000_040_000;
const clock = new FakeClock(T0 + 100);
const gitfunc = await startGitfunc(['--repo', AUTH_REPO], AUTH_ENV, { clock });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

async function call(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${pathAndQuery}`, init);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function statuses(pathAndQuery: string, count: number, init: RequestInit = {}): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await call(pathAndQuery, init)).status);
  return result;
}

t.test('a window fills, refuses with Retry-After, and frees when it ends', async (t) => {
  clock.set(T0 + 100);
  t.same(await statuses('/api/v1/al/throttled/s', 2), [200, 200], 'bySecond: 2 calls pass');
  const perSecond = await call('/api/v1/al/throttled/s');
  t.equal(perSecond.status, 429);
  t.match(perSecond.body, { ok: false, error: 429.46, reason: 'EThrottled', detail: { limit: 'bySecond', max: 2, retryAfter: 1 } });
  t.equal(perSecond.headers.get('retry-after'), '1');
  t.ok(perSecond.headers.get('x-trace-id'), 'trace id on a refusal');
  t.equal(perSecond.headers.get('x-task-id'), null, 'nothing ran');

  clock.set(T0 + 1000);
  t.same(await statuses('/api/v1/al/throttled/s', 1), [200], 'the next second frees a slot');
  const perMinute = await call('/api/v1/al/throttled/s');
  t.match(perMinute.body, { error: 429.46, detail: { limit: 'byMinute', max: 3 } }, 'byMinute: 3 calls used');
  t.equal(perMinute.headers.get('retry-after'), '59', 'seconds until the minute ends');

  clock.set(T0 + 59_500);
  t.equal((await call('/api/v1/al/throttled/s')).headers.get('retry-after'), '1', 'rounded up');
  clock.set(T0 + 60_000);
  t.same(await statuses('/api/v1/al/throttled/s', 3), [200, 200, 429], 'a new minute: free again, bySecond still applies');
});

t.test('unauthenticated callers do not use up the quota', async (t) => {
  clock.set(T0 + 120_000);
  t.same(await statuses('/api/v1/al/throttled-auth/s', 3), [401, 401, 401]);
  const headers = { 'X-Token': SECRETS.HEADER_TOKEN };
  t.same(await statuses('/api/v1/al/throttled-auth/s', 2, { headers }), [200, 429], 'byMinute: 1');
});

t.test('async APIs are throttled before anything is queued', async (t) => {
  const hourStart = T0 - (T0 % 3_600_000);
  clock.set(hourStart + 1_800_000);
  const first = await call('/api/v1/bat/throttled/s', { method: 'POST' });
  t.equal(first.status, 200);
  const second = await call('/api/v1/bat/throttled/s', { method: 'POST' });
  t.match(second.body, { error: 429.46, detail: { limit: 'byHour', max: 1 } });
  t.equal(second.headers.get('retry-after'), '1800');
  t.equal(second.headers.get('x-task-id'), null, 'no task queued');
  t.equal((await call('/api/v1/al/throttled/s')).status, 200, 'a sync API of the same id counts apart');
  clock.set(hourStart + 3_600_000);
  t.equal((await call('/api/v1/bat/throttled/s', { method: 'POST' })).status, 200, 'the next hour frees it');
});
