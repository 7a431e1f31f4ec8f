import type { BackgroundRuns } from '../invocation/background-runs.js';
import { notRunRecord, runningRecord } from '../invocation/call-records.js';
import type { OutcomeLog } from '../invocation/outcome-log.js';
import type { Logger } from '../log.js';
import type { CronJobSpec } from '../model/cron-job.js';
import type { Invocation } from '../model/invocation.js';
import type { TaskOrigin } from '../model/task-record.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import type { RecordWriter } from '../tasks/record-writer.js';
import { type CronFire, cronRunKey } from './cron-scheduler.js';

export interface CronRunnerDeps {
  holder: RevisionHolder;
  runs: BackgroundRuns;
  records: RecordWriter;
  logger: Logger;
  /** Where each run's end is counted and logged. */
  outcomes: OutcomeLog;
}

/** A run of `job`: scheduled (`cronJob`) or asked for with POST /api/v1/cron/:id (`manual`). */
function cronInvocation(job: CronJobSpec, taskId: string, origin: Extract<TaskOrigin, 'cronJob' | 'manual'>): Invocation {
  return {
    taskId,
    funcId: job.funcId,
    origin,
    originId: job.id,
    kwargs: job.kwargs,
    returnType: 'raw',
    timeoutSeconds: job.timeoutSeconds,
    attempt: 1,
    cronExpr: job.expression,
  };
}

/**
 * Runs cron fires on the pool's background lane and records each: `running` when it starts,
 * then how it ended. A fire that comes while the same job's previous run is still going is
 * recorded as `skip` and not run.
 */
export class CronRunner {
  /** Runs in progress per job (and delayed-run) key. */
  private readonly runningKeys = new Set<string>();

  constructor(private readonly deps: CronRunnerDeps) {}

  /** A scheduled fire (or a delayed run after one). */
  runFire(fire: CronFire): void {
    const key = cronRunKey(fire.job.id, fire.delaySeconds);
    const triggerTime = fire.scheduledAt + (fire.delaySeconds ?? 0) * 1000;
    const call = cronInvocation(fire.job, fire.taskId, 'cronJob');
    if (this.runningKeys.has(key)) {
      const commit = this.deps.holder.current?.commit ?? '';
      const skipped = notRunRecord(call, commit, triggerTime, 'skip', { exceptionText: 'skipped: the previous run of this job was still running' });
      this.deps.records.add(skipped);
      this.deps.outcomes.ended(skipped);
      return;
    }
    this.runningKeys.add(key);
    void this.run(call, triggerTime).finally(() => this.runningKeys.delete(key));
  }

  /** `POST /api/v1/cron/:id`: runs the job now, whether or not a scheduled run is going. */
  runNow(job: CronJobSpec, taskId: string): void {
    void this.run(cronInvocation(job, taskId, 'manual'), Date.now());
  }

  /** Resolves once no run is in progress, or at `graceMs`; a run cut after that is `cancelled`. */
  drain(graceMs: number): Promise<void> {
    return this.deps.runs.drain('cronRuns', graceMs);
  }

  private async run(call: Invocation, triggerTime: number): Promise<void> {
    try {
      // Jobs are scheduled only once a revision is served.
      await this.deps.runs.onServedRevision('cronRuns', (revision) => this.runOn(revision, call, triggerTime));
    } catch (error) {
      this.deps.logger.error({ err: error, jobId: call.originId, taskId: call.taskId }, 'cron run could not be recorded');
    }
  }

  private async runOn(revision: Revision, call: Invocation, triggerTime: number): Promise<void> {
    this.deps.records.add(runningRecord(call, revision.commit, triggerTime, Date.now()));
    const { record, cutByShutdown } = await this.deps.runs.run('cronRuns', revision, call, triggerTime);
    if (cutByShutdown) record.status = 'cancelled';
    this.deps.records.add(record);
    this.deps.outcomes.ended(record);
  }
}
