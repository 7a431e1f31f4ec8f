import type { Logger } from '../../log.js';
import { type Clock, systemClock } from '../../model/clock.js';
import type { DeployHistory } from '../deploy-history.js';
import type { AsyncTaskQueue, CronFireLedger, RecordBatchSink } from '../ports.js';
import type { ScriptStore } from '../script-store.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { SqliteAsyncQueue } from './sqlite-async-queue.js';
import { SqliteCronLedger } from './sqlite-cron-ledger.js';
import { SqliteDeployHistory } from './sqlite-deploy-history.js';
import { SqliteRecordSink } from './sqlite-record-sink.js';
import { SqliteScriptStore } from './sqlite-script-store.js';
import { SqliteTaskRecords } from './sqlite-task-records.js';

/** How often expired DFF.STORE rows are deleted (reads ignore them meanwhile). */
const SCRIPT_STORE_SWEEP_MS = 60_000;

/** The embedded store: every storage port over one SQLite file in the data dir. */
export interface TaskStorage {
  /** Also written one by one (by tests and the record thread): SQLite's own class. */
  records: SqliteTaskRecords;
  /** Batches of finished sync and cron records, written on a thread of their own. */
  recordSink: RecordBatchSink;
  queue: AsyncTaskQueue;
  cronLedger: CronFireLedger;
  /** DFF.STORE entries, expiring by the options' clock. */
  scriptStore: ScriptStore;
  /** Reload attempts and the rollback pin. */
  deploys: DeployHistory;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** The time DFF.STORE expiry is read from; the system clock by default. */
  clock?: Clock;
  /** Where a failed sweep of expired DFF.STORE rows is reported; unset: not reported. */
  logger?: Logger;
}

export function openSqliteStorage(dataDir: string, options: StorageOptions = {}): TaskStorage {
  const db: SqliteDatabase = openDatabase(dataDir);
  const records = new SqliteTaskRecords(db);
  const recordSink = new SqliteRecordSink(dataDir);
  const scriptStore = new SqliteScriptStore(db, options.clock ?? systemClock);
  const sweep = (): void => {
    try {
      scriptStore.sweepExpired();
    } catch (error) {
      // Expired rows stay unread until the next sweep: nothing is lost by waiting for it.
      options.logger?.error({ err: error }, 'sweep of expired DFF.STORE entries failed');
    }
  };
  const sweeper = setInterval(sweep, SCRIPT_STORE_SWEEP_MS);
  sweeper.unref();
  return {
    records,
    recordSink,
    queue: new SqliteAsyncQueue(db, records),
    cronLedger: new SqliteCronLedger(db),
    scriptStore,
    deploys: new SqliteDeployHistory(db),
    close: async () => {
      clearInterval(sweeper);
      await recordSink.close();
      db.close();
    },
  };
}

/**
 * The deploy history alone, for a server whose other stores are shared (Redis): each server
 * keeps its own reloads and pin in its data dir.
 */
export function openSqliteDeployHistory(dataDir: string): { deploys: DeployHistory; close(): void } {
  const db = openDatabase(dataDir);
  return { deploys: new SqliteDeployHistory(db), close: () => db.close() };
}

export { openDatabase } from './database.js';
