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
const WARM_DEADLINE_MS = 120_000;

/** A fixed-size pool of Pyodide workers (Piscina); the one place that knows about threads. */
export class WorkerPool {
  private readonly piscina: Piscina;

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
      concurrentTasksPerWorker: 1,
    });
    this.piscina.on('error', (error: unknown) => this.logger.error({ err: error }, 'worker pool error'));
  }

  get size(): number {
    return this.options.workers;
  }

  /** Runs one function call; never rejects. At `timeoutMs` Python is interrupted, and its worker terminated if it does not stop. */
  async call(task: Omit<CallTask, 'type' | 'interrupt'>, timeoutMs: number): Promise<CallResult> {
    const interrupt = new SharedArrayBuffer(4);
    const abort = new AbortController();
    let deadlineTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const running = this.piscina.run({ ...task, type: 'call', interrupt } satisfies CallTask, { signal: abort.signal });
    const settled = running.then(
      (outcome: CallOutcome): CallResult => outcome,
      (error: Error): CallResult => this.failure(error, task.funcId),
    );
    void settled.finally(() => clearTimeout(graceTimer));

    const deadline = new Promise<CallResult>((resolve) => {
      deadlineTimer = setTimeout(() => {
        Atomics.store(new Int32Array(interrupt), 0, SIGINT);
        graceTimer = setTimeout(() => {
          this.logger.warn({ funcId: task.funcId }, 'call ignored its interrupt: terminating its worker');
          abort.abort();
        }, this.options.timeoutGraceMs);
        resolve({ kind: 'timeout' });
      }, timeoutMs);
    });

    try {
      return await Promise.race([settled, deadline]);
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  private failure(error: Error, funcId: string): CallResult {
    if (error.name === 'AbortError') return { kind: 'timeout' };
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
    await this.piscina.destroy();
  }
}
