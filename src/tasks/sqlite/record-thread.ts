/**
 * The thread that writes record batches into the data dir's database (see SqliteRecordSink):
 * its own connection, so the serving thread never spends its time in SQLite for them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BudgetOutcome, RecordBatch } from '../ports.js';
import { withStoredKwargs } from '../stored-size.js';
import { openDatabase } from './database.js';
import { SqliteTaskRecords } from './sqlite-task-records.js';

export interface RecordThreadData {
  dataDir: string;
}

export interface WriteRequest {
  seq: number;
  batch: RecordBatch;
}

export interface WriteReply {
  seq: number;
  /** What the batch's byte budget deleted, once written. */
  outcome?: BudgetOutcome;
  /** Why the batch could not be written. */
  error?: string;
}

const NOTHING_DELETED: BudgetOutcome = { deleted: 0, deletedEarly: 0 };

const { dataDir } = workerData as RecordThreadData;
const db = openDatabase(dataDir);
const records = new SqliteTaskRecords(db);
// IMMEDIATE: takes the write lock first, so a busy serving connection is waited for
// (busy_timeout) rather than failing the batch with SQLITE_BUSY.
const writeBatch = db.transaction((batch: RecordBatch): BudgetOutcome => {
  // Sized here, off the serving thread. Batches hold sync and cron records, never a queued
  // async task (whose kwargs must be kept whole to run it).
  records.save(batch.records.map(withStoredKwargs));
  for (const trim of batch.trims) records.trim(trim.origin, trim.originId, trim.keep, trim.keepEndedSince);
  return batch.budget === undefined ? NOTHING_DELETED : records.fitBudget(batch.budget);
}).immediate;

parentPort!.on('message', ({ seq, batch }: WriteRequest) => {
  let reply: WriteReply;
  try {
    reply = { seq, outcome: writeBatch(batch) };
  } catch (error) {
    reply = { seq, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
