import { CronJob, Task, ToadScheduler } from 'toad-scheduler';
import { newTaskId } from '../invocation/invoker.js';
import type { Logger } from '../log.js';
import type { CronFireLedger } from '../tasks/ports.js';
import type { CronJobSpec } from './cron-job-spec.js';
import { type Clock, FireTimes } from './fire-times.js';

/** One run a cron job owes: its scheduled fire, or a `delayed_cron_job` run after it. */
export interface CronFire {
  job: CronJobSpec;
  /** The scheduled time of the fire (epoch ms). */
  scheduledAt: number;
  /** Absent for the fire itself; else the `delayed_cron_job` offset this run is for. */
  delaySeconds?: number;
  taskId: string;
}

export interface CronSchedulerDeps {
  ledger: CronFireLedger;
  clock: Clock;
  logger: Logger;
  /** Runs a claimed fire (records it, skips an overlap); must not throw. */
  run(fire: CronFire): void;
}

/** A croner timer may wake a little before its second (clock drift): look this far ahead. */
const EARLY_WAKE_MS = 50;
/**
 * Claimed fires older than this are forgotten (each job's latest is kept for catch-up): a
 * fire's key only has to outlive a reload or a replica's clock skew, and an every-second
 * job claims 86,400 fires a day.
 */
const LEDGER_KEEP_MS = 24 * 3_600_000;
const LEDGER_PRUNE_EVERY_MS = 3_600_000;

interface ScheduledJob {
  spec: CronJobSpec;
  times: FireTimes;
}

/**
 * Fires the served revision's cron jobs with toad-scheduler. A fire is (job id, scheduled
 * time) and runs only if the ledger lets this process claim it, so a fire is recorded once
 * across reloads, restarts and (with a shared ledger) replicas. toad-scheduler's
 * `preventOverrun` is left off: it drops an overlapping fire silently, and an overlap must
 * be recorded as `skip` (the runner does that).
 */
export class CronScheduler {
  private scheduler: ToadScheduler | undefined;
  private jobs = new Map<string, ScheduledJob>();
  /** Latest scheduled time handled per job id, to catch a fire a swap fell on. */
  private readonly lastHandled = new Map<string, number>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: CronSchedulerDeps) {}

  /**
   * Swaps in a revision's jobs at once: the old timers stop and the new ones start in the
   * same turn. A job whose fire came due during the swap, before its old timer ran, fires now.
   */
  replace(specs: readonly CronJobSpec[]): void {
    const next = new ToadScheduler();
    const jobs = new Map<string, ScheduledJob>();
    for (const spec of specs) {
      const job = { spec, times: new FireTimes(spec.expression, spec.timezone) };
      jobs.set(spec.id, job);
      const task = new Task(spec.id, () => this.onTimer(job), (error: Error) => {
        this.deps.logger.error({ err: error, jobId: spec.id }, 'cron fire failed');
      });
      next.addCronJob(new CronJob({ cronExpression: spec.expression, timezone: spec.timezone }, task, { id: spec.id }));
    }
    this.scheduler?.stop();
    this.scheduler = next;
    this.jobs = jobs;
    this.pruneTimer ??= setInterval(() => this.pruneLedger(), LEDGER_PRUNE_EVERY_MS).unref();
    this.pruneLedger();
    const now = this.deps.clock.now();
    for (const job of jobs.values()) {
      const handled = this.lastHandled.get(job.spec.id);
      const due = job.times.latestAtOrBefore(now);
      if (handled !== undefined && due !== undefined && due > handled) this.fire(job.spec, due);
    }
  }

  /**
   * Runs one catch-up fire for each `misfire: runOnce` job that missed fires while the
   * server was down (other jobs skip them). Call once, after the first `replace`.
   */
  catchUp(): void {
    const now = this.deps.clock.now();
    for (const { spec, times } of this.jobs.values()) {
      if (spec.misfire !== 'runOnce') continue;
      const last = this.deps.ledger.lastFire(spec.id);
      const missed = times.latestAtOrBefore(now);
      if (last !== undefined && missed !== undefined && missed > last) {
        this.deps.logger.info({ jobId: spec.id, scheduledAt: new Date(missed).toISOString() }, 'cron catch-up run for missed fires');
        this.fire(spec, missed);
      }
    }
  }

  /** The next fire time (epoch ms) of each scheduled job. */
  nextFires(): Map<string, number | undefined> {
    const now = this.deps.clock.now();
    return new Map([...this.jobs].map(([id, job]) => [id, job.times.next(now)]));
  }

  job(id: string): CronJobSpec | undefined {
    return this.jobs.get(id)?.spec;
  }

  /** Stops every timer; runs already started go on (see CronRunner). */
  stop(): void {
    this.scheduler?.stop();
    this.scheduler = undefined;
    clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
  }

  private pruneLedger(): void {
    try {
      this.deps.ledger.prune(this.deps.clock.now() - LEDGER_KEEP_MS);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not prune the cron fire ledger');
    }
  }

  private onTimer(job: ScheduledJob): void {
    const scheduledAt = job.times.latestAtOrBefore(this.deps.clock.now() + EARLY_WAKE_MS);
    if (scheduledAt !== undefined) this.fire(job.spec, scheduledAt);
  }

  private fire(spec: CronJobSpec, scheduledAt: number, delaySeconds?: number): void {
    if (delaySeconds === undefined) this.lastHandled.set(spec.id, Math.max(scheduledAt, this.lastHandled.get(spec.id) ?? 0));
    const taskId = newTaskId();
    if (!this.deps.ledger.claim(cronRunKey(spec.id, delaySeconds), scheduledAt, taskId)) return;
    this.deps.run({ job: spec, scheduledAt, ...(delaySeconds === undefined ? {} : { delaySeconds }), taskId });
    if (delaySeconds !== undefined) return;
    for (const delay of spec.delaysSeconds) {
      const timer = setTimeout(() => {
        this.delayed.delete(timer);
        this.fire(spec, scheduledAt, delay);
      }, Math.max(0, scheduledAt + delay * 1000 - this.deps.clock.now()));
      this.delayed.add(timer);
    }
  }
}

/** The job id a run is claimed and tracked under: `job`, or `job+30s` for a delayed run. */
export function cronRunKey(jobId: string, delaySeconds: number | undefined): string {
  return delaySeconds === undefined ? jobId : `${jobId}+${delaySeconds}s`;
}
