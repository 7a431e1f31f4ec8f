/**
 * The worker pool as ONE Piscina pool, for bench/pool-shape only: the same worker entry and the
 * same CallDispatcher as src/runtime/pool.ts, with Piscina choosing the worker of each batch.
 *
 * `balancer: 'default'` is Piscina's own LeastBusyBalancer. `balancer: 'ready'` is what one pool
 * needs to behave: a loadBalancer that skips workers whose interpreter is still loading, and
 * that can aim a task at a fresh worker (replace-first recycling, with maxThreads = workers + 1).
 */
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { CallDispatcher, type CallLane } from '../../src/runtime/call-dispatcher.js';
import type { SnapshotSource } from '../../src/runtime/snapshot/interpreter.cjs';
import { WORKER_ISOLATION_OPTIONS } from '../../src/runtime/worker-isolation.js';
import type { CallRequest, WarmTask, WorkerTask } from '../../src/runtime/worker-protocol.cjs';
import type { CallResult } from './common.js';

const WORKER_FILE = new URL('../../src/runtime/worker-entry.cjs', import.meta.url);
const QUEUE_OPTIONS = Piscina.queueOptionsSymbol;

export interface OnePiscinaOptions {
  workers: number;
  /** Threads Piscina may run: `workers` (it replaces an exited worker after the exit) or `workers + 1`. */
  maxThreads: number;
  balancer: 'default' | 'ready';
  snapshot: SnapshotSource | undefined;
}

/**
 * A task's wish for its worker, and where the balancer sent it: a symbol-keyed property of the
 * task, so it is not sent to the worker (structured clone drops symbol keys).
 */
interface Aim {
  fresh: boolean;
  thread?: number;
}

type PiscinaBalancer = NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer'];

export class OnePiscinaPool {
  readonly piscina: Piscina;
  readonly dispatcher: CallDispatcher;
  /** Threads whose interpreter is up (their `workerReady` message came). */
  readonly started = new Set<number>();
  /** Started threads kept from ordinary tasks: a replacement being warmed, or a retiring worker. */
  private readonly fresh = new Set<number>();
  private readonly retiring = new Set<number>();
  private expectingFresh = false;
  /** Per thread: tasks the balancer handed it that have not settled (Piscina shows usage only to the balancer). */
  private readonly inFlight = new Map<number, number>();
  private onStartedListeners: ((threadId: number) => void)[] = [];

  constructor(
    private readonly options: OnePiscinaOptions,
    logger: Logger,
  ) {
    this.piscina = new Piscina({
      ...WORKER_ISOLATION_OPTIONS,
      filename: WORKER_FILE.href,
      workerData: { snapshot: options.snapshot, health: { maxCalls: 0, maxHeapBytes: 0 } },
      minThreads: options.workers,
      maxThreads: options.maxThreads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      ...(options.balancer === 'ready' ? { loadBalancer: this.readyBalancer } : {}),
    });
    // Not by the event's worker id: an exited thread's id reads -1.
    this.piscina.on('workerDestroy', () => this.forgetExited());
    this.piscina.on('message', (message: Record<string, unknown>) => {
      if ('callId' in message && 'outcome' in message) this.dispatcher.onResult(message.callId as number, message.outcome as never);
      else if ('workerReady' in message) this.onStarted(message.workerReady as number);
    });
    this.piscina.on('error', (error: unknown) => logger.error({ err: error }, 'piscina error'));
    this.dispatcher = new CallDispatcher(
      { slots: options.workers, backgroundSlots: Math.max(1, options.workers - 1), timeoutGraceMs: 1000, maxQueue: 1024 },
      { runBatch: (calls) => this.run({ type: 'calls', calls, waitInPlace: false }), terminateThread: (id) => this.terminateThread(id) },
      logger,
    );
  }

  private onStarted(threadId: number): void {
    this.started.add(threadId);
    if (this.expectingFresh) {
      this.fresh.add(threadId);
      this.expectingFresh = false;
    }
    for (const listener of this.onStartedListeners) listener(threadId);
  }

  private forgetExited(): void {
    const alive = new Set(this.piscina.threads.map((thread) => thread.threadId));
    for (const id of this.started) if (!alive.has(id)) this.started.delete(id);
  }

  /** Workers that take a call now: started, not a replacement being warmed, not retiring. */
  get serving(): number {
    this.forgetExited();
    let count = 0;
    for (const id of this.started) if (!this.fresh.has(id) && !this.retiring.has(id)) count++;
    return count;
  }

  /** Resolves with the id of the next thread whose interpreter comes up. */
  nextStarted(): Promise<number> {
    return new Promise((resolve) => {
      const listener = (threadId: number): void => {
        this.onStartedListeners = this.onStartedListeners.filter((l) => l !== listener);
        resolve(threadId);
      };
      this.onStartedListeners.push(listener);
    });
  }

  /** Started, not fresh, not retiring, idle; or, for a task aimed at a fresh worker, the fresh one. */
  private readonly readyBalancer: PiscinaBalancer = (task, workers) => {
    const aim = (task as unknown as Record<symbol, Aim | undefined>)[QUEUE_OPTIONS];
    for (const worker of workers) {
      if (worker.currentUsage !== 0 || !this.started.has(worker.id) || this.retiring.has(worker.id)) continue;
      if (this.fresh.has(worker.id) !== (aim?.fresh === true)) continue;
      if (aim !== undefined) aim.thread = worker.id;
      this.inFlight.set(worker.id, (this.inFlight.get(worker.id) ?? 0) + 1);
      return worker;
    }
    return null;
  };

  private run(task: WorkerTask, fresh = false): Promise<unknown> {
    const aim: Aim = { fresh };
    return this.piscina.run(Object.assign(task, { [QUEUE_OPTIONS]: aim })).finally(() => {
      if (aim.thread !== undefined) this.inFlight.set(aim.thread, this.inFlight.get(aim.thread)! - 1);
    });
  }

  call(task: CallRequest, timeoutMs: number, lane: CallLane = 'sync'): Promise<CallResult> {
    return this.dispatcher.call(task, timeoutMs, lane);
  }

  /** Every worker loads the revision: at start all are idle, so `workers` tasks reach one each. */
  async warmAll(task: WarmTask): Promise<void> {
    await Promise.all(Array.from({ length: this.options.workers }, () => this.run({ ...task })));
  }

  terminateThread(threadId: number): void {
    void this.piscina.threads.find((thread) => thread.threadId === threadId)?.terminate();
  }

  /**
   * Replace-after recycling, what Piscina does by itself ('ready' balancer): `old` takes no more
   * tasks, is terminated once idle, and Piscina starts its replacement after the exit.
   * Resolves when the replacement's interpreter is up.
   */
  async retireThenExit(old: number): Promise<void> {
    this.retiring.add(old);
    await this.idle(old);
    const next = this.nextStarted();
    await this.end(old);
    await next;
  }

  /** Piscina tells no one when a given worker is idle: poll until its last task has settled. */
  private async idle(threadId: number): Promise<void> {
    while ((this.inFlight.get(threadId) ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /**
   * Replace-first recycling inside one Piscina (needs maxThreads = workers + 1 and the 'ready'
   * balancer): a warm task only a fresh worker may take makes Piscina spawn one; once it is
   * warm, `old` stops taking tasks and is terminated when idle. Resolves when `old` is gone.
   */
  async recycleFirst(old: number, warm: WarmTask): Promise<void> {
    this.expectingFresh = true;
    await this.run({ ...warm }, true);
    this.fresh.clear();
    this.retiring.add(old);
    await this.idle(old);
    await this.end(old);
  }

  /** Terminates a retiring worker, no task reaching it while its thread exits; resolves on the exit. */
  private async end(threadId: number): Promise<void> {
    this.started.delete(threadId);
    this.retiring.delete(threadId);
    await this.piscina.threads.find((thread) => thread.threadId === threadId)?.terminate();
  }

  close(): Promise<void> {
    this.dispatcher.close();
    return this.piscina.destroy();
  }
}
