import { InFlight } from '../in-flight.js';
import type { Invocation } from '../model/invocation.js';
import type { TaskRecord } from '../model/task-record.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { cancelledRecord, CANCELLED_REASON, notRunRecord, recordWhenEnded } from './call-records.js';
import type { Invoker } from './invoker.js';

/** How a background run ended: its final record, and whether a shutdown cut it. */
export interface BackgroundEnd {
  record: TaskRecord;
  /** The server is stopping and closed the worker under the run: it did not really fail. */
  cutByShutdown: boolean;
}

/** Background runs in progress, by kind. */
export interface BackgroundCounts {
  asyncTasks: number;
  cronRuns: number;
}

/**
 * The one way async tasks and cron runs are run: on the pool's background lane, against the
 * revision served when each starts, each ending with its final record. Counts runs in
 * progress so a shutdown waits for them, and tells a run cut by the shutdown from a failure.
 */
export class BackgroundRuns {
  private readonly groups: Record<keyof BackgroundCounts, { inFlight: InFlight; stopping: boolean }> = {
    asyncTasks: { inFlight: new InFlight(), stopping: false },
    cronRuns: { inFlight: new InFlight(), stopping: false },
  };
  /** Tasks inside `run`. */
  private readonly active = new Set<string>();
  /** Tasks an operator cancelled: each ends `cancelled` (without running if it had not started). */
  private readonly cancelled = new Set<string>();

  constructor(
    private readonly invoker: Invoker,
    private readonly holder: RevisionHolder,
  ) {}

  /**
   * Runs `work` with the served revision held; resolves undefined without running it when
   * nothing is served. `work` is counted as a run in progress until it settles.
   */
  async onServedRevision<T>(kind: keyof BackgroundCounts, work: (revision: Revision) => Promise<T>): Promise<T | undefined> {
    const revision = this.holder.acquire();
    if (revision === undefined) return undefined;
    const { inFlight } = this.groups[kind];
    inFlight.enter();
    try {
      return await work(revision);
    } finally {
      this.holder.release(revision);
      inFlight.leave();
    }
  }

  /** Runs `call` (of `kind`) on `revision` and builds its final record (a timed-out call's once its worker stopped). */
  async run(kind: keyof BackgroundCounts, revision: Revision, call: Invocation, triggerTime: number): Promise<BackgroundEnd> {
    this.active.add(call.taskId);
    try {
      if (this.cancelled.has(call.taskId)) {
        return { record: notRunRecord(call, revision.commit, triggerTime, 'cancelled', CANCELLED_REASON), cutByShutdown: false };
      }
      const result = await this.invoker.runInBackground(revision, call);
      const record = await recordWhenEnded(call, revision.commit, triggerTime, result, revision.mask);
      // Only an interrupted run ends cancelled: one that ended by itself as the cancel came keeps its result.
      if (this.cancelled.has(call.taskId) && result.kind === 'timeout') return { record: cancelledRecord(record), cutByShutdown: false };
      return { record, cutByShutdown: this.groups[kind].stopping && result.kind === 'crashed' };
    } finally {
      this.active.delete(call.taskId);
      this.cancelled.delete(call.taskId);
    }
  }

  /**
   * Cancels the run of `taskId`: interrupted like at its deadline, its record ends `cancelled`.
   * With `notStartedYet` (an async task its runner claimed but has not handed here yet), the
   * task is marked so that it ends `cancelled` without running. False when there is nothing to cancel.
   */
  cancel(taskId: string, notStartedYet = false): boolean {
    if (!this.active.has(taskId) && !notStartedYet) return false;
    this.cancelled.add(taskId);
    this.invoker.cancelBackground(taskId);
    return true;
  }

  get running(): BackgroundCounts {
    return { asyncTasks: this.groups.asyncTasks.inFlight.active, cronRuns: this.groups.cronRuns.inFlight.active };
  }

  /**
   * From now on a run of `kind` whose worker is closed counts as cut by the shutdown; resolves
   * once none of them runs, or at `graceMs`.
   */
  drain(kind: keyof BackgroundCounts, graceMs: number): Promise<void> {
    const group = this.groups[kind];
    group.stopping = true;
    return group.inFlight.idle(graceMs);
  }
}
