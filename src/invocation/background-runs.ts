import { InFlight } from '../in-flight.js';
import type { Invocation } from '../model/invocation.js';
import type { TaskRecord } from '../model/task-record.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { recordWhenEnded } from './call-records.js';
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
    const result = await this.invoker.runInBackground(revision, call);
    const record = await recordWhenEnded(call, revision.commit, triggerTime, result, revision.mask);
    return { record, cutByShutdown: this.groups[kind].stopping && result.kind === 'crashed' };
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
