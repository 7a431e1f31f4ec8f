import type { Logger } from 'pino';
import { type FunctionRaisedError, GitfuncError, WorkerError } from '../errors.js';
import { armDeadline, armDeadlineAtStart } from './deadline.js';
// Default import: named imports of a CommonJS module depend on the loader detecting them.
import taskState from './task-state.cjs';
import { TaskStateSlab, type TaskStateSlot } from './task-state-slab.js';
import type { CallOutcome, CallResult, TimedOut } from '../model/call-result.js';
import type { CallRequest, CallTask } from './worker-protocol.cjs';

const { NOT_STARTED, THREAD_SLOT } = taskState;

/** Who waits for a sync call: its socket, `destroyed` once the client hung up. */
export interface CallClient {
  readonly destroyed: boolean;
}

/** What the dispatcher needs from the thread pool. */
export interface BatchRunner {
  /**
   * Runs calls in order on one worker; each result arrives through `onResult`. With
   * `waitInPlace` the worker and the server thread poll for a while instead of parking (see QUIET_MS).
   */
  runBatch(calls: CallTask[], waitInPlace: boolean): Promise<unknown>;
  /** Ends a worker thread (it gets replaced). */
  terminateThread(threadId: number): void;
}

export interface CallDispatcherOptions {
  /** Batches in flight at once: one per worker, so a queued call goes to the next free worker. */
  slots: number;
  /** Background calls (async tasks, cron runs) in flight at most: fewer than `slots`, so a sync call always finds a worker. */
  backgroundSlots: number;
  timeoutGraceMs: number;
  /** Calls waiting for a slot beyond this are refused (`busy`). */
  maxQueue: number;
}

const SHUT_DOWN: CallResult = { kind: 'crashed', error: new WorkerError('WORKER_POOL_CLOSED', 'the server is shutting down') };
const ABANDONED: CallResult = { kind: 'abandoned' };

function abandoned(pending: PendingCall): boolean {
  return pending.client?.destroyed === true;
}

/**
 * A sync call is run "waiting in place" when no other call was in flight for this long: the
 * server thread polls for its result, and its worker for the next batch, for a fraction of a
 * millisecond instead of parking in their event loops. A lone client's calls then skip two
 * thread wake-ups each, which on a VM cost tens of µs (docs/performance.md, "Waiting in place
 * when quiet"). Under load the polling would take the CPU the other calls need, so a server that
 * had two calls at once within this window never does it.
 */
const QUIET_MS = 50;

/** Most calls one batch takes; small enough that a slow call holds few others behind it. */
const MAX_BATCH = 16;

/**
 * `sync`: a caller is waiting; batched, first served. `background`: async tasks and cron
 * runs, one per batch, only on the workers sync calls leave over.
 */
export type CallLane = 'sync' | 'background';

/** Calls queued and running, by lane. */
export interface DispatcherStats {
  busyWorkers: number;
  queuedSync: number;
  queuedBackground: number;
  runningBackground: number;
}

interface PendingCall {
  task: CallTask;
  lane: CallLane;
  /** Undefined for background calls: nobody waits on a connection for them. */
  client: CallClient | undefined;
  slot: TaskStateSlot;
  state: Int32Array;
  answer: (result: CallResult) => void;
  answered: boolean;
  /** The worker reported it, or it was given up. */
  finished: boolean;
  requeued: boolean;
  disarm?: () => void;
  /** Settles the `ended` promise of a timed-out call. */
  settle?: (outcome: CallOutcome | undefined) => void;
}

/**
 * Queues calls and hands them to workers in batches. One call per Piscina task cost a thread
 * wake-up each way and Piscina's per-task bookkeeping, more than the Python call itself;
 * a batch takes whatever queued while the workers were busy, so under load that cost is
 * shared, and with a single waiting call a batch is just that call. Results come back one
 * by one as each call ends, so a fast call never waits for a slow one's batch to finish.
 */
export class CallDispatcher {
  private readonly queue: PendingCall[] = [];
  private readonly background: PendingCall[] = [];
  private readonly calls = new Map<number, PendingCall>();
  private readonly states = new TaskStateSlab();
  private running = 0;
  private runningBackground = 0;
  private closed = false;
  private lastCallId = 0;
  /** When a call last came while another was in flight (performance.now()); see QUIET_MS. */
  private lastBusyAt = -Infinity;

  constructor(
    private readonly options: CallDispatcherOptions,
    private readonly runner: BatchRunner,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs one function call; never rejects. At `timeoutMs` Python is interrupted; a call that
   * ignores the interrupt has its worker terminated after the grace period.
   */
  call(
    task: CallRequest,
    timeoutMs: number,
    lane: CallLane = 'sync',
    client?: CallClient,
  ): Promise<CallResult> {
    if (this.closed) return Promise.resolve(SHUT_DOWN);
    // Background producers admit work by `backgroundSlots` themselves; only sync calls pile up.
    if (lane === 'sync' && this.queue.length >= this.options.maxQueue) return Promise.resolve({ kind: 'busy' });
    if (this.calls.size > 0) this.lastBusyAt = performance.now();
    return new Promise((resolve) => {
      const slot = this.states.acquire();
      const pending: PendingCall = {
        // Every field written out, not `...task`: the spread copy took a fresh hidden class
        // per call here (V8 missed its map transitions: ~9 µs a call of the server thread,
        // docs/performance.md); a literal of one fixed shape does not.
        task: {
          revision: task.revision,
          live: task.live,
          funcId: task.funcId,
          kwargsJson: task.kwargsJson,
          taskId: task.taskId,
          origin: task.origin,
          originId: task.originId,
          attempt: task.attempt,
          httpRequestJson: task.httpRequestJson,
          cronExpr: task.cronExpr,
          uploadDir: task.uploadDir,
          returnType: task.returnType,
          callId: ++this.lastCallId,
          interrupt: slot.buffer,
          interruptOffset: slot.offset,
          // The worker tells the script how long it has left (a connector's query gives up then).
          timeoutMs,
          timedFrom: lane === 'sync' ? Date.now() : null,
        },
        lane,
        client,
        slot,
        state: slot.state,
        answer: resolve,
        answered: false,
        finished: false,
        requeued: false,
      };
      // A caller waits for a sync call: its time counts from now. A background call's counts
      // from when it starts, so waiting for a (re)loading worker does not use it up.
      const arm = lane === 'sync' ? armDeadline : armDeadlineAtStart;
      pending.disarm = arm(pending.state, timeoutMs, this.options.timeoutGraceMs, {
        onExpired: () => this.answer(pending, this.timedOut(pending)),
        onStuck: (threadId) => this.onStuck(pending, threadId),
      });
      this.calls.set(pending.task.callId, pending);
      this.queueOf(lane).push(pending);
      this.dispatch();
    });
  }

  /**
   * Stops the background call of `taskId` as its deadline would: one still waiting for a
   * worker is dropped at once, a running one is interrupted (and its worker terminated if it
   * ignores the interrupt). Either way the call answers `timeout`. False when no background
   * call of that task is queued or running.
   */
  cancel(taskId: string): boolean {
    const pending = [...this.calls.values()].find((call) => call.lane === 'background' && call.task.taskId === taskId);
    if (pending === undefined) return false;
    const waiting = this.background.indexOf(pending);
    if (waiting >= 0) {
      this.background.splice(waiting, 1);
      this.answer(pending, this.timedOut(pending));
      this.finish(pending);
      return true;
    }
    pending.disarm?.();
    pending.disarm = armDeadline(pending.state, 0, this.options.timeoutGraceMs, {
      onExpired: () => this.answer(pending, this.timedOut(pending)),
      onStuck: (threadId) => this.onStuck(pending, threadId),
    });
    return true;
  }

  /** Answers every queued and running call as crashed, and refuses new ones: the pool is closing. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.background.length = 0;
    for (const pending of this.calls.values()) {
      this.finish(pending);
      this.answer(pending, SHUT_DOWN);
    }
  }

  stats(): DispatcherStats {
    return {
      busyWorkers: this.running,
      queuedSync: this.queue.length,
      queuedBackground: this.background.length,
      runningBackground: this.runningBackground,
    };
  }

  private queueOf(lane: CallLane): PendingCall[] {
    return lane === 'sync' ? this.queue : this.background;
  }

  /** A worker finished one call. */
  onResult(callId: number, outcome: CallOutcome): void {
    const pending = this.calls.get(callId);
    if (pending === undefined) return;
    if (outcome.kind === 'timeout' && !pending.answered) this.answer(pending, this.timedOut(pending));
    this.finish(pending, outcome);
    // Any other kind is the call's result (the worker's own timeout report was handled above).
    if (outcome.kind === 'error') this.answer(pending, { ...outcome, kind: 'error', error: GitfuncError.fromJSON(outcome.error!) as FunctionRaisedError });
    else if (outcome.kind !== 'timeout') this.answer(pending, outcome as CallOutcome & { kind: 'json' | 'text' | 'response' });
  }

  private timedOut(pending: PendingCall): TimedOut {
    return { kind: 'timeout', at: Date.now(), ended: new Promise((resolve) => (pending.settle = resolve)) };
  }

  private answer(pending: PendingCall, result: CallResult): void {
    if (pending.answered) return;
    pending.answered = true;
    pending.answer(result);
  }

  /** The worker is done with the call: `outcome` is its own report, if it sent one. */
  private finish(pending: PendingCall, outcome?: CallOutcome): void {
    pending.finished = true;
    pending.disarm?.();
    pending.settle?.(outcome);
    this.calls.delete(pending.task.callId);
    this.states.release(pending.slot);
  }

  private onStuck(pending: PendingCall, threadId: number): void {
    if (pending.finished) return;
    this.logger.warn({ funcId: pending.task.funcId, threadId }, 'call ignored its interrupt: terminating its worker');
    this.runner.terminateThread(threadId);
  }

  private dispatch(): void {
    while (this.running < this.options.slots) {
      let batch: PendingCall[];
      if (this.queue.length > 0) {
        const free = this.options.slots - this.running;
        batch = this.queue.splice(0, Math.min(MAX_BATCH, Math.ceil(this.queue.length / free)));
        // A caller that hung up while its call waited: drop the call instead of running it for no one.
        if (batch.some(abandoned)) batch = this.dropAbandoned(batch);
        if (batch.length === 0) continue;
      } else if (this.background.length > 0 && this.runningBackground < this.options.backgroundSlots) {
        batch = this.background.splice(0, 1);
        this.runningBackground++;
      } else {
        return;
      }
      this.runBatch(batch);
    }
  }

  private dropAbandoned(batch: PendingCall[]): PendingCall[] {
    const kept: PendingCall[] = [];
    for (const pending of batch) {
      if (!abandoned(pending)) {
        kept.push(pending);
        continue;
      }
      this.finish(pending);
      this.answer(pending, ABANDONED);
    }
    return kept;
  }

  private runBatch(batch: PendingCall[]): void {
    this.running++;
    this.runner
      .runBatch(batch.map((pending) => pending.task), this.isQuiet(batch))
      .then(
        () => undefined,
        (error: unknown) => {
          // Results posted just before a worker died may still be in flight: let them land first.
          setImmediate(() => this.onBatchFailed(batch, error));
        },
      )
      .finally(() => {
        this.running--;
        if (batch[0]!.lane === 'background') this.runningBackground--;
        this.dispatch();
      });
  }

  /** A lone sync call on a server that had no other for QUIET_MS. */
  private isQuiet(batch: PendingCall[]): boolean {
    return batch.length === 1 && batch[0]!.lane === 'sync' && this.calls.size === 1 && performance.now() - this.lastBusyAt > QUIET_MS;
  }

  /** The worker died mid-batch: calls it had not started run again once, elsewhere. */
  private onBatchFailed(batch: PendingCall[], failure: unknown): void {
    // The pool rejects with typed errors (see WorkerSlot.run); anything else is a bug, kept as its text.
    const error = failure instanceof GitfuncError ? failure : new WorkerError('WORKER_FAILED', String(failure));
    const again: PendingCall[] = [];
    for (const pending of batch) {
      if (pending.finished) continue;
      const started = Atomics.load(pending.state, THREAD_SLOT) !== NOT_STARTED;
      if (!started && !pending.answered && !pending.requeued) {
        pending.requeued = true;
        again.push(pending);
        continue;
      }
      if (started) this.logger.error({ funcId: pending.task.funcId, err: error }, 'worker failed during a call');
      this.finish(pending);
      this.answer(pending, { kind: 'crashed', error });
    }
    if (again.length > 0) {
      this.queueOf(again[0]!.lane).unshift(...again);
      this.dispatch();
    }
  }
}
