import type { Invoker } from '../invocation/invoker.js';
import { InFlight } from '../in-flight.js';
import type { Logger } from '../log.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { RecordWriter } from '../tasks/record-writer.js';
import { type CronFire, cronRunKey } from './cron-scheduler.js';
import type { Invocation } from '../model/invocation.js';
import { recordWhenEnded } from '../invocation/call-records.js';
import type { TaskRecord } from '../model/task-record.js';
import type { CronJobSpec } from '../model/cron-job.js';

export interface CronRunnerDeps {
  holder: RevisionHolder;
  invoker: Invoker;
  records: RecordWriter;
  logger: Logger;
}

/**
 * Runs cron fires on the pool's background lane and records each: `running` when it starts,
 * then how it ended. A fire that comes while the same job's previous run is still going is
 * recorded as `skip` and not run.
 */
export class CronRunner {
  /** Runs in progress per job (and delayed-run) key. */
  private readonly runningKeys = new Set<string>();
  private readonly inFlight = new InFlight();
  private stopping = false;

  constructor(private readonly deps: CronRunnerDeps) {}

  /** A scheduled fire (or a delayed run after one). */
  runFire(fire: CronFire): void {
    const key = cronRunKey(fire.job.id, fire.delaySeconds);
    const triggerTime = fire.scheduledAt + (fire.delaySeconds ?? 0) * 1000;
    if (this.runningKeys.has(key)) {
      const now = Date.now();
      this.deps.records.add({
        ...this.baseRecord(fire.job, fire.taskId, 'cronJob', triggerTime),
        status: 'skip',
        startTime: now,
        endTime: now,
        exceptionText: 'skipped: the previous run of this job was still running',
      });
      return;
    }
    this.runningKeys.add(key);
    void this.run(fire.job, fire.taskId, 'cronJob', triggerTime).finally(() => this.runningKeys.delete(key));
  }

  /** `POST /api/v1/cron/:id`: runs the job now, whether or not a scheduled run is going. */
  runNow(job: CronJobSpec, taskId: string): void {
    void this.run(job, taskId, 'manual', Date.now());
  }

  /** Resolves once no run is in progress, or at `graceMs`; a run cut after that is `cancelled`. */
  drain(graceMs: number): Promise<void> {
    this.stopping = true;
    return this.inFlight.idle(graceMs);
  }

  get running(): number {
    return this.inFlight.active;
  }

  private baseRecord(job: CronJobSpec, taskId: string, origin: 'cronJob' | 'manual', triggerTime: number): TaskRecord {
    return {
      id: taskId,
      funcId: job.funcId,
      origin,
      originId: job.id,
      kwargs: job.kwargs,
      commit: this.deps.holder.current?.commit ?? '',
      triggerTime,
      attempt: 1,
      status: 'running',
    };
  }

  private async run(job: CronJobSpec, taskId: string, origin: 'cronJob' | 'manual', triggerTime: number): Promise<void> {
    const revision = this.deps.holder.acquire();
    if (revision === undefined) return; // jobs are scheduled only once a revision is served
    this.inFlight.enter();
    try {
      this.deps.records.add({ ...this.baseRecord(job, taskId, origin, triggerTime), startTime: Date.now() });
      const call: Invocation = {
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
      const result = await this.deps.invoker.runInBackground(revision, call);
      const record = await recordWhenEnded(call, revision.commit, triggerTime, result, revision.mask);
      if (this.stopping && result.kind === 'crashed') record.status = 'cancelled';
      this.deps.records.add(record);
    } catch (error) {
      this.deps.logger.error({ err: error, jobId: job.id, taskId }, 'cron run could not be recorded');
    } finally {
      this.deps.holder.release(revision);
      this.inFlight.leave();
    }
  }
}
