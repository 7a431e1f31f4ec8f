// Task records as the record sink writes them and the API reads them, the same cases run on the
// embedded SQLite store and on Redis (issue 17: several replicas share one Redis): filters and
// paging, trims by count and keepEndedSince, the byte budget, queued and running never deleted.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { RedisTaskRecords } from '../src/redis/redis-task-records.js';
import type { RecordBatchSink, StoreBudget, TaskRecordStore } from '../src/tasks/ports.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import type { TaskRecord } from '../src/model/task-record.js';
import { testRedis } from './helpers/redis-test-keys.js';
import { record, T0 } from './helpers/task-record-factory.js';

interface Records {
  store: TaskRecordStore;
  sink: RecordBatchSink;
}

type Teardown = { teardown(fn: () => unknown): void };

const { redis, prefix } = testRedis(t, 'task-records');
let stores = 0;

const BACKENDS: Record<string, (t: Teardown) => Records> = {
  sqlite: (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-records-'));
    const storage = openSqliteStorage(dir);
    t.teardown(async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store: storage.records, sink: storage.recordSink };
  },
  // Each test its own prefix below the file's, so tests do not see each other's records.
  redis: () => {
    const records = new RedisTaskRecords(redis, `${prefix}${++stores}:`);
    return { store: records, sink: records };
  },
};

/** A finished async record that ended at `endTime`. */
function ended(endTime: number, fields: Partial<TaskRecord> = {}): TaskRecord {
  return record({ origin: 'asyncAPI', originId: 'echo', kwargs: {}, triggerTime: endTime - 10, startTime: endTime - 5, endTime, ...fields });
}

function ids(records: readonly TaskRecord[]): string[] {
  return records.map((r) => r.id);
}

/** Ids stored, oldest first. */
async function storedIds(records: Records): Promise<string[]> {
  return ids((await records.store.list({ limit: 1000 })).records).reverse();
}

function budget(maxBytes: number, asyncSince: number | null): StoreBudget {
  return { maxBytes, keepEndedSince: { syncAPI: null, asyncAPI: asyncSince, cronJob: null, manual: null } };
}

/** Each record: 200 + 2 ({}) + 800 = 1002 bytes. */
const PAD = 'x'.repeat(800);

for (const [name, open] of Object.entries(BACKENDS)) {
  t.test(name, async (t) => {
    t.test('records round-trip, newest first, filtered and paged', async (t) => {
      const records = open(t);
      const written = [
        record({ returnValueJson: '{"a":[1,2]}', printLogs: 'line\n' }),
        record({ status: 'failure', exceptionType: 'ValueError', exceptionText: 'bad', traceback: 'Traceback ...' }),
        record({ originId: 'api-b', funcId: 'demo__other.g' }),
        record({ origin: 'cronJob', originId: 'job' }),
      ];
      await records.sink.write({ records: written, trims: [] });
      t.same(await records.store.get(written[0]!.id), written[0]);
      t.same(await records.store.get(written[1]!.id), written[1]);
      t.equal(await records.store.get('task-missing'), undefined);

      const all = await records.store.list({ limit: 10 });
      t.same(ids(all.records), ids(written).reverse());
      t.equal(all.next, null);
      t.same(ids((await records.store.list({ limit: 10, originId: 'api-a' })).records), [written[1]!.id, written[0]!.id]);
      t.same(ids((await records.store.list({ limit: 10, origin: 'syncAPI', originId: 'api-a' })).records), [written[1]!.id, written[0]!.id]);
      t.same(ids((await records.store.list({ limit: 10, status: 'failure' })).records), [written[1]!.id]);
      t.same(ids((await records.store.list({ limit: 10, origin: 'cronJob' })).records), [written[3]!.id]);
      t.same(ids((await records.store.list({ limit: 10, funcId: 'demo__other.g' })).records), [written[2]!.id]);

      const first = await records.store.list({ limit: 3 });
      t.equal(first.records.length, 3);
      t.not(first.next, null);
      const second = await records.store.list({ limit: 3, before: first.next! });
      t.same(ids(second.records), [written[0]!.id]);
      t.equal(second.next, null);
      const filtered = await records.store.list({ limit: 1, originId: 'api-a' });
      t.same(ids((await records.store.list({ limit: 1, originId: 'api-a', before: filtered.next! })).records), [written[0]!.id], 'a filtered page goes on');
    });

    t.test('endedSince: finished records that ended at or after a time, whenever they were queued', async (t) => {
      const records = open(t);
      const at = T0 + 1_000_000;
      const queuedEarly = record({ status: 'queued' });
      const endedBefore = record({ startTime: at - 20, endTime: at - 1 });
      const endedAt = record({ startTime: at - 20, endTime: at });
      const running = record({ status: 'running', triggerTime: at + 5, startTime: at + 5 });
      const skipped = record({ status: 'skip', triggerTime: at + 6 });
      await records.sink.write({ records: [queuedEarly, endedBefore, endedAt, running, skipped], trims: [] });
      // The queued one ends last, keeping its early place in the list.
      await records.sink.write({ records: [{ ...queuedEarly, status: 'failure', startTime: at + 7, endTime: at + 9 }], trims: [] });
      t.same(ids((await records.store.list({ limit: 10, endedSince: at })).records), [skipped.id, endedAt.id, queuedEarly.id], 'running and earlier ones left out');
      t.same(ids((await records.store.list({ limit: 10, endedSince: at, status: 'failure' })).records), [queuedEarly.id]);
    });

    t.test('trim keeps the newest finished records of one origin and never a queued or running one', async (t) => {
      const records = open(t);
      const running = record({ status: 'running' });
      const other = record({ originId: 'api-other' });
      const finished = Array.from({ length: 8 }, () => record());
      await records.sink.write({ records: [running, other, ...finished], trims: [{ origin: 'syncAPI', originId: 'api-a', keep: 3 }] });
      t.same(await storedIds(records), ids([running, other, ...finished.slice(-3)]));
    });

    t.test('batches are written in order; an overwritten record keeps its place', async (t) => {
      const records = open(t);
      const running = record({ status: 'running' });
      const later = record();
      await Promise.all([
        records.sink.write({ records: [running, later], trims: [] }),
        records.sink.write({ records: [{ ...running, status: 'success', endTime: 1 }], trims: [] }),
      ]);
      t.match(await records.store.get(running.id), { status: 'success', endTime: 1 });
      t.same(await storedIds(records), ids([running, later]));
    });

    t.test('trimming by count spares records that ended since keepEndedSince, then trims them too', async (t) => {
      const records = open(t);
      const old = Array.from({ length: 5 }, (_, i) => ended(T0 + i));
      const recent = Array.from({ length: 20 }, (_, i) => ended(T0 + 3_600_000 + i));
      const running = ended(T0, { status: 'running', endTime: undefined });
      await records.sink.write({ records: [running, ...old, ...recent], trims: [] });
      const trim = (keep: number, keepEndedSince?: number) => records.sink.write({ records: [], trims: [{ origin: 'asyncAPI', originId: 'echo', keep, keepEndedSince }] });

      await trim(3, T0 + 1_000);
      t.same(await storedIds(records), ids([running, ...recent]), 'only the old ones past the newest 3 go');
      await trim(3, T0 + 3_600_000 + 10);
      t.same(await storedIds(records), ids([running, ...recent.slice(10)]), 'later, those that ended before the new cutoff go too');
      await trim(3);
      t.same(await storedIds(records), ids([running, ...recent.slice(-3)]), 'without a cutoff the count alone decides');
    });

    t.test('over budget, finished records past keepEndedSince go first, oldest first', async (t) => {
      const records = open(t);
      const syncOld = Array.from({ length: 4 }, (_, i) => ended(T0 + i, { origin: 'syncAPI', originId: 's', printLogs: PAD }));
      const asyncOld = Array.from({ length: 4 }, (_, i) => ended(T0 + 10 + i, { printLogs: PAD }));
      const asyncRecent = Array.from({ length: 4 }, (_, i) => ended(T0 + 10_000 + i, { printLogs: PAD }));
      const queued = ended(T0, { status: 'queued', endTime: undefined, printLogs: PAD });
      await records.sink.write({ records: [queued, ...asyncRecent.slice(0, 2), ...syncOld, ...asyncOld, ...asyncRecent.slice(2)], trims: [] });

      t.same(await records.sink.write({ records: [], trims: [], budget: budget(13 * 1002, T0 + 10_000) }), { deleted: 0, deletedEarly: 0 }, 'just fits: nothing');
      t.same(await records.sink.write({ records: [], trims: [], budget: budget(8 * 1002, T0 + 10_000) }), { deleted: 5, deletedEarly: 0 });
      t.same(
        await storedIds(records),
        ids([queued, ...asyncRecent.slice(0, 2), ...asyncOld.slice(1), ...asyncRecent.slice(2)]),
        'the oldest unheld records went, held ones stayed though older by seq',
      );
      t.same(await records.sink.write({ records: [], trims: [], budget: budget(8 * 1002, T0 + 10_000) }), { deleted: 0, deletedEarly: 0 }, 'now it fits');
    });

    t.test('when unheld records are not enough, the oldest held ones go, never a queued one', async (t) => {
      const records = open(t);
      const loose = ended(T0, { printLogs: PAD });
      const held = Array.from({ length: 5 }, (_, i) => ended(T0 + 10_000 + i, { printLogs: PAD }));
      const queued = ended(T0, { status: 'queued', endTime: undefined, printLogs: PAD });
      t.same(await records.sink.write({ records: [queued, loose, ...held], trims: [], budget: budget(3 * 1002, T0 + 10_000) }), { deleted: 4, deletedEarly: 3 });
      t.same(await storedIds(records), ids([queued, ...held.slice(3)]));
      t.same(await records.sink.write({ records: [], trims: [], budget: budget(1, T0 + 10_000) }), { deleted: 2, deletedEarly: 2 }, 'a tiny budget empties all it can');
      t.same(await storedIds(records), ids([queued]), 'the queued task stays: it has yet to run');
    });

    t.test('a budget that needs many records deleted reaches past the first rows it reads', async (t) => {
      const records = open(t);
      const many = Array.from({ length: 150 }, (_, i) => ended(T0 + i, { origin: 'syncAPI', originId: 's' })); // 202 bytes each
      t.same(await records.sink.write({ records: many, trims: [], budget: budget(50 * 202, null) }), { deleted: 100, deletedEarly: 0 });
      t.same(await storedIds(records), ids(many.slice(100)));
      t.same(await records.sink.write({ records: [], trims: [], budget: budget(1, null) }), { deleted: 50, deletedEarly: 0 }, 'all of them when even that is too much');
    });

    t.test('sizes count UTF-8 bytes; an overwrite replaces the size; a trimmed record gives its bytes back', async (t) => {
      const records = open(t);
      const queued = ended(T0, { status: 'queued', endTime: undefined, kwargs: { text: 'é'.repeat(100) } });
      const done = { ...queued, status: 'success' as const, endTime: T0, returnValueJson: '"done"', printLogs: 'x'.repeat(1000) };
      const size = 200 + 11 + 200 + 6 + 1000; // {"text":"é…é"}: 11 ASCII bytes and 100 two-byte characters
      await records.sink.write({ records: [queued, done, ended(T0 + 1, { origin: 'syncAPI', originId: 'x' })], trims: [{ origin: 'syncAPI', originId: 'x', keep: 0 }] });
      t.same(await records.sink.write({ records: [], trims: [], budget: budget(size, null) }), { deleted: 0, deletedEarly: 0 }, 'fits exactly');
      t.same(await records.sink.write({ records: [], trims: [], budget: budget(size - 1, null) }), { deleted: 1, deletedEarly: 0 }, 'one byte less does not');
    });

    t.test('kwargs too long to keep are stored as a note', async (t) => {
      const records = open(t);
      const big = record({ kwargs: { text: 'y'.repeat(300 * 1024) } });
      await records.sink.write({ records: [big], trims: [] });
      t.match((await records.store.get(big.id))?.kwargs, { '(not stored)': /kwargs of \d+ characters/ });
    });
  });
}

t.test('redis: the byte total is the sum of the records, across inserts, overwrites, trims and budgets', async (t) => {
  const keyPrefix = `${prefix}${++stores}:`;
  const records = new RedisTaskRecords(redis, keyPrefix);
  const sum = async (): Promise<{ total: number; sum: number }> => {
    const all = await redis.zrange(`${keyPrefix}records:all`, 0, -1);
    const sizes = await Promise.all(all.map((id) => redis.hget(`${keyPrefix}record:${id}`, 'bytes')));
    return { total: Number(await redis.get(`${keyPrefix}records:bytes`)), sum: sizes.reduce((s, b) => s + Number(b), 0) };
  };
  const batch = Array.from({ length: 30 }, (_, i) => ended(T0 + i, { printLogs: 'z'.repeat(i * 10) }));
  await records.write({ records: batch, trims: [{ origin: 'asyncAPI', originId: 'echo', keep: 20 }] });
  let sums = await sum();
  t.equal(sums.total, sums.sum);
  await records.save(batch.slice(-5).map((r) => ({ ...r, printLogs: 'short' })));
  await records.write({ records: [], trims: [], budget: budget(10 * 250, null) });
  sums = await sum();
  t.equal(sums.total, sums.sum);
  t.ok(sums.total <= 10 * 250 && sums.total > 0);
  await records.save([{ ...batch[29]!, status: 'queued' }], { ifAbsent: true });
  t.match(await records.get(batch[29]!.id), { status: 'success', printLogs: 'short' }, 'ifAbsent leaves a stored record alone');
});
