// The embedded SQLite store behind the storage ports: records, trimming, paging, the durable
// async queue, the cron fire ledger, and migrating a database written by an older schema.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openDatabase } from '../src/tasks/sqlite/database.js';
import { MIGRATIONS } from '../src/tasks/sqlite/migrations.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import { record } from './helpers/task-record-factory.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('records round-trip, newest first, filtered and paged', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const written = [
    record({ returnValueJson: '{"a":[1,2]}', printLogs: 'line\n' }),
    record({ status: 'failure', exceptionType: 'ValueError', exceptionText: 'bad', traceback: 'Traceback ...' }),
    record({ originId: 'api-b' }),
    record({ origin: 'cronJob', originId: 'job' }),
  ];
  storage.records.save(written);
  t.same(await storage.records.get(written[0]!.id), written[0]);
  t.same(await storage.records.get(written[1]!.id), written[1]);
  t.equal(await storage.records.get('task-missing'), undefined);

  const all = await storage.records.list({ limit: 10 });
  t.same(all.records.map((r) => r.id), written.map((r) => r.id).reverse());
  t.equal(all.next, null);
  t.same((await storage.records.list({ limit: 10, originId: 'api-a' })).records.map((r) => r.id), [written[1]!.id, written[0]!.id]);
  t.same((await storage.records.list({ limit: 10, status: 'failure' })).records.map((r) => r.id), [written[1]!.id]);
  t.same((await storage.records.list({ limit: 10, origin: 'cronJob' })).records.map((r) => r.id), [written[3]!.id]);

  const first = await storage.records.list({ limit: 3 });
  t.equal(first.records.length, 3);
  t.not(first.next, null);
  const second = await storage.records.list({ limit: 3, before: first.next! });
  t.same(second.records.map((r) => r.id), [written[0]!.id]);
  t.equal(second.next, null);
});

t.test('endedSince: finished records that ended at or after a time, whenever they were queued', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const at = 1_800_000_000_000;
  const queuedEarly = record({ status: 'queued' });
  const endedBefore = record({ startTime: at - 20, endTime: at - 1 });
  const endedAt = record({ startTime: at - 20, endTime: at });
  const running = record({ status: 'running', triggerTime: at + 5, startTime: at + 5 });
  const skipped = record({ status: 'skip', triggerTime: at + 6 });
  storage.records.save([queuedEarly, endedBefore, endedAt, running, skipped]);
  // The queued one ends last, keeping its early place (seq) in the table.
  storage.records.save([{ ...queuedEarly, status: 'failure', startTime: at + 7, endTime: at + 9 }]);
  const ids = (await storage.records.list({ limit: 10, endedSince: at })).records.map((r) => r.id);
  t.same(ids, [skipped.id, endedAt.id, queuedEarly.id], 'newest first by when they were stored, running and earlier ones left out');
  t.same((await storage.records.list({ limit: 10, endedSince: at, status: 'failure' })).records.map((r) => r.id), [queuedEarly.id]);
});

t.test('trim keeps the newest finished records of one origin and never a queued or running one', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const running = record({ status: 'running' });
  const other = record({ originId: 'api-other' });
  const finished = Array.from({ length: 8 }, () => record());
  storage.records.save([running, other, ...finished]);
  storage.records.trim('syncAPI', 'api-a', 3);
  const left = (await storage.records.list({ limit: 50 })).records.map((r) => r.id);
  t.same(left, [...finished.slice(-3).map((r) => r.id).reverse(), other.id, running.id]);
});

t.test('record batches are written by the writer thread, then trimmed', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const batch = Array.from({ length: 6 }, () => record({ originId: 'api-thread' }));
  await storage.recordSink.write({ records: batch, trims: [{ origin: 'syncAPI', originId: 'api-thread', keep: 4 }] });
  t.same(
    (await storage.records.list({ limit: 10, originId: 'api-thread' })).records,
    batch.slice(-4).reverse(),
    'read back on the serving connection',
  );
  const running = record({ originId: 'api-thread', status: 'running' });
  const writes = [
    storage.recordSink.write({ records: [running], trims: [] }),
    storage.recordSink.write({ records: [{ ...running, status: 'success', endTime: 1 }], trims: [] }),
  ];
  await Promise.all(writes);
  t.match(await storage.records.get(running.id), { status: 'success', endTime: 1 }, 'batches are written in order');
});

t.test('the queue keeps working while the record thread writes on its own connection', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const call = { returnType: 'raw' as const, timeoutSeconds: 60 };
  let writing = true;
  let batches = 0;
  const writer = (async () => {
    while (writing) {
      const batch = Array.from({ length: 50 }, () => record({ originId: 'busy' }));
      await storage.recordSink.write({ records: batch, trims: [{ origin: 'syncAPI', originId: 'busy', keep: 20 }] });
      batches++;
    }
  })();
  // Each cycle reads, then writes: without taking the write lock first it would fail at once
  // with SQLITE_BUSY whenever the thread committed in between. Runs until the thread has
  // written a fair number of batches (its first start can take a second on a busy machine).
  const giveUp = Date.now() + 30_000;
  let cycles = 0;
  while (batches < 30 && Date.now() < giveUp) {
    const task = record({ origin: 'asyncAPI', status: 'queued' });
    if (!await storage.queue.enqueue({ record: task, call }, 1000)) throw new Error('queue refused a task');
    const [claimed] = await storage.queue.claim(1, Date.now(), 'c');
    await storage.queue.complete({ ...claimed!.record, status: 'success' });
    cycles++;
    if (cycles % 20 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the thread's replies in
  }
  writing = false;
  await writer;
  t.ok(batches >= 30 && cycles > 100, `${cycles} queue cycles beside ${batches} record batches`);
  t.equal(await storage.queue.depth(), 0);
});

t.test('the async queue is bounded, claims oldest first, and re-queues a crashed run with one more attempt', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  const call = { returnType: 'raw' as const, timeoutSeconds: 60 };
  const tasks = [1, 2, 3].map(() => record({ origin: 'asyncAPI', status: 'queued' }));
  t.ok(await storage.queue.enqueue({ record: tasks[0]!, call }, 2));
  t.ok(await storage.queue.enqueue({ record: tasks[1]!, call }, 2));
  t.notOk(await storage.queue.enqueue({ record: tasks[2]!, call }, 2), 'a full queue refuses');
  t.equal(await storage.records.get(tasks[2]!.id), undefined, 'a refused task leaves no record');
  t.equal(await storage.queue.depth(), 2);

  const [claimed] = await storage.queue.claim(1, 1234, 'd'.repeat(40));
  t.equal(claimed!.record.id, tasks[0]!.id);
  t.same(claimed!.call, call);
  t.match(await storage.records.get(tasks[0]!.id), { status: 'running', startTime: 1234, commit: 'd'.repeat(40) });
  t.equal(await storage.queue.depth(), 1);
  await storage.close();

  // The process died with task 0 running: the next start puts it back, attempt 2.
  const reopened = openSqliteStorage(dir);
  t.teardown(() => reopened.close());
  t.equal(await reopened.queue.depth(), 1);
  t.same(await reopened.queue.recoverClaimed(3, 5000), { requeued: 1, abandoned: 0 });
  t.equal(await reopened.queue.depth(), 2);
  const again = await reopened.queue.claim(5, 5678, 'e'.repeat(40));
  t.same(again.map((task) => [task.record.id, task.record.attempt]), [[tasks[0]!.id, 2], [tasks[1]!.id, 1]]);
  await reopened.queue.complete({ ...again[0]!.record, status: 'success', endTime: 6000, returnValueJson: '1' });
  t.match(await reopened.records.get(tasks[0]!.id), { status: 'success', attempt: 2, returnValueJson: '1' });
  t.same(await reopened.queue.recoverClaimed(3, 7000), { requeued: 1, abandoned: 0 }, 'only the unfinished task is still claimed');
});

t.test('a task cut by a crash on every attempt is given up after the last one', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const task = record({ origin: 'asyncAPI', status: 'queued' });
  await storage.queue.enqueue({ record: task, call: { returnType: 'raw', timeoutSeconds: 1 } }, 10);
  for (let attempt = 1; attempt <= 3; attempt++) {
    t.same((await storage.queue.claim(1, attempt, 'c')).map((claimed) => claimed.record.attempt), [attempt]);
    const recovered = await storage.queue.recoverClaimed(3, 100 + attempt);
    t.same(recovered, attempt < 3 ? { requeued: 1, abandoned: 0 } : { requeued: 0, abandoned: 1 });
  }
  t.match(await storage.records.get(task.id), { status: 'failure', attempt: 3, endTime: 103, exceptionType: 'TooManyAttempts' });
  t.equal(await storage.queue.depth(), 0);
  t.same(await storage.queue.claim(5, 200, 'c'), []);
});

t.test('the cron ledger grants each (job, scheduled time) once, across reopening', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  t.ok(await storage.cronLedger.claim('job', 1000, 'task-a'));
  t.notOk(await storage.cronLedger.claim('job', 1000, 'task-b'));
  t.ok(await storage.cronLedger.claim('job', 2000, 'task-c'));
  t.ok(await storage.cronLedger.claim('other', 1000, 'task-d'));
  t.equal(await storage.cronLedger.lastFire('job'), 2000);
  t.equal(await storage.cronLedger.lastFire('never'), undefined);
  await storage.close();
  const reopened = openSqliteStorage(dir);
  t.teardown(() => reopened.close());
  t.notOk(await reopened.cronLedger.claim('job', 2000, 'task-e'));

  t.equal(await reopened.cronLedger.prune(5000), 1, "only job's 1000 goes: each job keeps its latest");
  t.equal(await reopened.cronLedger.lastFire('job'), 2000);
  t.equal(await reopened.cronLedger.lastFire('other'), 1000);
  t.ok(await reopened.cronLedger.claim('job', 1000, 'task-f'), 'a pruned fire could be claimed again (it is a day old)');
});

t.test('a database of the previous schema version is migrated and keeps its records', async (t) => {
  const dir = tempDir(t);
  const previous = openDatabase(dir, MIGRATIONS.slice(0, MIGRATIONS.length - 1));
  t.equal(previous.pragma('user_version', { simple: true }), MIGRATIONS.length - 1);
  previous
    .prepare(
      `INSERT INTO task_records (id, func_id, origin, origin_id, kwargs, commit_id, trigger_time, attempt, status, return_value)
       VALUES ('task-old', 'demo__basic.f', 'syncAPI', 'api-a', '{"x":1}', 'abc', 42, 1, 'success', '"kept"')`,
    )
    .run();
  previous.close();

  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  t.match(await storage.records.get('task-old'), { kwargs: { x: 1 }, returnValueJson: '"kept"', status: 'success' });
  t.ok(await storage.queue.enqueue({ record: record({ origin: 'asyncAPI', status: 'queued' }), call: { returnType: 'raw', timeoutSeconds: 1 } }, 10));
  t.ok(await storage.cronLedger.claim('job', 1, 'task-x'));
  await storage.deploys.add({ at: 1, trigger: 'poll', result: 'served', commit: 'abc', previousCommit: null, ms: 5, errors: [], fetchError: null }, 2);
  t.match(await storage.deploys.list(5), [{ trigger: 'poll', result: 'served', commit: 'abc' }]);
});

t.test('the deploy history keeps the newest entries; the pin is one row', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  for (const commit of ['a', 'b', 'c']) {
    await storage.deploys.add({ at: 1, trigger: 'manual', result: 'served', commit, previousCommit: null, ms: 1, errors: [], fetchError: null }, 2);
  }
  t.same((await storage.deploys.list(10)).map((entry) => entry.commit), ['c', 'b']);
  t.equal(await storage.deploys.pin(), undefined);
  await storage.deploys.setPin({ commit: 'b', at: 5, headAtPin: 'c' });
  await storage.deploys.setPin({ commit: 'a', at: 6, headAtPin: null });
  t.same(await storage.deploys.pin(), { commit: 'a', at: 6, headAtPin: null });
  await storage.deploys.setPin(undefined);
  t.equal(await storage.deploys.pin(), undefined);
});

t.test('cancel takes a waiting task out of the queue; a claimed one is left to its runner', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const reason = { exceptionType: 'TaskCancelled', exceptionText: 'cancelled by an operator' };
  const waiting = record({ origin: 'asyncAPI', status: 'queued' });
  const claimed = record({ origin: 'asyncAPI', status: 'queued' });
  await storage.queue.enqueue({ record: claimed, call: { returnType: 'raw', timeoutSeconds: 1 } }, 10);
  await storage.queue.enqueue({ record: waiting, call: { returnType: 'raw', timeoutSeconds: 1 } }, 10);
  t.equal((await storage.queue.claim(1, 10, 'abc')).length, 1);
  t.equal(await storage.queue.cancel(claimed.id, 20, reason), 'claimed');
  t.equal(await storage.queue.cancel(waiting.id, 20, reason), 'cancelled');
  t.equal(await storage.queue.depth(), 0);
  t.notOk(await storage.queue.holds(waiting.id));
  t.match(await storage.records.get(waiting.id), { status: 'cancelled', endTime: 20, ...reason });
  t.equal(await storage.queue.cancel(waiting.id, 30, reason), 'absent');
  t.same(await storage.queue.claim(5, 40, 'abc'), [], 'a cancelled task is never claimed');
});

t.test('a database written by a newer gitfunc is refused, not damaged', async (t) => {
  const dir = tempDir(t);
  const newer = openDatabase(dir);
  newer.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  newer.close();
  t.throws(() => openSqliteStorage(dir), { code: 'STORE_TOO_NEW' });
});
