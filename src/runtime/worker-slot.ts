import { Piscina } from 'piscina';
import { GitfuncError, isErrorJSON, WorkerError } from '../errors.js';
// Default import: named imports of a CommonJS module depend on the loader detecting them.
import workerHealth from './worker-health.cjs';
import type { WorkerTask } from './worker-protocol.cjs';

const { isWorkerStarted } = workerHealth;

/** What a slot's thread reports to the pool. */
export interface WorkerSlotEvents {
  /** A message the worker posted on its parentPort (call results, bridge hello, readiness). */
  onMessage(message: unknown): void;
  /** The thread is past its interpreter start: `started` turned true. */
  onStarted(): void;
  onCreate(threadId: number): void;
  /** A thread ended (crash, terminate, or the slot destroyed). */
  onDestroy(): void;
  onError(error: unknown): void;
}

/**
 * One Pyodide worker thread, as a Piscina pool of exactly one thread. The pool picks the
 * worker of every task itself, so it can start a replacement before it retires a worker
 * (a shared Piscina pool cannot go past its maxThreads, nor be told which worker runs a task).
 * Piscina still restarts the thread when it dies.
 */
export class WorkerSlot {
  private readonly piscina: Piscina;
  /** Tasks sent and not settled yet. */
  private inFlight = 0;
  private whenIdle: (() => void) | undefined;
  /** Its thread is past its interpreter start (false from its exit until a new thread is). */
  private isStarted = false;

  constructor(options: ConstructorParameters<typeof Piscina>[0], events: WorkerSlotEvents) {
    this.piscina = new Piscina({
      ...options,
      minThreads: 1,
      maxThreads: 1,
      // A dropped worker costs seconds to reload Pyodide: never drop an idle one.
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
    this.piscina.on('message', (message: unknown) => {
      events.onMessage(message);
      if (!isWorkerStarted(message)) return;
      this.isStarted = true;
      events.onStarted();
    });
    this.piscina.on('workerCreate', (worker: { id: number }) => events.onCreate(worker.id));
    // Not on workerCreate: Piscina emits that for a restarted thread once it is ready, which may
    // come after the thread's own started message (they travel on different ports).
    this.piscina.on('workerDestroy', () => {
      this.isStarted = false;
      events.onDestroy();
    });
    this.piscina.on('error', events.onError);
  }

  /** The thread's id; undefined while none runs (between a crash and its restart). */
  get threadId(): number | undefined {
    const thread = this.piscina.threads[0];
    // A thread that has exited reports -1.
    return thread === undefined || thread.threadId < 0 ? undefined : thread.threadId;
  }

  /** Started and idle: a task sent now runs at once. */
  get free(): boolean {
    return this.isStarted && this.inFlight === 0;
  }

  /** Runs `task` on the thread; rejects with a GitfuncError (see taskError). */
  run(task: WorkerTask): Promise<unknown> {
    this.inFlight++;
    return this.piscina.run(task).then(
      (result: unknown) => {
        this.settled();
        return result;
      },
      (error: unknown) => {
        this.settled();
        throw taskError(error);
      },
    );
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.whenIdle?.();
  }

  /** Resolves once no task is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.whenIdle = resolve));
  }

  /** Ends the thread as a crash would: Piscina starts a new one. */
  terminateThread(): void {
    void this.piscina.threads[0]?.terminate();
  }

  destroy(): Promise<void> {
    return this.piscina.destroy();
  }
}

/**
 * The typed error of a failed task: the worker throws its error's JSON (see worker.cts), revived
 * here as the same class; Piscina's own errors (the thread exited or was terminated) are the
 * worker failing.
 */
function taskError(error: unknown): GitfuncError {
  if (isErrorJSON(error)) return GitfuncError.fromJSON(error);
  return new WorkerError('WORKER_FAILED', error instanceof Error ? error.message : String(error));
}
