import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { ImportCheckError, WorkerError } from '../errors.js';
import { BridgeServer, isBridgeHello } from './bridge/bridge-server.js';
import type { CallResult } from '../model/call-result.js';
import { type CallClient, type CallLane, CallDispatcher, type DispatcherStats } from './call-dispatcher.js';
import { armDeadlineAtStart } from './deadline.js';
import { blockCodeGenerationInNewContexts, WORKER_ISOLATION_OPTIONS } from './worker-isolation.js';
import type { SnapshotSource } from './snapshot/interpreter.cjs';
import startTurns from './snapshot/start-turns.cjs';
import type { StartTurn } from './snapshot/start-turns.cjs';
import type { CaBundleFile } from './worker-protocol.cjs';
import { InterpreterStartLog, isInterpreterStart } from './snapshot/start-reports.js';
import type { BatchReport, WorkerHealthLimits } from './worker-health.cjs';
import { WorkerRegistry, type WorkerStatus } from './worker-registry.js';
import { WorkerSlot } from './worker-slot.js';
// Default imports: named imports of a CommonJS module depend on the loader detecting them
// (tap's TypeScript loader on a fresh clone does not).
import taskState from './task-state.cjs';
import workerHealth from './worker-health.cjs';
import workerProtocol from './worker-protocol.cjs';
import type { CallRequest, CallResultMessage, InspectOutcome, InspectTask, WarmTask, WorkerTask } from './worker-protocol.cjs';
import type { RevisionRef } from '../model/revision-ref.js';

const { TASK_STATE_BYTES } = taskState;
const { isReplaceMe, isWorkerReady } = workerHealth;

export type { CallClient, CallLane, DispatcherStats, WorkerStatus };

/**
 * Why a worker thread was replaced: its call ignored the deadline's interrupt (`timeout`), an
 * import check did (`importStuck`), its interpreter failed (`interpreter`), it passed its call
 * or heap limit (`recycle`), or it exited on its own (`crash`).
 */
export type WorkerRestartReason = 'timeout' | 'importStuck' | 'interpreter' | 'recycle' | 'crash';

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
  /** The CA certificates scripts' TLS trusts by default, and where workers put them (see ca-bundle.ts). */
  caBundle?: CaBundleFile;
  /** Another pool's bridge, whose ops this pool's scripts get too; by default a bridge of its own. */
  bridge?: BridgeServer;
}

const WORKER_FILE = new URL('./worker-entry.cjs', import.meta.url);
/** After a replacement failed to start, the worker it was for goes on serving this long before another try. */
const RECYCLE_RETRY_MS = 30_000;

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

/**
 * A fixed-size pool of Pyodide workers, one WorkerSlot each; the one place that knows about
 * threads. A worker past its call or heap limit is recycled one at a time, its replacement
 * started and warmed first, so the pool never serves with fewer than `workers` workers.
 */
export class WorkerPool {
  /** The serving workers, `workers` of them. */
  private readonly slots: WorkerSlot[] = [];
  /** A replacement still starting, or a recycled worker finishing its last batch. */
  private readonly extra = new Set<WorkerSlot>();
  private readonly dispatcher: CallDispatcher;
  private closing = false;
  /** A recycle is under way: the next waits for it. */
  private recycling = false;
  private noRecycleBefore = 0;
  /** The revisions the last warm-up loaded: a replacement loads them before it serves. */
  private lastWarm: WarmTask | undefined;
  /** The first workers' start turns, open until the first revision is loaded (see constructor). */
  private startGate: SharedArrayBuffer | undefined;
  /** Tasks waiting for a started, idle worker (see `run`). */
  private readonly waiting: { task: WorkerTask; resolve(value: unknown): void; reject(error: unknown): void }[] = [];
  /** Background calls (async tasks, cron runs) that may run at once. */
  readonly backgroundSlots: number;
  /** Operations scripts may ask of the server thread (DFF.CACHE, the network); register them here. */
  readonly bridge: BridgeServer;

  /** What the pool's workers trust for TLS (given to a pool sharing this one's bridge). */
  get caBundle(): CaBundleFile | undefined {
    return this.options.caBundle;
  }
  private readonly registry = new WorkerRegistry();
  /** Threads the pool is terminating, with why; a thread that exits unasked crashed. */
  private readonly terminating = new Map<number, WorkerRestartReason>();
  private restartListener: (reason: WorkerRestartReason) => void = () => undefined;
  private readonly starts: InterpreterStartLog;
  private readonly onBatchReport = (report: unknown): void => {
    const batch = report as BatchReport;
    this.registry.onBatch(batch);
    if (batch.overLimit) this.recycle(batch.threadId);
  };

  constructor(
    private readonly options: WorkerPoolOptions,
    private readonly logger: Logger,
  ) {
    this.backgroundSlots = backgroundSlotsFor(options.workers);
    this.bridge = options.bridge ?? new BridgeServer(logger);
    this.starts = new InterpreterStartLog(logger);
    blockCodeGenerationInNewContexts();
    // Until the first revision is loaded, the first workers start their interpreters a core's
    // worth at a time (start-turns.cts); a replacement starts at once.
    const gate = options.workers > 1 ? startTurns.openStartTurns(availableParallelism() - 1) : undefined;
    this.startGate = gate;
    for (let i = 0; i < options.workers; i++) this.slots.push(this.newSlot(gate === undefined ? undefined : { gate, turn: i }));
    this.dispatcher = new CallDispatcher(
      {
        slots: options.workers,
        backgroundSlots: this.backgroundSlots,
        timeoutGraceMs: options.timeoutGraceMs,
        maxQueue: options.maxQueue,
      },
      { runBatch: (calls, waitInPlace) => this.run({ type: 'calls', calls, waitInPlace }).then(this.onBatchReport), terminateThread: (id) => this.terminateThread(id, 'timeout') },
      logger,
    );
  }

  private newSlot(startTurn?: StartTurn): WorkerSlot {
    const health: WorkerHealthLimits = {
      maxCalls: this.options.workerMaxCalls ?? 0,
      maxHeapBytes: (this.options.workerHeapMB ?? 0) * 1024 * 1024,
    };
    return new WorkerSlot(
      { ...WORKER_ISOLATION_OPTIONS, filename: WORKER_FILE.href, workerData: { snapshot: this.options.snapshot, health, caBundle: this.options.caBundle, startTurn } },
      {
        onMessage: this.onWorkerMessage,
        onStarted: () => this.serveWaiting(),
        onCreate: (threadId) => this.registry.onCreate(threadId),
        onDestroy: this.onWorkerDestroy,
        onError: (error) => this.logger.error({ err: error }, 'worker pool error'),
      },
    );
  }

  // Each call's result is posted on its own as soon as it ends (see CallDispatcher), on the
  // worker's call channel; the rest comes on its parentPort (see WorkerSlot).
  private readonly onWorkerMessage = (message: unknown): void => {
    if (isCallResult(message)) this.dispatcher.onResult(message.callId, message.outcome);
    else if (isBridgeHello(message)) this.bridge.attach(message);
    else if (isInterpreterStart(message)) this.starts.report(message);
    else if (isWorkerReady(message)) this.registry.onReady(message);
    else if (isReplaceMe(message)) {
      this.logger.warn({ threadId: message.replaceMe }, 'worker interpreter failed: replacing the worker');
      this.terminateThread(message.replaceMe, 'interpreter');
    }
  };

  // The reason was logged just before (timeout, dead interpreter, recycle); this marks the exit.
  private readonly onWorkerDestroy = (): void => {
    const alive = new Set<number>();
    for (const slot of [...this.slots, ...this.extra]) if (slot.threadId !== undefined) alive.add(slot.threadId);
    for (const gone of this.registry.removeAllBut(alive)) {
      const reason = this.terminating.get(gone.threadId) ?? 'crash';
      this.terminating.delete(gone.threadId);
      if (this.closing || gone.retiring) continue;
      this.logger.warn({ threadId: gone.threadId }, 'worker exited');
      this.restartListener(reason);
    }
  };

  /**
   * Runs `task` on a serving worker that is started and idle: at once when there is one, else
   * on the first to become so. A worker still loading its interpreter (after a crash or a
   * timeout kill) gets no task while another is about to be free.
   */
  private run(task: WorkerTask): Promise<unknown> {
    const slot = this.freeSlot();
    if (slot !== undefined) return this.runOn(slot, task);
    return new Promise((resolve, reject) => this.waiting.push({ task, resolve, reject }));
  }

  private runOn(slot: WorkerSlot, task: WorkerTask): Promise<unknown> {
    return slot.run(task).finally(() => this.serveWaiting());
  }

  private serveWaiting(): void {
    for (let slot = this.freeSlot(); slot !== undefined && this.waiting.length > 0; slot = this.freeSlot()) {
      const next = this.waiting.shift()!;
      this.runOn(slot, next.task).then(next.resolve, next.reject);
    }
  }

  private freeSlot(): WorkerSlot | undefined {
    return this.slots.find((slot) => slot.free);
  }

  /**
   * Replaces the worker `threadId`: a new worker starts and loads the served revisions while
   * the old one goes on serving; then the new one takes its place and the old one ends once
   * its batch in flight is answered. One recycle at a time.
   */
  private recycle(threadId: number): void {
    if (this.recycling || this.closing || this.lastWarm === undefined || Date.now() < this.noRecycleBefore) return;
    const old = this.slots.find((slot) => slot.threadId === threadId);
    if (old === undefined) return;
    this.recycling = true;
    const replacement = this.newSlot();
    this.extra.add(replacement);
    void replacement
      .run(this.lastWarm)
      .then(
        () => this.swapIn(old, replacement),
        (error: unknown) => {
          this.logger.warn({ err: error, threadId }, 'the replacement of a worker past its limits failed to start: the worker goes on serving');
          this.noRecycleBefore = Date.now() + RECYCLE_RETRY_MS;
          this.extra.delete(replacement);
          return replacement.destroy();
        },
      )
      .finally(() => (this.recycling = false));
  }

  private async swapIn(old: WorkerSlot, replacement: WorkerSlot): Promise<void> {
    this.extra.delete(replacement);
    const index = this.slots.indexOf(old);
    if (this.closing || index < 0) {
      await replacement.destroy();
      return;
    }
    this.slots[index] = replacement;
    this.extra.add(old);
    this.serveWaiting();
    const retired = old.threadId === undefined ? undefined : this.registry.markRetiring(old.threadId);
    this.logger.info({ threadId: retired?.threadId, calls: retired?.calls, heapMB: retired?.heapMB }, 'worker recycled: its replacement is serving');
    this.restartListener('recycle');
    await old.drained();
    this.extra.delete(old);
    await old.destroy();
  }

  /** Runs one function call; never rejects (see CallDispatcher.call). */
  call(task: CallRequest, timeoutMs: number, lane: CallLane = 'sync', client?: CallClient): Promise<CallResult> {
    return this.dispatcher.call(task, timeoutMs, lane, client);
  }

  /** Stops the background call of `taskId` like a deadline (see CallDispatcher.cancel); false when there is none. */
  cancel(taskId: string): boolean {
    return this.dispatcher.cancel(taskId);
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

  /**
   * The worker threads by state, as `gitfunc_workers` counts them: `starting` (interpreter
   * loading), `busy` and `idle` (serving), `retiring` (recycled, ending once its batch is answered).
   */
  workersByState(): Record<'starting' | 'busy' | 'idle' | 'retiring', number> {
    const threads = this.registry.list();
    const retiring = threads.filter((thread) => thread.retiring).length;
    const serving = threads.filter((thread) => thread.ready && !thread.retiring).length;
    const busy = Math.min(this.dispatcher.stats().busyWorkers, serving);
    return { starting: threads.length - serving - retiring, busy, idle: serving - busy, retiring };
  }

  /** Tells `listener` each time a worker thread is replaced, and why (one listener: the server's metrics). */
  onRestart(listener: (reason: WorkerRestartReason) => void): void {
    this.restartListener = listener;
  }

  /** Ends a worker thread as a crash would; its slot starts a new one. */
  terminateThread(threadId: number, reason: WorkerRestartReason = 'crash'): void {
    this.terminating.set(threadId, reason);
    for (const slot of [...this.slots, ...this.extra]) if (slot.threadId === threadId) slot.terminateThread();
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
        this.terminateThread(threadId, 'importStuck');
      },
    });
    try {
      return (await this.run({ type: 'inspect', revision, live, interrupt, interruptOffset: 0 } satisfies InspectTask)) as InspectOutcome;
    } catch (error) {
      if (!stuck) throw error;
      const cut = new ImportCheckError(
        'IMPORT_CHECK_STUCK',
        `importing the scripts did not finish within ${deadlineMs / 1000} s and did not stop when interrupted (time.sleep or other C code at module level?)`,
        { deadlineMs },
      );
      return workerProtocol.importCheckCut(cut.toJSON());
    } finally {
      disarm();
    }
  }

  /**
   * Loads a revision into the workers. With `everyWorker` (the first load) into each of them,
   * resolving once one has it: serving starts then, and calls go to free workers, so none waits
   * for the others to finish. Otherwise (a reload, while calls are served) into those free now,
   * or the first to be free when none is: a worker busy with a call loads the revision on its
   * next call instead.
   */
  async warm(revision: RevisionRef, live: string[], everyWorker = true): Promise<void> {
    const task: WarmTask = { type: 'warm', revision, live };
    this.lastWarm = task;
    if (everyWorker) {
      const loads = this.slots.map((slot) => this.runOn(slot, task));
      try {
        await Promise.any(loads);
      } catch (error) {
        throw (error as AggregateError).errors[0];
      } finally {
        // Served from now on: workers still to start no longer wait for each other.
        if (this.startGate !== undefined) startTurns.openAllTurns(this.startGate);
        this.startGate = undefined;
      }
      for (const load of loads) {
        load.catch((error: unknown) => this.logger.warn({ err: error, commit: revision.id }, 'a worker failed to load the revision: it loads it on its next call'));
      }
      return;
    }
    const free = this.slots.filter((slot) => slot.free);
    await (free.length > 0 ? Promise.all(free.map((slot) => this.runOn(slot, task))) : this.run(task));
  }

  /** Ends every call still queued or running (answered as crashed), then stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    this.dispatcher.close();
    for (const waiting of this.waiting.splice(0)) waiting.reject(new WorkerError('WORKER_POOL_CLOSED', 'the worker pool is closing'));
    await Promise.all([...this.slots, ...this.extra].map((slot) => slot.destroy()));
  }
}
