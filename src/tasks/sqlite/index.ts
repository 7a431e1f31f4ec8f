import type { AsyncTaskQueue, CronFireLedger, TaskRecordStore } from '../ports.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { SqliteAsyncQueue } from './sqlite-async-queue.js';
import { SqliteCronLedger } from './sqlite-cron-ledger.js';
import { SqliteTaskRecords } from './sqlite-task-records.js';

/** The embedded store: every storage port over one SQLite file in the data dir. */
export interface TaskStorage {
  records: TaskRecordStore;
  queue: AsyncTaskQueue;
  cronLedger: CronFireLedger;
  close(): void;
}

export function openSqliteStorage(dataDir: string): TaskStorage {
  const db: SqliteDatabase = openDatabase(dataDir);
  const records = new SqliteTaskRecords(db);
  return {
    records,
    queue: new SqliteAsyncQueue(db, records),
    cronLedger: new SqliteCronLedger(db),
    close: () => db.close(),
  };
}

export { openDatabase } from './database.js';
