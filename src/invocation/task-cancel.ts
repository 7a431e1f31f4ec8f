import { GitfuncError } from '../errors.js';
import type { AsyncTaskQueue, TaskRecordStore } from '../tasks/ports.js';
import type { UploadFolders } from '../uploads/upload-folders.js';
import type { BackgroundRuns } from './background-runs.js';
import { CANCELLED_REASON } from './call-records.js';

/** A cancel of a task whose record has ended already. */
export class TaskAlreadyEnded extends GitfuncError {
  constructor(taskId: string, status: string) {
    super('TASK_ENDED', `Task '${taskId}' already ended (${status}): nothing to cancel`, { status });
    this.name = 'TaskAlreadyEnded';
  }
}

/** A cancel reaching one replica for a task another replica runs: only that one can interrupt it. */
export class TaskRunsElsewhere extends GitfuncError {
  constructor(taskId: string) {
    super('TASK_RUNS_ELSEWHERE', `Task '${taskId}' runs on another replica: send the cancel to the replica running it (GET /api/v1/status lists them)`, {});
    this.name = 'TaskRunsElsewhere';
  }
}

export interface TaskCancelDeps {
  queue: AsyncTaskQueue;
  runs: BackgroundRuns;
  records: TaskRecordStore;
  uploads: UploadFolders;
}

/**
 * Cancels an async task or a cron run (`POST /api/v1/tasks/:id/cancel`): a queued task is
 * taken out of the queue and never runs; a running one is interrupted as at its deadline.
 * Either way its record ends `cancelled`.
 */
export class TaskCanceller {
  constructor(private readonly deps: TaskCancelDeps) {}

  /**
   * `cancelled`: the record already says so; `cancelling`: the run is being interrupted and its
   * record ends `cancelled` once its worker stopped.
   * @throws GitfuncError NOT_FOUND (no such task), TaskAlreadyEnded
   */
  async cancel(taskId: string): Promise<'cancelled' | 'cancelling'> {
    const { queue, runs, records, uploads } = this.deps;
    const queued = await queue.cancel(taskId, Date.now(), CANCELLED_REASON);
    if (queued === 'cancelled') {
      await uploads.remove(taskId);
      return 'cancelled';
    }
    if (queued === 'claimedElsewhere') throw new TaskRunsElsewhere(taskId);
    // A claimed task may not have reached its run yet: it is then ended without running.
    if (runs.cancel(taskId, queued === 'claimed')) return 'cancelling';
    const record = await records.get(taskId);
    if (record === undefined) throw new GitfuncError('NOT_FOUND', `No task '${taskId}'`, {});
    throw new TaskAlreadyEnded(taskId, record.status);
  }
}
