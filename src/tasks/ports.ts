/**
 * What the server needs from storage, as small interfaces: the embedded SQLite store
 * implements them, and a Redis implementation slots in for several servers. Every operation
 * is async, so a store across the network fits.
 */
import type { ReturnType, ScriptHttpRequest } from '../model/invocation.js';
import type { TaskOrigin, TaskRecord, TaskRecordPage, TaskRecordQuery } from '../model/task-record.js';

/**
 * Task records as the server reads them (`GET /api/v1/tasks/:id`, the record list). They are
 * written through a RecordBatchSink or the async queue, never one by one from the serving thread.
 */
export interface TaskRecordStore {
  get(id: string): Promise<TaskRecord | undefined>;
  list(query: TaskRecordQuery): Promise<TaskRecordPage>;
}

/** One API's or cron job's records to trim to the newest `keep` finished ones. */
export interface TrimRequest {
  origin: TaskOrigin;
  originId: string;
  keep: number;
  /** Records that ended at or after this (epoch ms) are kept whatever the count. */
  keepEndedSince?: number;
}

/** How much room task records may take, and which ones go last. */
export interface StoreBudget {
  maxBytes: number;
  /** Per origin, records ended at or after this (epoch ms) are deleted only as a last resort; null holds none. */
  keepEndedSince: Readonly<Record<TaskOrigin, number | null>>;
}

/** What fitting a budget deleted. */
export interface BudgetOutcome {
  deleted: number;
  /** Of those, records still held by keepEndedSince: the budget is too small for the load. */
  deletedEarly: number;
}

export interface RecordBatch {
  records: TaskRecord[];
  /** Applied after the records are saved. */
  trims: TrimRequest[];
  /** Checked after the trims; none: the store may grow as trimming leaves it. */
  budget?: StoreBudget;
}

/**
 * Where finished records of sync calls and cron runs go, in batches and off the thread that
 * serves requests: writing a record costs several µs of SQLite time, as much as a fifth of a
 * small sync call.
 */
export interface RecordBatchSink {
  /** Resolves once the batch is stored (with what its budget deleted); rejects if it could not be. */
  write(batch: RecordBatch): Promise<BudgetOutcome>;
  close(): Promise<void>;
}

/** What an async task needs to run, beyond its record. */
export interface AsyncCall {
  returnType: ReturnType;
  timeoutSeconds: number;
  httpRequest?: ScriptHttpRequest;
  /** The task's upload folder, kept until the task ends (also across a restart). */
  uploadDir?: string;
}

export interface QueuedTask {
  record: TaskRecord;
  call: AsyncCall;
}

/** What cancelling a queued task did (AsyncTaskQueue.cancel). */
export type QueueCancel = 'cancelled' | 'claimed' | 'claimedElsewhere' | 'absent';

/** The durable, bounded queue of async API tasks (at least once). */
export interface AsyncTaskQueue {
  /**
   * Stores the task's `queued` record and queues it, durably, before returning; false when
   * the queue already holds `max` tasks.
   */
  enqueue(task: QueuedTask, max: number): Promise<boolean>;
  /** Takes up to `count` tasks, oldest first, marking their records `running`. */
  claim(count: number, startTime: number, commit: string): Promise<QueuedTask[]>;
  /** Stores the final record and removes the task from the queue, together. */
  complete(record: TaskRecord): Promise<void>;
  /**
   * Puts back tasks a crashed process had claimed, counting one more attempt; a task that
   * already had `maxAttempts` ends as `failure` instead (it may be what kills the server).
   * Called once at start, before any claim.
   */
  recoverClaimed(maxAttempts: number, now: number): Promise<{ requeued: number; abandoned: number }>;
  /**
   * Cancels a waiting task: removed from the queue, its record ended `cancelled` at `endTime`
   * with `reason`, together. `claimed`: this process claimed it (it is running, or about to),
   * left as it is for its runner to interrupt; `claimedElsewhere`: another replica of a shared
   * queue runs it; `absent`: not in the queue (finished, or unknown).
   */
  cancel(taskId: string, endTime: number, reason: { exceptionType: string; exceptionText: string }): Promise<QueueCancel>;
  /** Tasks waiting (not claimed). */
  depth(): Promise<number>;
  /** Whether the task is still in the queue: waiting, or running (claimed). */
  holds(taskId: string): Promise<boolean>;
}

/** Decides which process runs a cron fire: the first to claim (job, scheduled time). */
export interface CronFireLedger {
  /** True exactly once per key, across restarts (and, with a shared store, replicas). */
  claim(jobId: string, scheduledAt: number, taskId: string): Promise<boolean>;
  /** The latest claimed scheduled time of a job, for catch-up after downtime. */
  lastFire(jobId: string): Promise<number | undefined>;
  /** Forgets fires scheduled before `before`, except each job's latest. Returns how many. */
  prune(before: number): Promise<number>;
}
