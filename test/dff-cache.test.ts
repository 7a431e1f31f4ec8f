// DFF.CACHE through the bridge to the server thread: DFF's get/set/incr/delete semantics,
// one store shared by both workers, and a call blocked on the bridge still stopped at its
// deadline. Also DFF.CTX and the _DFF_* globals of CONTRACT section 9.
import path from 'node:path';
import t from 'tap';
import { MemoryCacheStore } from '../src/cache/cache-store.js';
import { BridgeRefusal } from '../src/runtime/bridge/bridge-server.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(readTree(path.join(FIXTURES, 'respond')));
await git.publish('respond', work.dir);
// Two workers: the shared store is the point.
const gitfunc = await startGitfunc(['--repo', git.url('respond'), '--ref', 'main', '--workers', '2']);
t.teardown(() => gitfunc.close());
gitfunc.server.pool.bridge.register('test.hang', () => new Promise(() => undefined));
gitfunc.server.pool.bridge.register('test.refuse', () => {
  throw new BridgeRefusal('no such thing', { thing: 'x' });
});
gitfunc.server.pool.bridge.register('test.break', () => {
  throw new Error('a server bug, with details the script must not see');
});

async function call(api: string, kwargs: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}?kwargs=${encodeURIComponent(JSON.stringify(kwargs))}`);
  return { status: res.status, body: await res.json() };
}

const op = async (kwargs: Record<string, unknown>): Promise<unknown> => {
  const res = await call('cache-op', kwargs);
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body;
};

t.test('get, set, incr and delete follow DFF (values are strings)', async (t) => {
  t.same(await op({ op: 'get', key: 'k' }), { value: null });
  t.same(await op({ op: 'set', key: 'k', value: 100 }), { result: true });
  t.same(await op({ op: 'get', key: 'k' }), { value: '100' }, 'a number reads back as a string');
  t.same(await op({ op: 'set', key: 'k', value: 'other', not_exists: true }), { result: null }, 'not_exists keeps the value');
  t.same(await op({ op: 'get', key: 'k' }), { value: '100' });
  t.same(await op({ op: 'incr', key: 'k', step: 5 }), { result: 105 });
  t.same(await op({ op: 'incr', key: 'fresh' }), { result: 1 }, 'incr starts from 0');
  t.same(await op({ op: 'delete', key: 'k' }), { result: 1 });
  t.same(await op({ op: 'delete', key: 'k' }), { result: 0 });
  t.same(await op({ op: 'set', key: 'k', value: 'x', not_exists: true }), { result: true });
  t.same(await op({ op: 'set', key: 'ttl', value: 'v', expires: 60 }), { result: true });
  t.same(await op({ op: 'get', key: 'ttl' }), { value: 'v' });
});

t.test('keys live in a scope, by default the calling script', async (t) => {
  await op({ op: 'set', key: 'scoped', value: 'mine' });
  t.same(await op({ op: 'get', key: 'scoped', scope: 'store__counters' }), { value: 'mine' });
  t.same(await op({ op: 'get', key: 'scoped', scope: 'elsewhere' }), { value: null });
});

t.test('bad values and operations fail the call with a clear error', async (t) => {
  await op({ op: 'set', key: 'text', value: 'abc' });
  const notInteger = await call('cache-op', { op: 'incr', key: 'text' });
  t.equal(notInteger.status, 599);
  t.match(notInteger.body.detail.exception, /BridgeError: value is not an integer/);
  const dict = await call('cache-op', { op: 'set', key: 'd', value: { a: 1 } });
  t.match(dict.body.detail.exception, /TypeError: DFF.CACHE values are strings or numbers/);
  const expires = await call('cache-op', { op: 'set', key: 'd', value: 'v', expires: -1 });
  t.match(expires.body.detail.exception, /ValueError: expires must be a positive number of seconds/);
});

t.test('a failed server operation reaches the script as a BridgeError with its code and data', async (t) => {
  const refused = await call('bridge-error', { op: 'test.refuse' });
  t.same(refused.body, { type: 'BridgeError', code: 'BRIDGE_REFUSED', message: 'no such thing', data: { thing: 'x' } });
  const broken = await call('bridge-error', { op: 'test.break' });
  t.same(broken.body, { type: 'BridgeError', code: 'BRIDGE_FAILED', message: 'the server failed test.break', data: { op: 'test.break' } });
  t.ok(gitfunc.logs.some((l) => l.msg === 'bridge operation failed' && l.op === 'test.break'), 'the server logged what went wrong');
  const unknown = await call('bridge-error', { op: 'test.nothing' });
  t.match(unknown.body, { code: 'BRIDGE_REFUSED', message: "unknown server operation 'test.nothing'" });
});

t.test('200 concurrent increments on two workers count to 200', async (t) => {
  const answers = await Promise.all(Array.from({ length: 200 }, () => call('count', { key: 'concurrent' })));
  t.ok(answers.every((a) => a.status === 200));
  t.same(answers.map((a) => a.body as number).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), 'each increment saw its own value');
  t.same(await op({ op: 'get', key: 'concurrent', scope: 'store__counters' }), { value: '200' });
});

t.test('a call waiting on the bridge is still stopped at its deadline', async (t) => {
  const started = Date.now();
  const hung = await call('hang');
  t.equal(hung.status, 599);
  t.equal(hung.body.error, 599.2);
  t.ok(Date.now() - started < 3_000, 'stopped at its 1 s timeout');
  t.same(await op({ op: 'get', key: 'k' }), { value: 'x' }, 'the workers still answer');
  t.notOk(gitfunc.logs.some((l) => l.msg === 'call ignored its interrupt: terminating its worker'), 'interrupted, not terminated');
});

t.test('DFF.CTX lives for one call, and every _DFF_ global is set', async (t) => {
  const first = await call('context');
  const again = await call('context');
  for (const res of [first, again]) {
    t.same(res.body.before, {}, 'each call starts with an empty context');
    t.same(res.body.fromHelper, { name: 'ada' }, 'another script sees it; get returns copies');
    t.equal(res.body.has, true);
  }
  t.match(first.body.globals, {
    _DFF_TASK_ID: /^task-/,
    _DFF_FUNC_ID: 'store__context.context',
    _DFF_ORIGIN: 'syncAPI',
    _DFF_ORIGIN_ID: 'context',
    _DFF_TASK_ATTEMPT: 1,
    _DFF_HTTP_REQUEST: { method: 'GET' },
  });
});

t.test('the in-memory store expires keys, keeps a TTL across incr, and stays bounded', async (t) => {
  let now = 1_000;
  const store = new MemoryCacheStore({ maxEntries: 2, maxSize: 1000 }, { now: () => now });
  await store.set('a', '1', 10_000, false);
  now = 5_000;
  t.equal(await store.incr('a', 1, undefined), 2);
  now = 11_000;
  t.equal(await store.get('a'), '2', 'incr kept the expiry: the key lives through its last millisecond, as in Redis');
  now = 11_001;
  t.equal(await store.get('a'), undefined);
  t.equal(await store.set('a', 'x', undefined, true), true, 'an expired key counts as absent');
  await store.set('b', 'y', undefined, false);
  await store.set('c', 'z', undefined, false);
  t.equal(await store.get('a'), undefined, 'the oldest write makes room');
  await t.rejects(store.incr('c', 1, undefined), { code: 'CACHE_VALUE_INVALID' });
});
