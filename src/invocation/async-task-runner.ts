import { setTimeout as sleep } from 'node:timers/promises';
import { GitfuncError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Invocation } from '../model/invocation.js';
import type { TaskRecord } from '../model/task-record.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { ScriptImportFailed, scriptOfFunction } from '../revision/script-failures.js';
import type { AsyncTaskQueue, QueuedTask } from '../tasks/ports.js';
import type { RecordWriter } from '../tasks/record-writer.js';
import type { UploadFolders } from '../uploads/upload-folders.js';
import type { BackgroundRuns } from './background-runs.js';
import { notRunRecord, queuedRecord } from './call-records.js';
import type { OutcomeLog } from './outcome-log.js';

/** Wait before taking tasks again after the store failed to hand them out. */
const CLAIM_RETRY_MS = 1000;
/** How often a task's end is written again while a shared store is out of reach. */
const COMPLETE_RETRY_MS = 1000;
/** Runs of one task cut by a server crash or kill before it is given up. */
export const MAX_TASK_ATTEMPTS = 3;

export interface AsyncTaskRunnerDeps {
  queue: AsyncTaskQueue;
  holder: RevisionHolder;
  runs: BackgroundRuns;
  /** Trims each API's records after its tasks end. */
  records: RecordWriter;
  logger: Logger;
  /** Where each task's end is counted and logged. */
  outcomes: OutcomeLog;
  /** Waiting tasks beyond this are refused (AsyncQueueFull). */
  queueMax: number;
  /** Tasks run at once: the pool's background slots. */
  concurrency: number;
  /** A task's uploads are removed when it ends. */
  uploads: UploadFolders;
  /**
   * With a queue shared by several servers, tasks arrive (accepted elsewhere, or put back after
   * another server died) without this runner hearing of it: it looks for them this often while
   * a slot is free. Unset: it looks only when it accepts a task or one ends.
   */
  pollMs?: number;
}

/** The async queue already holds `queueMax` waiting tasks: a new one is refused, never lost. */
export class AsyncQueueFull extends GitfuncError {
  constructor(queueMax: number) {
    super('ASYNC_QUEUE_FULL', `The async queue is full (${queueMax} tasks waiting); retry later`, { queueMax });
    this.name = 'AsyncQueueFull';
  }
}

/**
 * Takes async tasks from the durable queue and runs them on the background lane of the
 * pool, on the revision served when each task starts. A task is removed from the queue only
 * together with its final record, so a crash re-runs it (at least once).
 */
export class AsyncTaskRunner {
  private stopped = true;
  private retry: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  /** A claim is in flight; `pumpAgain` asks for one more once it is back (never two at once: both would count the same free slots). */
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly deps: AsyncTaskRunnerDeps) {}

  /** Puts back tasks a crashed run had started, then starts taking tasks. */
  async start(): Promise<void> {
    const { requeued, abandoned } = await this.deps.queue.recoverClaimed(MAX_TASK_ATTEMPTS, Date.now());
    if (requeued > 0) this.deps.logger.warn({ tasks: requeued }, 'async tasks of an earlier run re-queued');
    if (abandoned > 0) this.deps.logger.error({ tasks: abandoned, maxAttempts: MAX_TASK_ATTEMPTS }, 'async tasks given up after repeated crashes');
    this.stopped = false;
    this.pump();
    if (this.deps.pollMs !== undefined) this.poller = setInterval(() => this.pump(), this.deps.pollMs).unref();
  }

  /**
   * Queues `call` durably (its record says `queued`), then runs it if a slot is free. Once
   * queued, its uploads live with the task until it ends; refused, they are removed.
   * @throws AsyncQueueFull
   */
  async accept(call: Invocation, commit: string): Promise<void> {
    let queued = false;
    try {
      queued = await this.deps.queue.enqueue(
        {
          record: queuedRecord(call, commit, Date.now()),
          call: { returnType: call.returnType, timeoutSeconds: call.timeoutSeconds, httpRequest: call.httpRequest, uploadDir: call.uploadDir },
        },
        this.deps.queueMax,
      );
    } finally {
      if (!queued && call.uploadDir !== undefined) await this.deps.uploads.remove(call.taskId);
    }
    if (!queued) throw new AsyncQueueFull(this.deps.queueMax);
    this.pump();
  }

  /** Takes no more tasks; resolves once the running ones ended, or at `graceMs`. */
  stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.poller);
    return this.deps.runs.drain('asyncTasks', graceMs);
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.claimFree().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  /** Claims as many tasks as there are free background slots, and runs them. */
  private async claimFree(): Promise<void> {
    if (this.stopped) return;
    const free = this.deps.concurrency - this.deps.runs.running.asyncTasks;
    const revision = this.deps.holder.current;
    if (free <= 0 || revision === undefined) return;
    let claimed: QueuedTask[];
    try {
      claimed = await this.deps.queue.claim(free, Date.now(), revision.commit);
    } catch (error) {
      // The store failed (disk full, I/O error, locked too long, Redis out of reach): the tasks stay queued.
      // A Redis outage is logged once by its connection; the polls meanwhile would repeat it twice a second.
      this.deps.logger[sharedStoreDown(error) ? 'debug' : 'error']({ err: error }, 'could not take async tasks from the queue; retrying');
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.pump();
      }, CLAIM_RETRY_MS);
      return;
    }
    for (const task of claimed) void this.run(task).finally(() => this.pump());
  }

  private async run(task: QueuedTask): Promise<void> {
    const { record } = task;
    // Left false when the task stays claimed for the next start, which needs its uploads.
    let ended = false;
    try {
      ended = (await this.deps.runs.onServedRevision('asyncTasks', (revision) => this.runOn(revision, task))) ?? false;
    } catch (error) {
      // The task stays claimed in the queue: the next start re-runs it.
      this.deps.logger.error({ err: error, taskId: record.id }, 'async task could not be completed');
    } finally {
      this.deps.records.markForTrim(record.origin, record.originId);
    }
    if (ended && task.call.uploadDir !== undefined) await this.deps.uploads.remove(record.id);
  }

  /**
   * Stores the final record and ends the task in the queue. While a shared store is out of
   * reach the result is kept and the write tried again each second (a re-run would redo the
   * work); a stop gives up, leaving the task claimed to run again.
   */
  private async complete(record: TaskRecord): Promise<void> {
    for (;;) {
      try {
        await this.deps.queue.complete(record);
        return;
      } catch (error) {
        if (!sharedStoreDown(error) || this.stopped) throw error;
        await sleep(COMPLETE_RETRY_MS);
      }
    }
  }

  /** Runs the task on `revision` and completes it in the queue; false when a shutdown cut it (it stays claimed). */
  private async runOn(revision: Revision, { record, call }: QueuedTask): Promise<boolean> {
    const invocation: Invocation = {
      taskId: record.id,
      funcId: record.funcId,
      origin: record.origin,
      originId: record.originId,
      kwargs: record.kwargs,
      returnType: call.returnType,
      timeoutSeconds: call.timeoutSeconds,
      attempt: record.attempt,
      httpRequest: call.httpRequest,
      uploadDir: call.uploadDir,
    };
    if (!revision.catalog.has(record.funcId)) {
      const notRun = notRunRecord(invocation, revision.commit, record.triggerTime, 'failure', notInRevision(revision, record.funcId));
      await this.complete(notRun);
      this.deps.outcomes.ended(notRun);
      return true;
    }
    const { record: final, cutByShutdown } = await this.deps.runs.run('asyncTasks', revision, invocation, record.triggerTime);
    // Cut short by a shutdown: left claimed in the queue, so the next start runs it again.
    if (cutByShutdown) return false;
    await this.complete(final);
    this.deps.outcomes.ended(final);
    return true;
  }
}

/** Whether the queue's store is a shared one out of reach for now (a Redis outage). */
function sharedStoreDown(error: unknown): boolean {
  return error instanceof GitfuncError && error.code === 'SHARED_STORE_UNAVAILABLE';
}

/** Why a task queued for `funcId` does not run on `revision`, which lacks the function. */
function notInRevision(revision: Revision, funcId: string): { exceptionType: string; exceptionText: string } {
  // Its script failed to import after the task was queued (`scriptErrors: isolate`).
  const failure = revision.scriptFailures.get(scriptOfFunction(funcId));
  if (failure !== undefined) return { exceptionType: 'ScriptImportFailed', exceptionText: new ScriptImportFailed(failure).message };
  return {
    exceptionType: 'FunctionNotFound',
    exceptionText: `function ${funcId} is not in commit ${revision.commit.slice(0, 12)} any more (removed after the task was queued)`,
  };
}
