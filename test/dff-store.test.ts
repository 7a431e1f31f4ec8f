// DFF.STORE (CONTRACT section 12): DFF's set/get/mget/keys/delete with JSON values, a scope
// per script by default, expiry read from the server's clock, not_exists, one store for both
// workers, and entries that survive a restart of the server on the same data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import { SqliteScriptStore } from '../src/tasks/sqlite/sqlite-script-store.js';
import { openDatabase } from '../src/tasks/sqlite/database.js';
import { FIXTURES, startGitfunc, type TestServer } from './helpers/start-gitfunc.js';

const REPO = path.join(FIXTURES, 'script-store');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-store-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

/** The server's clock: the real time plus what a test moved it on by. */
let skewMs = 0;
const clock = { now: () => Date.now() + skewMs };

// Two workers: one store for both is part of the point.
let gitfunc: TestServer = await startGitfunc(['--repo', REPO, '--data-dir', dataDir, '--workers', '2'], {}, { clock });
t.teardown(() => gitfunc.close());

async function call(api: string, kwargs: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kwargs }),
  });
  // A str result comes as text/plain, anything else as JSON.
  const body: unknown = res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : await res.text();
  if (res.status !== 200) throw new Error(`${api}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** One operation from the script `notes__first` (or `second`); its result. */
async function first(kwargs: Record<string, unknown>): Promise<unknown> {
  return ((await call('first', kwargs)) as { result: unknown }).result;
}
async function second(kwargs: Record<string, unknown>): Promise<unknown> {
  return ((await call('second', kwargs)) as { result: unknown }).result;
}

t.test('set, get, mget, keys and delete keep JSON values as written', async (t) => {
  const profile = { name: 'Zoë', tags: ['a', 'b'], score: 1.5, active: true, parent: null, nested: { n: [1, { deep: '日本' }] } };
  t.equal(await first({ op: 'get', key: 'user:001' }), null, 'an absent key reads None');
  t.equal(await first({ op: 'set', key: 'user:001', value: profile }), true);
  t.same(await first({ op: 'get', key: 'user:001' }), profile);
  t.same(await first({ op: 'call', key: 'user:001' }), profile, 'DFF.STORE(key) is get');
  for (const [key, value] of [['user:002', 42], ['user:010', 'text'], ['flag', false], ['nothing', null], ['list', [1, 'two']]] as const) {
    t.equal(await first({ op: 'set', key, value }), true);
    t.same(await first({ op: 'get', key }), value, `${JSON.stringify(value)} reads back with its type`);
  }
  await first({ op: 'set-tuple', key: 'tuple', value: [1, 2] });
  t.same(await first({ op: 'get', key: 'tuple' }), [1, 2], 'a tuple reads back as a list');

  t.same(await first({ op: 'mget', keys: ['user:002', 'missing', 'flag'] }), { 'user:002': 42, missing: null, flag: false });
  t.same(await first({ op: 'mget', keys: 'user:010' }), { 'user:010': 'text' }, 'one key given as a string');
  t.same(await first({ op: 'mget', keys: [] }), {});

  t.same(await first({ op: 'keys', pattern: 'user:*' }), ['user:001', 'user:002', 'user:010'], 'sorted');
  t.same(await first({ op: 'keys', pattern: 'user:00?' }), ['user:001', 'user:002'], '? is one character');
  t.same(await first({ op: 'keys', pattern: 'USER:*' }), [], 'case-sensitive');
  await first({ op: 'set', key: 'odd[1]%_', value: 1 });
  t.same(await first({ op: 'keys', pattern: 'odd[1]%_' }), ['odd[1]%_'], '[, %, _ stand for themselves');
  t.same(await first({ op: 'keys', pattern: 'odd[1]%?' }), ['odd[1]%_']);
  t.same(await first({ op: 'keys', pattern: 'odd1*' }), []);

  t.equal(await first({ op: 'delete', key: 'user:010' }), true);
  t.equal(await first({ op: 'delete', key: 'user:010' }), false, 'deleting an absent key is no error');
  t.equal(await first({ op: 'get', key: 'user:010' }), null);
});

t.test('not_exists writes only when the key is absent', async (t) => {
  t.equal(await first({ op: 'set', key: 'once', value: 1, not_exists: true }), true);
  t.equal(await first({ op: 'set', key: 'once', value: 2, not_exists: true }), null, 'as DFF.CACHE: None when the key exists');
  t.equal(await first({ op: 'get', key: 'once' }), 1);
  t.equal(await first({ op: 'set', key: 'once', value: 3 }), true, 'a plain set replaces it');
  t.equal(await first({ op: 'get', key: 'once' }), 3);
});

t.test('keys live in the calling script\'s scope unless a scope is given', async (t) => {
  await first({ op: 'set', key: 'mine', value: 'first' });
  t.equal(await second({ op: 'get', key: 'mine' }), null, 'the second script does not see the first one\'s key');
  t.same(await second({ op: 'keys' }), []);
  t.equal(await second({ op: 'get', key: 'mine', scope: 'notes__first' }), 'first', 'unless it names the scope');
  await second({ op: 'set', key: 'mine', value: 'second' });
  t.equal(await first({ op: 'get', key: 'mine' }), 'first');
  t.equal(await second({ op: 'get', key: 'mine' }), 'second');
  await first({ op: 'set', key: 'shared', value: { by: 'first' }, scope: 'team' });
  t.same(await second({ op: 'get', key: 'shared', scope: 'team' }), { by: 'first' }, 'a named scope is shared');
  t.same(await second({ op: 'keys', scope: 'team' }), ['shared']);
});

t.test('an entry expires by the server\'s clock', async (t) => {
  t.equal(await first({ op: 'set', key: 'ttl', value: 'soon gone', expires: 60 }), true);
  await first({ op: 'set', key: 'kept', value: 'stays' });
  skewMs += 59_000;
  t.equal(await first({ op: 'get', key: 'ttl' }), 'soon gone');
  skewMs += 2_000;
  t.equal(await first({ op: 'get', key: 'ttl' }), null, 'gone after 60 s');
  t.same(await first({ op: 'mget', keys: ['ttl', 'kept'] }), { ttl: null, kept: 'stays' });
  t.notOk(((await first({ op: 'keys' })) as string[]).includes('ttl'), 'keys leaves it out');
  t.equal(await first({ op: 'delete', key: 'ttl' }), false, 'deleting it finds no live entry');
  await first({ op: 'set', key: 'ttl2', value: 1, expires: 1 });
  skewMs += 1_001;
  t.equal(await first({ op: 'set', key: 'ttl2', value: 2, not_exists: true }), true, 'an expired key counts as absent');
  t.equal(await first({ op: 'get', key: 'ttl2' }), 2, 'and the new value does not expire');
  skewMs += 3_600_000;
  t.equal(await first({ op: 'get', key: 'ttl2' }), 2);
});

t.test('bad keys, values and arguments fail with a clear error', async (t) => {
  const errors: Record<string, RegExp> = {
    'long-key': /^BridgeError: key is longer than 256 characters$/,
    'long-scope': /^BridgeError: scope is longer than 256 characters$/,
    'large-value': /^BridgeError: value is longer than 1048576 characters as JSON$/,
    'not-json': /^TypeError: DFF.STORE values must be JSON-serializable: Object of type set/,
    nan: /^TypeError: DFF.STORE values must be JSON-serializable: Out of range float/,
    'bad-expires': /^ValueError: expires must be a positive number of seconds, got -1$/,
    'expires-by-position': /^TypeError: scope must be a string, got int \(give the expiry by name: expires=...\)$/,
    'empty-key': /^TypeError: key must be a non-empty string$/,
  };
  for (const [name, message] of Object.entries(errors)) t.match(await call('errors', { case: name }), message, name);
  t.equal(await first({ op: 'get', key: 'big' }), null, 'nothing of a refused value was stored');
});

t.test('both workers read and write the one store', async (t) => {
  // Two calls at once that sleep land on the two workers; repeat until both have taken part.
  const writers = new Map<string, string>();
  for (let round = 0; round < 10 && writers.size < 2; round++) {
    const keys = [`w-${round}-a`, `w-${round}-b`];
    const workers = (await Promise.all(keys.map((key) => call('put', { key, hold: 0.3 })))) as string[];
    workers.forEach((worker, i) => writers.set(worker, keys[i]!));
  }
  t.equal(writers.size, 2, 'both workers wrote');
  const written = Object.fromEntries([...writers].map(([worker, key]) => [key, worker]));
  const readers = new Set<string>();
  for (let round = 0; round < 10 && readers.size < 2; round++) {
    const answers = (await Promise.all([0, 1].map(() => call('who', { keys: Object.keys(written), hold: 0.3 })))) as { worker: string; values: unknown }[];
    for (const answer of answers) {
      readers.add(answer.worker);
      t.same(answer.values, written, `worker ${answer.worker} reads what both wrote`);
    }
  }
  t.equal(readers.size, 2, 'both workers read');
});

t.test('entries survive a restart of the server on the same data dir', async (t) => {
  await first({ op: 'set', key: 'durable', value: { saved: [1, 2, 3] } });
  await first({ op: 'set', key: 'durable-ttl', value: 'later', expires: 600 });
  await gitfunc.close();
  gitfunc = await startGitfunc(['--repo', REPO, '--data-dir', dataDir, '--workers', '1'], {}, { clock });
  t.same(await first({ op: 'get', key: 'durable' }), { saved: [1, 2, 3] });
  t.equal(await first({ op: 'get', key: 'durable-ttl' }), 'later', 'with its expiry');
  t.equal(await second({ op: 'get', key: 'mine' }), 'second');
  skewMs += 601_000;
  t.equal(await first({ op: 'get', key: 'durable-ttl' }), null, 'which still ends it');
});

t.test('the sweep deletes expired rows only', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-store-sweep-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let now = 1_000_000;
  const storage = openSqliteStorage(dir, { clock: { now: () => now } });
  t.teardown(() => storage.close());
  const db = openDatabase(dir);
  t.teardown(() => db.close());
  const store = new SqliteScriptStore(db, { now: () => now });
  await storage.scriptStore.set('s', 'a', '1', 1_000, false);
  await storage.scriptStore.set('s', 'b', '2', 5_000, false);
  await storage.scriptStore.set('s', 'c', '3', undefined, false);
  now += 2_000;
  t.equal(store.sweepExpired(), 1, 'a alone has expired');
  now += 1_000_000;
  t.equal(store.sweepExpired(), 1, 'then b; c never expires');
  t.same(await storage.scriptStore.keys('s', '*'), ['c']);
});
