import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { BridgeServer, isBridgeHello } from './bridge/bridge-server.js';
import { type CallClient, type CallLane, CallDispatcher, type CallResult, type DispatcherStats } from './call-dispatcher.js';
import { armDeadlineAtStart } from './deadline.js';
import { blockCodeGenerationInNewContexts, WORKER_ISOLATION_OPTIONS } from './worker-isolation.js';
import type { SnapshotSource } from './snapshot/interpreter.cjs';
import { InterpreterStartLog, isInterpreterStart } from './snapshot/start-reports.js';
import type { BatchReport, WorkerHealthLimits } from './worker-health.cjs';
import { WorkerRegistry, type WorkerStatus } from './worker-registry.js';
// Default imports: named imports of a CommonJS module depend on the loader detecting them
// (tap's TypeScript loader on a fresh clone does not).
import taskState from './task-state.cjs';
import workerHealth from './worker-health.cjs';
import type {
  CallResultMessage,
  CallTask,
  InspectOutcome,
  InspectTask,
  RevisionRef,
  WarmTask,
} from './worker-protocol.cjs';

const { TASK_STATE_BYTES } = taskState;
const { isReplaceMe, isWorkerReady } = workerHealth;

export type { CallClient, CallLane, CallResult, DispatcherStats, WorkerStatus };

/** Settings of the worker pool. */
export interface WorkerPoolOptions {
  workers: number;
  /** How long an interrupted call may take to stop before its worker is terminated. */
  timeoutGraceMs: number;
  /** Calls waiting for a worker beyond this are refused (503) instead of piling up. */
  maxQueue: number;
  /** The interpreter snapshot workers start from (see snapshot/); undefined: a normal load. */
  snapshot?: SnapshotSource;
  /** A worker is recycled after this many calls (0: never). */
  workerMaxCalls?: number;
  /** A worker is recycled once its WASM heap passes this many MiB (0: never). */
  workerHeapMB?: number;
}

const WORKER_FILE = new URL('./worker-entry.cjs', import.meta.url);
const WARM_DEADLINE_MS = 120_000;

function isCallResult(message: unknown): message is CallResultMessage {
  return typeof message === 'object' && message !== null && 'callId' in message && 'outcome' in message;
}

/**
 * Every worker but one takes background work, so a sync call always finds a free worker.
 * A single-worker pool cannot keep that promise: its one worker runs both.
 */
function backgroundSlotsFor(workers: number): number {
  return Math.max(1, workers - 1);
}

/** A fixed-size pool of Pyodide workers (Piscina); the one place that knows about threads. */
export class WorkerPool {
  private readonly piscina: Piscina;
  private readonly dispatcher: CallDispatcher;
  private closing = false;
  /** Background calls (async tasks, cron runs) that may run at once. */
  readonly backgroundSlots: number;
  /** Operations scripts may ask of the server thread (DFF.CACHE); register them here. */
  readonly bridge: BridgeServer;
  private readonly registry = new WorkerRegistry();
  private readonly onBatchReport = (report: unknown): void => {
    const batch = report as BatchReport;
    this.registry.onBatch(batch);
    if (batch.retiring) this.terminateThread(batch.threadId);
  };

  constructor(
    private readonly options: WorkerPoolOptions,
    private readonly logger: Logger,
  ) {
    this.backgroundSlots = backgroundSlotsFor(options.workers);
    this.bridge = new BridgeServer(logger);
    const health: WorkerHealthLimits = {
      maxCalls: options.workerMaxCalls ?? 0,
      maxHeapBytes: (options.workerHeapMB ?? 0) * 1024 * 1024,
      retireToken: this.registry.retireToken,
    };
    blockCodeGenerationInNewContexts();
    this.piscina = new Piscina({
      ...WORKER_ISOLATION_OPTIONS,
      filename: WORKER_FILE.href,
      minThreads: options.workers,
      maxThreads: options.workers,
      // A dropped worker costs seconds to reload Pyodide: never drop idle ones.
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      workerData: { snapshot: options.snapshot, health },
    });
    const starts = new InterpreterStartLog(logger);
    this.dispatcher = new CallDispatcher(
      {
        slots: options.workers,
        backgroundSlots: this.backgroundSlots,
        timeoutGraceMs: options.timeoutGraceMs,
        maxQueue: options.maxQueue,
      },
      { runBatch: (calls) => this.piscina.run({ type: 'calls', calls }).then(this.onBatchReport), terminateThread: (id) => this.terminateThread(id) },
      logger,
    );
    // Each call's result is posted on its own as soon as it ends (see CallDispatcher).
    this.piscina.on('message', (message: unknown) => {
      if (isCallResult(message)) this.dispatcher.onResult(message.callId, message.outcome);
      else if (isBridgeHello(message)) this.bridge.attach(message);
      else if (isInterpreterStart(message)) starts.report(message);
      else if (isWorkerReady(message)) this.registry.onReady(message);
      else if (isReplaceMe(message)) {
        this.logger.warn({ threadId: message.replaceMe }, 'worker interpreter failed: replacing the worker');
        this.terminateThread(message.replaceMe);
      }
    });
    this.piscina.on('workerCreate', (worker: { id: number }) => this.registry.onCreate(worker.id));
    this.piscina.on('error', (error: unknown) => this.logger.error({ err: error }, 'worker pool error'));
    // The reason was logged just before (timeout, dead interpreter); this line marks the exit.
    // A thread that has exited reports id -1, so the registry keeps only the threads still alive.
    this.piscina.on('workerDestroy', () => {
      const alive = new Set(this.piscina.threads.map((thread) => thread.threadId));
      for (const gone of this.registry.removeAllBut(alive)) {
        if (this.closing) continue;
        if (gone.retiring) this.logger.info({ threadId: gone.threadId, calls: gone.calls, heapMB: gone.heapMB }, 'worker recycled: its replacement is starting');
        else this.logger.warn({ threadId: gone.threadId }, 'worker exited');
      }
    });
  }

  /** Runs one function call; never rejects (see CallDispatcher.call). */
  call(task: Omit<CallTask, 'callId' | 'interrupt' | 'interruptOffset'>, timeoutMs: number, lane: CallLane = 'sync', client?: CallClient): Promise<CallResult> {
    return this.dispatcher.call(task, timeoutMs, lane, client);
  }


  get workers(): number {
    return this.options.workers;
  }

  stats(): DispatcherStats {
    return this.dispatcher.stats();
  }

  /** Each worker thread: ready, calls served, WASM heap size. */
  workerStatus(): { recycled: number; threads: WorkerStatus[] } {
    return { recycled: this.registry.recycled, threads: this.registry.list() };
  }

  private terminateThread(threadId: number): void {
    const worker = this.piscina.threads.find((thread) => thread.threadId === threadId);
    if (worker !== undefined) void worker.terminate();
  }

  /**
   * Imports every script of a revision on one worker and reports its functions and import
   * errors. An import running past `deadlineMs` (counted from when it starts, not from when a
   * still-loading worker picks it up) is interrupted and reported at the line it was stopped
   * at; one that ignores the interrupt (sleeping in C) has its worker terminated.
   */
  async inspect(revision: RevisionRef, live: string[], deadlineMs: number): Promise<InspectOutcome> {
    const interrupt = new SharedArrayBuffer(TASK_STATE_BYTES);
    let stuck = false;
    const disarm = armDeadlineAtStart(new Int32Array(interrupt), deadlineMs, this.options.timeoutGraceMs, {
      onExpired: () => undefined,
      onStuck: (threadId) => {
        stuck = true;
        this.logger.warn({ commit: revision.id, threadId }, 'import check ignored its interrupt: terminating its worker');
        this.terminateThread(threadId);
      },
    });
    try {
      return (await this.piscina.run({ type: 'inspect', revision, live, interrupt, interruptOffset: 0 } satisfies InspectTask)) as InspectOutcome;
    } catch (error) {
      if (!stuck) throw error;
      const message = `importing the scripts did not finish within ${deadlineMs / 1000} s and did not stop when interrupted (time.sleep or other C code at module level?)`;
      return { catalog: [], undecorated: [], scriptIds: [], problems: [{ file: '*.py', line: 1, col: 1, message }], interrupted: true };
    } finally {
      disarm();
    }
  }

  /**
   * Loads a revision into every worker, one warm task each. With `everyWorker` false (a reload,
   * while calls are served) no worker waits for the others: a free worker takes a task at once,
   * and a worker busy with a long call loads the revision on its first call instead.
   */
  async warm(revision: RevisionRef, live: string[], everyWorker = true): Promise<void> {
    const barrier = new SharedArrayBuffer(4);
    const deadlineMs = Date.now() + WARM_DEADLINE_MS;
    const workers = everyWorker ? this.options.workers : 1;
    const task: WarmTask = { type: 'warm', revision, live, barrier, workers, deadlineMs };
    await Promise.all(Array.from({ length: this.options.workers }, () => this.piscina.run(task)));
  }

  /** Ends every call still queued or running (answered as crashed), then stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    this.dispatcher.close();
    await this.piscina.destroy();
  }
}
