import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { AsyncCall, AsyncTaskQueue, QueueCancel, QueuedTask } from '../tasks/ports.js';
import type { TaskRecord } from '../model/task-record.js';
import { type JobUploads, kwargsWithUploadsIn, packUploads, unpackUploads } from './job-uploads.js';
import type { RedisTaskRecords } from './redis-task-records.js';

export interface BullmqAsyncQueueOptions {
  redisUrl: string;
  /** Every key of the queue starts with it (BullMQ's `prefix` is `<keyPrefix>bull`). */
  keyPrefix: string;
  /** Where the tasks' records are kept (the `queued`, `running` and final ones). */
  records: RedisTaskRecords;
  logger: Logger;
  /** This replica's upload folders (UploadFolders.root): a claimed task's files are restored into `<uploadRoot>/<taskId>`. */
  uploadRoot: string;
  /** How long a claimed task stays this replica's without its lock renewed (every half of it): a replica that died loses its tasks this long after. */
  lockMs?: number;
  /** How often a replica (one at a time) puts back tasks whose lock expired. */
  stalledIntervalMs?: number;
}

/**
 * A killed replica's task runs again elsewhere within lockMs + 2 stalled intervals (a task is
 * marked at one check and put back at the next if its lock is still missing): 20 s.
 */
const DEFAULTS = Object.freeze({ lockMs: 10_000, stalledIntervalMs: 5_000 });

/** The BullMQ queue's name (its keys are `<keyPrefix>bull:async-tasks:*`). */
export const ASYNC_QUEUE_NAME = 'async-tasks';
/** BullMQ fails a job stalled more often than this; attempts are counted here instead (TooManyAttempts). */
const NEVER_FAIL_STALLED = 1_000_000;
/** BullMQ states in which a job is still the queue's: waiting or running. */
const HELD_STATES = new Set(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children']);

/** What a task's job carries: its `queued` record (kwargs whole), how to run it, its uploaded files. */
interface TaskJobData {
  record: TaskRecord;
  call: Omit<AsyncCall, 'uploadDir'>;
  uploads?: JobUploads;
}

/** A job this replica claimed, with the token its lock holds. */
interface Claimed {
  job: Job<TaskJobData>;
  token: string;
}

/**
 * The async queue shared by replicas, on BullMQ: a task is a job whose id is the task id.
 * A replica claims jobs by fetching them itself (no processor), holds a lock on each while it
 * runs, renewed every lockMs / 2. A replica that dies stops renewing: BullMQ's stalled-job
 * checker, which every replica runs, puts its tasks back in the queue, and their next run
 * counts one more attempt (the job's `attemptsStarted`). A restart therefore takes back
 * nothing by itself: the tasks other replicas are running keep their live locks.
 *
 * Uploads: a task's files travel in its job (see job-uploads.ts), and the replica that claims
 * it restores them into its own upload folder; the receiving replica's folder is removed once
 * the job holds them.
 */
export class BullmqAsyncQueue implements AsyncTaskQueue {
  private readonly producerConnection: Redis;
  private readonly workerConnection: Redis;
  private readonly queue: Queue<TaskJobData>;
  private readonly worker: Worker<TaskJobData>;
  private readonly claimed = new Map<string, Claimed>();
  private readonly renewer: NodeJS.Timeout;
  private readonly lockMs: number;
  private readonly records: RedisTaskRecords;
  private readonly logger: Logger;
  private readonly uploadRoot: string;
  /** Set by recoverClaimed (the runner calls it at start); until then attempts are not limited. */
  private maxAttempts = Number.POSITIVE_INFINITY;
  private closed: Promise<void> | undefined;

  constructor(options: BullmqAsyncQueueOptions) {
    const { lockMs, stalledIntervalMs } = { ...DEFAULTS, ...options };
    this.lockMs = lockMs;
    this.records = options.records;
    this.logger = options.logger;
    this.uploadRoot = options.uploadRoot;
    // Accepting, depth and holds fail at once while Redis is unreachable (so the caller can
    // answer 503) instead of waiting for it; claiming and completing wait for the connection to come
    // back (BullMQ's workers require it), so a running task is completed once it does.
    this.producerConnection = new Redis(options.redisUrl, { enableOfflineQueue: false });
    this.workerConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    const prefix = `${options.keyPrefix}bull`;
    this.queue = new Queue<TaskJobData>(ASYNC_QUEUE_NAME, { connection: this.producerConnection, prefix });
    this.queue.on('error', (error) => this.logger.error({ err: error }, 'async queue error'));
    this.worker = new Worker<TaskJobData>(ASYNC_QUEUE_NAME, null, {
      connection: this.workerConnection,
      prefix,
      autorun: false,
      lockDuration: lockMs,
      stalledInterval: stalledIntervalMs,
      maxStalledCount: NEVER_FAIL_STALLED,
    });
    this.worker.on('error', (error) => this.logger.error({ err: error }, 'async queue worker error'));
    this.renewer = setInterval(() => void this.renewLocks(), lockMs / 2);
    this.renewer.unref();
  }

  /**
   * Refuses when `max` tasks wait across all replicas (counted just before adding: replicas
   * accepting at the same instant may pass the bound by one each). The job is added first, then
   * the `queued` record unless the task already has one: a crash between leaves a job that runs
   * and records itself, never a `queued` record no job will end.
   */
  async enqueue(task: QueuedTask, max: number): Promise<boolean> {
    if ((await this.queue.getWaitingCount()) >= max) return false;
    const { uploadDir, ...call } = task.call;
    const uploads = uploadDir === undefined ? undefined : await packUploads(uploadDir);
    await this.queue.add(ASYNC_QUEUE_NAME, { record: task.record, call, ...(uploads && { uploads }) }, { jobId: task.record.id, removeOnComplete: true, removeOnFail: true });
    await this.records.save([task.record], { ifAbsent: true });
    // The job holds the files now; the replica that claims it restores them.
    if (uploadDir !== undefined) await rm(uploadDir, { recursive: true, force: true });
    return true;
  }

  async claim(count: number, startTime: number, commit: string): Promise<QueuedTask[]> {
    const tasks: QueuedTask[] = [];
    while (tasks.length < count) {
      const token = randomUUID();
      const job = (await this.worker.getNextJob(token, { block: false })) as Job<TaskJobData> | undefined;
      if (job === undefined) break;
      let task: QueuedTask | undefined;
      try {
        task = await this.start({ job, token }, startTime, commit);
      } catch (error) {
        // The tasks already taken are handed out; this one is run again once its lock lapses.
        if (tasks.length === 0) throw error;
        this.logger.error({ err: error, taskId: job.id }, 'could not start a claimed async task');
        break;
      }
      if (task !== undefined) tasks.push(task);
    }
    return tasks;
  }

  /**
   * The final record first, then the job completed (and removed). A crash between the two
   * leaves the job active: its lock lapses, it runs again elsewhere and its new record
   * replaces this one (at least once).
   */
  async complete(record: TaskRecord): Promise<void> {
    await this.records.save([record]);
    const claimed = this.claimed.get(record.id);
    // Not ours any more (its lock lapsed, see renewLocks): the replica running it now ends it.
    if (claimed === undefined) return;
    this.claimed.delete(record.id);
    await claimed.job.moveToCompleted(null, claimed.token, false);
  }

  /**
   * Starts the stalled-job checker, which puts back the tasks of replicas that died, this one's
   * earlier run included, once their locks expired; the re-run counts its attempt then.
   * Nothing is requeued here: tasks other live replicas hold are theirs.
   */
  async recoverClaimed(maxAttempts: number): Promise<{ requeued: number; abandoned: number }> {
    this.maxAttempts = maxAttempts;
    await this.worker.startStalledCheckTimer();
    return { requeued: 0, abandoned: 0 };
  }

  /**
   * A waiting task is removed (BullMQ refuses to remove a job a worker has locked, so a task
   * claimed meanwhile stays claimed), then its record ends `cancelled`.
   */
  async cancel(taskId: string, endTime: number, reason: { exceptionType: string; exceptionText: string }): Promise<QueueCancel> {
    const claimedBy = (): QueueCancel => (this.claimed.has(taskId) ? 'claimed' : 'claimedElsewhere');
    const state = await this.queue.getJobState(taskId);
    if (state === 'unknown' || state === 'completed' || state === 'failed') return 'absent';
    if (state === 'active') return claimedBy();
    // 0: locked by a worker (claimed since the state was read) or gone.
    if ((await this.queue.remove(taskId)) === 0) return (await this.holds(taskId)) ? claimedBy() : 'absent';
    const record = await this.records.get(taskId);
    if (record !== undefined) await this.records.save([{ ...record, status: 'cancelled', endTime, ...reason }]);
    return 'cancelled';
  }

  async depth(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  async holds(taskId: string): Promise<boolean> {
    return HELD_STATES.has(await this.queue.getJobState(taskId));
  }

  /**
   * Stops claiming and renewing. Tasks still claimed here stay active in Redis: their locks
   * lapse and another replica (or this one restarted) runs them again, as after a crash.
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.renewer);
    await this.worker.close(true);
    await this.queue.close();
    await Promise.all([this.producerConnection.quit(), this.workerConnection.quit()]);
  }

  /** Marks a fetched job's record `running` (restoring its uploads), or gives it up after too many attempts. */
  private async start(claimed: Claimed, startTime: number, commit: string): Promise<QueuedTask | undefined> {
    const { job } = claimed;
    const { record: queued, call, uploads } = job.data;
    // Started once more than it ended: each earlier start was cut by a crash or kill.
    const attempt = job.attemptsStarted;
    if (attempt > this.maxAttempts) {
      await this.giveUp(claimed, queued, startTime);
      return undefined;
    }
    this.claimed.set(queued.id, claimed);
    try {
      const uploadDir = uploads === undefined ? undefined : path.join(this.uploadRoot, queued.id);
      if (uploads !== undefined) await unpackUploads(uploads, uploadDir!);
      const kwargs = uploads === undefined ? queued.kwargs : kwargsWithUploadsIn(queued.kwargs, uploads, uploadDir!);
      const record: TaskRecord = { ...queued, kwargs, status: 'running', attempt, startTime, commit };
      await this.records.save([record]);
      return { record, call: { ...call, ...(uploadDir !== undefined && { uploadDir }) } };
    } catch (error) {
      // Left unrenewed: its lock lapses and it is run again, one attempt more.
      this.claimed.delete(queued.id);
      throw error;
    }
  }

  /** The task's last start was cut too: it ends as a failure instead of running again (it may be what kills replicas). */
  private async giveUp({ job, token }: Claimed, queued: TaskRecord, now: number): Promise<void> {
    const attempts = this.maxAttempts;
    await this.records.save([
      {
        ...queued,
        status: 'failure',
        attempt: attempts,
        endTime: now,
        exceptionType: 'TooManyAttempts',
        exceptionText: `the server stopped during each of its ${attempts} attempts; not run again`,
      },
    ]);
    await job.moveToCompleted(null, token, false);
    this.logger.error({ taskId: queued.id, maxAttempts: attempts }, 'async task given up after repeated crashes');
  }

  /** Extends the locks of the tasks running here; a task whose lock was lost is another replica's now. */
  private async renewLocks(): Promise<void> {
    if (this.claimed.size === 0) return;
    const ids = [...this.claimed.keys()];
    try {
      const lost = await this.worker.extendJobLocks(ids, ids.map((id) => this.claimed.get(id)!.token), this.lockMs);
      for (const id of lost) {
        // Completed meanwhile (its lock went with it): nothing lost.
        if (!this.claimed.delete(id)) continue;
        this.logger.warn({ taskId: id }, 'lost the lock of a running async task: it may run again elsewhere');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'could not renew the locks of running async tasks');
    }
  }
}
