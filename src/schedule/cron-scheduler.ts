import { CronJob, Task, ToadScheduler } from 'toad-scheduler';
import type { Logger } from '../log.js';
import type { CronFireLedger } from '../tasks/ports.js';
import { FireTimes } from './fire-times.js';
import { newTaskId } from '../model/task-id.js';
import type { CronJobSpec } from '../model/cron-job.js';
import type { Clock } from '../model/clock.js';

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

/**
 * Fires a held-up event loop (a long GC, a busy machine) made late still run when their timer
 * finally does, if they came due this recently; older ones are dropped with a warning.
 */
const LATE_FIRE_GRACE_MS = 60_000;
/** Fires are whole seconds: no job has more than this many in the grace window. */
const MAX_FIRES_IN_GRACE = LATE_FIRE_GRACE_MS / 1000;
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
  /** The latest fire time handled (fired, or owed to no one) under this schedule. */
  handledUntil: number;
}

/**
 * Fires the served revision's cron jobs: each job is a toad-scheduler `CronJob` (croner's timer,
 * in the job's time zone). A fire is (job id, scheduled time) and runs only if the ledger lets
 * this process claim it, so a fire is recorded once across reloads, restarts and (with a shared
 * ledger) replicas. toad-scheduler's `preventOverrun` is left off: it drops an overlapping fire
 * silently, and an overlap must be recorded as `skip` (the runner does that).
 *
 * croner's timer calls once per wake, at or after a fire time, without saying which, and skips
 * to its next time after the wake: which times came due is worked out here with FireTimes, on
 * the same croner (package.json overrides toad-scheduler's own), so the two agree.
 */
export class CronScheduler {
  private scheduler: ToadScheduler | undefined;
  private jobs = new Map<string, ScheduledJob>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: CronSchedulerDeps) {}

  /**
   * Swaps in a revision's jobs at once: the old timers stop and the new ones start in the same
   * turn. A job that keeps its schedule keeps what it owes: a fire that came due during the
   * swap, before its old timer ran, fires now, with the new spec. A new or rescheduled job owes
   * nothing before the swap (downtime is `catchUp`'s business).
   *
   * Each revision gets a new ToadScheduler rather than `removeById` on one: toad-scheduler's
   * cron engine keeps every job it was given, removed or not (~80 KB each, croner's pattern
   * tables), and a dropped scheduler takes them with it.
   */
  replace(specs: readonly CronJobSpec[]): void {
    const now = this.deps.clock.now();
    // Every expression and zone is parsed (a bad one throws) before any timer changes.
    const jobs = new Map<string, ScheduledJob>();
    for (const spec of specs) {
      const previous = this.jobs.get(spec.id);
      const kept = previous !== undefined && sameSchedule(previous.spec, spec);
      jobs.set(spec.id, kept ? { ...previous, spec } : { spec, times: new FireTimes(spec.expression, spec.timezone), handledUntil: now });
    }
    this.scheduler?.stop();
    this.scheduler = new ToadScheduler();
    for (const job of jobs.values()) this.scheduler.addCronJob(this.cronJob(job));
    this.jobs = jobs;
    this.pruneTimer ??= setInterval(() => this.pruneLedger(), LEDGER_PRUNE_EVERY_MS).unref();
    this.pruneLedger();
    for (const job of jobs.values()) this.fireDue(job, now);
  }

  /**
   * Runs one catch-up fire for each `misfire: runOnce` job that missed fires while the
   * server was down (other jobs skip them). Call once, after the first `replace`.
   */
  async catchUp(): Promise<void> {
    const now = this.deps.clock.now();
    for (const { spec, times } of this.jobs.values()) {
      if (spec.misfire !== 'runOnce') continue;
      const last = await this.deps.ledger.lastFire(spec.id);
      const missed = times.latestAtOrBefore(now);
      if (last !== undefined && missed !== undefined && missed > last) {
        this.deps.logger.info({ jobId: spec.id, scheduledAt: new Date(missed).toISOString() }, 'cron catch-up run for missed fires');
        await this.claimAndRun(spec, missed, undefined);
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
    this.deps.ledger.prune(this.deps.clock.now() - LEDGER_KEEP_MS).catch((error: unknown) => {
      this.deps.logger.error({ err: error }, 'could not prune the cron fire ledger');
    });
  }

  private cronJob(job: ScheduledJob): CronJob {
    const { id, expression, timezone } = job.spec;
    const task = new Task(id, () => this.fireDue(job, this.deps.clock.now()), (error: Error) => {
      this.deps.logger.error({ err: error, jobId: id }, 'cron fire failed');
    });
    return new CronJob({ cronExpression: expression, timezone }, task, { id });
  }

  /**
   * Fires every time of `job` due by `now` and not handled yet, earliest first. A timer runs
   * late when the event loop was held, and croner then skips to its next time: the seconds in
   * between are fired here, not lost.
   */
  private fireDue(job: ScheduledJob, now: number): void {
    const graceStart = now - LATE_FIRE_GRACE_MS;
    if (job.handledUntil < graceStart) {
      const dropped = job.times.between(job.handledUntil, graceStart, 1);
      if (dropped.length > 0) {
        this.deps.logger.warn({ jobId: job.spec.id, since: new Date(job.handledUntil).toISOString() }, 'cron fires were dropped: their timers ran more than 60 s late');
      }
    }
    for (const scheduledAt of job.times.between(Math.max(job.handledUntil, graceStart), now, MAX_FIRES_IN_GRACE)) this.fire(job.spec, scheduledAt);
    job.handledUntil = Math.max(job.handledUntil, now);
  }

  private fire(spec: CronJobSpec, scheduledAt: number, delaySeconds?: number): void {
    this.claimAndRun(spec, scheduledAt, delaySeconds).catch((error: unknown) => {
      // The ledger could not be reached: nobody knows whether another process took the fire,
      // so it is not run here (a fire runs at most once).
      this.deps.logger.error({ err: error, jobId: spec.id, scheduledAt: new Date(scheduledAt).toISOString() }, 'cron fire not run: the fire ledger failed');
    });
  }

  private async claimAndRun(spec: CronJobSpec, scheduledAt: number, delaySeconds: number | undefined): Promise<void> {
    const taskId = newTaskId();
    if (!(await this.deps.ledger.claim(cronRunKey(spec.id, delaySeconds), scheduledAt, taskId))) return;
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

function sameSchedule(a: CronJobSpec, b: CronJobSpec): boolean {
  return a.expression === b.expression && a.timezone === b.timezone;
}

/** The job id a run is claimed and tracked under: `job`, or `job+30s` for a delayed run. */
export function cronRunKey(jobId: string, delaySeconds: number | undefined): string {
  return delaySeconds === undefined ? jobId : `${jobId}+${delaySeconds}s`;
}
