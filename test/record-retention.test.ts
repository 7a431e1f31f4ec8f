// How long finished task records stay and how much room they take, in the embedded store:
// keepSeconds holds recent records whatever the count, the byte budget bounds them all; once
// keepSeconds has passed, the record writer trims by count again though no task comes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../src/log.js';
import type { StoreBudget } from '../src/tasks/ports.js';
import { RecordWriter } from '../src/tasks/record-writer.js';
import { openDatabase } from '../src/tasks/sqlite/database.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import { MIGRATIONS } from '../src/tasks/sqlite/migrations.js';
import type { TaskRecord } from '../src/model/task-record.js';
import { record, T0 } from './helpers/task-record-factory.js';

/** What a record costs beyond its texts (STORED_BYTES in sqlite-task-records.ts). */
const ROW_OVERHEAD = 200;

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-retention-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A finished async record that ended at `endTime`. */
function ended(endTime: number, fields: Partial<TaskRecord> = {}): TaskRecord {
  return record({ funcId: 'jobs__work.echo', origin: 'asyncAPI', originId: 'echo', kwargs: {}, triggerTime: endTime - 10, startTime: endTime - 5, endTime, ...fields });
}

function ids(records: readonly TaskRecord[]): string[] {
  return records.map((each) => each.id);
}

/** Ids stored, oldest first. */
async function storedIds(storage: ReturnType<typeof openSqliteStorage>): Promise<string[]> {
  return ids((await storage.records.list({ limit: 1000 })).records).reverse();
}

function totalBytes(dir: string): { total: number; sum: number } {
  const db = openDatabase(dir);
  try {
    const { total } = db.prepare('SELECT total FROM record_bytes').get() as { total: number };
    const { sum } = db.prepare('SELECT coalesce(sum(stored_bytes), 0) AS sum FROM task_records').get() as { sum: number };
    return { total, sum };
  } finally {
    db.close();
  }
}

function budget(maxBytes: number, asyncSince: number | null): StoreBudget {
  return { maxBytes, keepEndedSince: { syncAPI: null, asyncAPI: asyncSince, cronJob: null, manual: null } };
}

t.test('trimming by count spares records that ended since keepEndedSince, then trims them too', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  const old = Array.from({ length: 5 }, (_, i) => ended(T0 + i));
  const recent = Array.from({ length: 20 }, (_, i) => ended(T0 + 3_600_000 + i));
  const running = ended(T0, { status: 'running', endTime: undefined });
  storage.records.save([running, ...old, ...recent]);

  storage.records.trim('asyncAPI', 'echo', 3, T0 + 1_000);
  t.same((await storedIds(storage)), ids([running, ...recent]), 'only the old ones past the newest 3 go');

  storage.records.trim('asyncAPI', 'echo', 3, T0 + 3_600_000 + 10);
  t.same((await storedIds(storage)), ids([running, ...recent.slice(10)]), 'later, those that ended before the new cutoff go too');

  storage.records.trim('asyncAPI', 'echo', 3);
  t.same((await storedIds(storage)), ids([running, ...recent.slice(-3)]), 'without a cutoff the count alone decides');
});

t.test('every record counts its bytes; the total follows inserts, overwrites and deletes', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  t.same(totalBytes(dir), { total: 0, sum: 0 });
  const queued = ended(T0, { status: 'queued', endTime: undefined, kwargs: { text: 'é'.repeat(100) } });
  storage.records.save([queued]);
  // {"text":"é…é"}: 11 ASCII bytes and 100 two-byte characters.
  t.same(totalBytes(dir), { total: ROW_OVERHEAD + 11 + 200, sum: ROW_OVERHEAD + 11 + 200 }, 'UTF-8 bytes, not characters');
  storage.records.save([{ ...queued, status: 'success', endTime: T0, returnValueJson: '"done"', printLogs: 'x'.repeat(1000) }]);
  const after = ROW_OVERHEAD + 11 + 200 + 6 + 1000;
  t.same(totalBytes(dir), { total: after, sum: after }, 'the final record replaces the queued one');
  storage.records.save([ended(T0 + 1, { origin: 'syncAPI', originId: 'x' })]);
  storage.records.trim('syncAPI', 'x', 0);
  t.same(totalBytes(dir), { total: after, sum: after }, 'a trimmed record gives its bytes back');
});

t.test('over budget, finished records past keepEndedSince go first, oldest first', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  const pad = 'x'.repeat(800); // each record: 200 + 2 ({}) + 800 = 1002 bytes
  const syncOld = Array.from({ length: 4 }, (_, i) => ended(T0 + i, { origin: 'syncAPI', originId: 's', printLogs: pad }));
  const asyncOld = Array.from({ length: 4 }, (_, i) => ended(T0 + 10 + i, { printLogs: pad }));
  const asyncRecent = Array.from({ length: 4 }, (_, i) => ended(T0 + 10_000 + i, { printLogs: pad }));
  const queued = ended(T0, { status: 'queued', endTime: undefined, printLogs: pad });
  storage.records.save([queued, ...asyncRecent.slice(0, 2), ...syncOld, ...asyncOld, ...asyncRecent.slice(2)]);
  t.equal(totalBytes(dir).total, 13 * 1002);

  t.same(storage.records.fitBudget(budget(20_000, T0 + 10_000)), { deleted: 0, deletedEarly: 0 }, 'under budget: nothing');
  t.same(storage.records.fitBudget(budget(8 * 1002, T0 + 10_000)), { deleted: 5, deletedEarly: 0 });
  t.same(
    (await storedIds(storage)),
    ids([queued, ...asyncRecent.slice(0, 2), ...asyncOld.slice(1), ...asyncRecent.slice(2)]),
    'the oldest unheld records went, held ones stayed though older by seq',
  );
  t.equal(totalBytes(dir).total, 8 * 1002);
});

t.test('when unheld records are not enough, the oldest held ones go, never a queued one', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  const pad = 'x'.repeat(800);
  const loose = ended(T0, { printLogs: pad });
  const held = Array.from({ length: 5 }, (_, i) => ended(T0 + 10_000 + i, { printLogs: pad }));
  const queued = ended(T0, { status: 'queued', endTime: undefined, printLogs: pad });
  storage.records.save([queued, loose, ...held]);
  t.same(storage.records.fitBudget(budget(3 * 1002, T0 + 10_000)), { deleted: 4, deletedEarly: 3 });
  t.same((await storedIds(storage)), ids([queued, ...held.slice(3)]));
  t.same(storage.records.fitBudget(budget(1, T0 + 10_000)), { deleted: 2, deletedEarly: 2 }, 'a tiny budget empties all it can');
  t.same((await storedIds(storage)), ids([queued]), 'the queued task stays: it has yet to run');
});

t.test('a budget that needs many records deleted reaches past the first rows it reads', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  const many = Array.from({ length: 150 }, (_, i) => ended(T0 + i, { origin: 'syncAPI', originId: 's' })); // 202 bytes each
  storage.records.save(many);
  t.same(storage.records.fitBudget(budget(50 * 202, null)), { deleted: 100, deletedEarly: 0 });
  t.same((await storedIds(storage)), ids(many.slice(100)));
  t.same(storage.records.fitBudget(budget(1, null)), { deleted: 50, deletedEarly: 0 }, 'all of them when even that is too much');
});

t.test('the record thread applies a batch budget and says what it deleted early', async (t) => {
  const dir = tempDir(t);
  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  const pad = 'x'.repeat(800);
  storage.records.save(Array.from({ length: 3 }, (_, i) => ended(T0 + 10_000 + i, { printLogs: pad })));
  const batch = Array.from({ length: 3 }, (_, i) => ended(T0 + i, { origin: 'syncAPI', originId: 's', printLogs: pad }));
  const outcome = await storage.recordSink.write({ records: batch, trims: [], budget: budget(4 * 1002, T0 + 10_000) });
  t.same(outcome, { deleted: 2, deletedEarly: 0 });
  t.equal((await storage.records.list({ limit: 10 })).records.length, 4);
  t.same(await storage.recordSink.write({ records: [], trims: [] }), { deleted: 0, deletedEarly: 0 }, 'no budget: nothing deleted');
});

t.test('migrating to the sized schema counts the records already stored', async (t) => {
  const dir = tempDir(t);
  const previous = openDatabase(dir, MIGRATIONS.slice(0, 2));
  previous
    .prepare(
      `INSERT INTO task_records (id, func_id, origin, origin_id, kwargs, commit_id, trigger_time, attempt, status, return_value, print_logs)
       VALUES ('task-old', 'demo__basic.f', 'syncAPI', 'api-a', '{"x":1}', 'abc', 42, 1, 'success', '"kept"', 'héllo')`,
    )
    .run();
  previous.close();
  const storage = openSqliteStorage(dir);
  t.teardown(() => storage.close());
  const size = ROW_OVERHEAD + 7 + 6 + 6;
  t.same(totalBytes(dir), { total: size, sum: size });
});

t.test('once keepSeconds has passed, the writer trims an API by count again without another task coming', async (t) => {
  const storage = openSqliteStorage(tempDir(t));
  t.teardown(() => storage.close());
  // The later trim runs keepSeconds + 1 s after the last task's end. Long enough that a loaded
  // machine still flushes the first batch while keepSeconds holds the records (0.3 s was not).
  const keepSeconds = 2;
  const writer = new RecordWriter(
    storage.recordSink,
    {
      flushMs: 10,
      maxBatch: 100,
      keep: () => 2,
      keepSeconds: (origin) => (origin === 'asyncAPI' ? keepSeconds : 0),
      maxStoredBytes: 1024 * 1024 * 1024,
      now: () => Date.now(),
    },
    createLogger('silent'),
  );
  t.teardown(() => writer.close());
  // As the async queue does: it stores each ended task's record, the writer trims its API.
  const tasks = Array.from({ length: 6 }, (_, i) => ended(Date.now() + i));
  for (const task of tasks) {
    storage.records.save([task]);
    writer.markForTrim('asyncAPI', 'echo');
  }
  await writer.flush();
  t.same((await storedIds(storage)), ids(tasks), 'all six kept while keepSeconds holds them, though keep is 2');
  const giveUp = Date.now() + 10_000;
  while ((await storedIds(storage)).length > 2 && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 50));
  t.same((await storedIds(storage)), ids(tasks.slice(-2)), 'then trimmed to the newest 2 with no task coming');
});
