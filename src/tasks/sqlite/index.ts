import type { AsyncTaskQueue, CronFireLedger, RecordBatchSink, TaskRecordStore } from '../ports.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { SqliteAsyncQueue } from './sqlite-async-queue.js';
import { SqliteCronLedger } from './sqlite-cron-ledger.js';
import { SqliteRecordSink } from './sqlite-record-sink.js';
import { SqliteTaskRecords } from './sqlite-task-records.js';

/** The embedded store: every storage port over one SQLite file in the data dir. */
export interface TaskStorage {
  records: TaskRecordStore;
  /** Batches of finished sync and cron records, written on a thread of their own. */
  recordSink: RecordBatchSink;
  queue: AsyncTaskQueue;
  cronLedger: CronFireLedger;
  close(): Promise<void>;
}

export function openSqliteStorage(dataDir: string): TaskStorage {
  const db: SqliteDatabase = openDatabase(dataDir);
  const records = new SqliteTaskRecords(db);
  const recordSink = new SqliteRecordSink(dataDir);
  return {
    records,
    recordSink,
    queue: new SqliteAsyncQueue(db, records),
    cronLedger: new SqliteCronLedger(db),
    close: async () => {
      await recordSink.close();
      db.close();
    },
  };
}

export { openDatabase } from './database.js';
