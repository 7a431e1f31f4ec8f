import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type {
  CallOutcome,
  CallTask,
  InspectOutcome,
  RevisionRef,
  WarmTask,
} from './worker-protocol.cjs';

/** Settings of the worker pool. */
export interface WorkerPoolOptions {
  workers: number;
  /** How long an interrupted call may take to stop before its worker is terminated. */
  timeoutGraceMs: number;
  /** Calls waiting for a worker beyond this are refused (503) instead of piling up. */
  maxQueue: number;
}

/** What a call ended as, from the caller's side. */
export type CallResult =
  | CallOutcome
  | { kind: 'timeout' }
  | { kind: 'busy' }
  | { kind: 'crashed'; message: string };

const WORKER_FILE = new URL('./worker-entry.cjs', import.meta.url);
const SIGINT = 2;
/** Per-call shared state: [interrupt flag (Pyodide's interrupt buffer), thread id running it]. */
const CALL_STATE_BYTES = 8;
const INTERRUPT_SLOT = 0;
const THREAD_SLOT = 1;
const NOT_STARTED = 0;
/**
 * Calls handed to one worker at a time. Above 1, a worker finds its next call already posted
 * and the two threads wake each other far less (half the main-thread cost per call); the price
 * is that a call may wait behind a slow one on the same worker instead of going to the next
 * free worker.
 */
const CALLS_PER_WORKER = 2;

function isWorkerExit(error: unknown): boolean {
  return error instanceof Error && /worker exited/i.test(error.message);
}
const WARM_DEADLINE_MS = 120_000;

/** A fixed-size pool of Pyodide workers (Piscina); the one place that knows about threads. */
export class WorkerPool {
  private readonly piscina: Piscina;
  private closing = false;

  constructor(
    private readonly options: WorkerPoolOptions,
    private readonly logger: Logger,
  ) {
    this.piscina = new Piscina({
      filename: WORKER_FILE.href,
      minThreads: options.workers,
      maxThreads: options.workers,
      // A dropped worker costs seconds to reload Pyodide: never drop idle ones.
      idleTimeout: Infinity,
      maxQueue: options.maxQueue,
      concurrentTasksPerWorker: CALLS_PER_WORKER,
    });
    this.piscina.on('error', (error: unknown) => this.logger.error({ err: error }, 'worker pool error'));
    // The reason was logged just before (timeout, dead interpreter); this line marks the exit.
    this.piscina.on('workerDestroy', (worker: { id: number }) => {
      if (!this.closing) this.logger.warn({ threadId: worker.id }, 'worker exited');
    });
  }

  get size(): number {
    return this.options.workers;
  }

  /**
   * Runs one function call; never rejects. At `timeoutMs` Python is interrupted; a call that
   * ignores the interrupt has its worker terminated after the grace period.
   */
  async call(task: Omit<CallTask, 'type' | 'interrupt'>, timeoutMs: number): Promise<CallResult> {
    const interrupt = new SharedArrayBuffer(CALL_STATE_BYTES);
    const state = new Int32Array(interrupt);
    let timedOut = false;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const deadline = new Promise<CallResult>((resolve) => {
      deadlineTimer = setTimeout(() => {
        timedOut = true;
        Atomics.store(state, INTERRUPT_SLOT, SIGINT);
        graceTimer = setTimeout(() => this.terminateRunner(state, task.funcId), this.options.timeoutGraceMs);
        resolve({ kind: 'timeout' });
      }, timeoutMs);
    });
    const settled = this.runCall({ ...task, type: 'call', interrupt }, state, () => timedOut);
    void settled.finally(() => clearTimeout(graceTimer));
    try {
      return await Promise.race([settled, deadline]);
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  private async runCall(task: CallTask, state: Int32Array, timedOut: () => boolean): Promise<CallResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.piscina.run(task)) as CallOutcome;
      } catch (error) {
        // A worker terminated for another call's timeout takes the calls queued on it along;
        // one that had not started yet is run again elsewhere.
        const started = Atomics.load(state, THREAD_SLOT) !== NOT_STARTED;
        if (!started && !timedOut() && attempt === 1 && isWorkerExit(error)) continue;
        return this.failure(error as Error, task.funcId);
      }
    }
  }

  /** Terminates the worker still running a call past its grace period; Piscina replaces it. */
  private terminateRunner(state: Int32Array, funcId: string): void {
    const threadId = Atomics.load(state, THREAD_SLOT);
    if (threadId === NOT_STARTED) return; // never started: the worker will skip it
    const worker = this.piscina.threads.find((thread) => thread.threadId === threadId);
    if (worker === undefined) return;
    this.logger.warn({ funcId, threadId }, 'call ignored its interrupt: terminating its worker');
    void worker.terminate();
  }

  private failure(error: Error, funcId: string): CallResult {
    if (/queue is at limit/i.test(error.message)) return { kind: 'busy' };
    this.logger.error({ err: error, funcId }, 'worker failed during a call');
    return { kind: 'crashed', message: error.message };
  }

  /** Imports every script of a revision on one worker and reports its functions and import errors. */
  async inspect(revision: RevisionRef, live: string[]): Promise<InspectOutcome> {
    return (await this.piscina.run({ type: 'inspect', revision, live })) as InspectOutcome;
  }

  /** Loads a revision into every worker, one warm task each. */
  async warm(revision: RevisionRef, live: string[]): Promise<void> {
    const barrier = new SharedArrayBuffer(4);
    const deadlineMs = Date.now() + WARM_DEADLINE_MS;
    const task: WarmTask = { type: 'warm', revision, live, barrier, workers: this.options.workers, deadlineMs };
    await Promise.all(Array.from({ length: this.options.workers }, () => this.piscina.run(task)));
  }

  /** Pending calls waiting for a free worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.piscina.destroy();
  }
}
