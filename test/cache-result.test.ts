// cache_result of @DFF.API: a repeated call within the window is answered without running
// Python (X-Dff-Cache: Cached), other kwargs miss, and a new commit never serves an old result.
import path from 'node:path';
import t from 'tap';
import { MemoryResultCache } from '../src/cache/result-cache.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const git = await startGitServer();
t.teardown(() => git.close());
const fixture = readTree(path.join(FIXTURES, 'respond'));
const work = await createWorkRepo(fixture);
await git.publish('respond', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('respond'), '--ref', 'main']);
t.teardown(() => gitfunc.close());

async function call(api: string, kwargs: Record<string, unknown>): Promise<{ res: Response; body: any }> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}?kwargs=${encodeURIComponent(JSON.stringify(kwargs))}`);
  const text = await res.text();
  return { res, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

/** Fetches and serves the repository's new head through the real reload pipeline. */
async function serveHead(): Promise<void> {
  const outcome = await gitfunc.server.reloader.reloadNow({ source: 'manual' });
  t.equal(outcome.result, 'served', 'the new head is served');
}

t.test('a repeated call is answered from the cache without running the function', async (t) => {
  const first = await call('cached', { x: 1 });
  t.same(first.body, { x: 1, runs: 1, version: 1 });
  t.equal(first.res.headers.get('x-dff-cache'), null);
  t.match(first.res.headers.get('x-task-id'), /^task-/);

  const again = await call('cached', { x: 1 });
  t.same(again.body, first.body, 'the function did not run again: its run counter did not move');
  t.equal(again.res.headers.get('x-dff-cache'), 'Cached');
  t.equal(again.res.headers.get('x-task-id'), null, 'no task ran');
  t.match(again.res.headers.get('content-type'), /^application\/json/);

  const other = await call('cached', { x: 2 });
  t.same(other.body, { x: 2, runs: 2, version: 1 }, 'other kwargs miss');
  t.equal(other.res.headers.get('x-dff-cache'), null);

  const jsonDumps = await fetch(`${gitfunc.url}/api/v1/al/cached`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kwargs: { x: 1 }, options: { returnType: 'jsonDumps' } }),
  });
  t.equal(jsonDumps.headers.get('x-dff-cache'), null, 'another return type is another result');
  t.same(await jsonDumps.json(), { x: 1, runs: 3, version: 1 });
});

t.test('a response with status and headers is replayed as it was', async (t) => {
  const first = await call('cached-response', { x: 'r' });
  const again = await call('cached-response', { x: 'r' });
  t.equal(again.res.headers.get('x-dff-cache'), 'Cached');
  for (const res of [first.res, again.res]) {
    t.equal(res.status, 202);
    t.equal(res.headers.get('x-from'), 'script');
    t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  }
  t.equal(again.body, first.body);
});

t.test('a new commit never serves a result cached for the old one', async (t) => {
  t.equal((await call('cached', { x: 1 })).res.headers.get('x-dff-cache'), 'Cached');
  const source = fixture['store/counters.py']!.replace("'version': 1", "'version': 2");
  await work.commit({ 'store/counters.py': source }, 'version 2');
  await git.publish('respond', work.dir);
  await serveHead();
  const fresh = await call('cached', { x: 1 });
  t.equal(fresh.res.headers.get('x-dff-cache'), null);
  t.same(fresh.body, { x: 1, runs: 1, version: 2 });
  t.equal((await call('cached', { x: 1 })).res.headers.get('x-dff-cache'), 'Cached');
});

t.test('the in-memory result cache expires entries and stays bounded', async (t) => {
  let now = 1_000;
  const cache = new MemoryResultCache({ maxEntries: 2, maxSize: 64 * 100 }, { now: () => now });
  await cache.set('a', { kind: 'text', body: 'A' }, 5_000);
  now += 5_000;
  t.same(await cache.get('a'), { kind: 'text', body: 'A' }, 'kept through the last millisecond of the window');
  now += 1;
  t.equal(await cache.get('a'), undefined, 'gone when the window ends');
  await cache.set('a', { kind: 'text', body: 'A' }, 5_000);
  await cache.set('b', { kind: 'text', body: 'B' }, 5_000);
  t.ok(await cache.get('a'), 'a hit makes a the most recently used');
  await cache.set('c', { kind: 'text', body: 'C' }, 5_000);
  t.equal(await cache.get('b'), undefined, 'the least recently used entry makes room');
  t.ok(await cache.get('a'));
  t.ok(await cache.get('c'));
  await cache.set('big', { kind: 'text', body: 'x'.repeat(200) }, 5_000);
  t.equal(await cache.get('big'), undefined, 'a result over 1/64 of the cache is not kept');
});
