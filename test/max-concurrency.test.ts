// maxConcurrency of a sync API: calls past it are refused at once with 503.1 + Retry-After,
// so a slow API never holds every worker; other APIs keep being served.
import path from 'node:path';
import t from 'tap';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'runtime'), '--workers', '2']);
t.teardown(() => gitfunc.close());

async function get(pathAndQuery: string): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const res = await fetch(`${gitfunc.url}${pathAndQuery}`);
  const text = await res.text();
  const body: unknown = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
  return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a call past maxConcurrency is refused at once while other APIs are served', async (t) => {
  let firstRunning = true;
  const first = get('/api/v1/al/slow-limited/s?seconds=1.5').then((res) => {
    firstRunning = false;
    return res;
  });
  await sleep(200);
  const second = await get('/api/v1/al/slow-limited/s?seconds=1.5');
  t.equal(second.status, 503);
  t.equal(second.body.error, 503.1);
  t.same(second.body.detail, { maxConcurrency: 1 });
  t.equal(second.retryAfter, '1');
  t.ok(firstRunning, 'refused at once: while the first call still ran');
  const other = await get('/api/v1/al/hello/s?name=other');
  t.same(other.body, { hello: 'other' }, 'the other worker serves other APIs meanwhile');
  t.equal((await first).body, 'done');
  const again = await get('/api/v1/al/slow-limited/s?seconds=0.1');
  t.equal(again.body, 'done', 'accepted again once the first ended');
});

t.test('an API without maxConcurrency runs on every worker at once', async (t) => {
  const both = await Promise.all([get('/api/v1/al/slow/s?seconds=0.5'), get('/api/v1/al/slow/s?seconds=0.5')]);
  t.same(
    both.map((r) => r.body),
    ['done', 'done'],
  );
});
