import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { GitfuncError, isErrorJSON, WorkerError } from '../errors.js';
// Default imports: named imports of a CommonJS module depend on the loader detecting them.
import workerHealth from './worker-health.cjs';
import workerProtocol from './worker-protocol.cjs';
import type { CallBatchTask, WorkerTask } from './worker-protocol.cjs';

const { isWorkerStarted } = workerHealth;
const { isBatchEnd, isCallChannelOffer } = workerProtocol;

/** The batch sent on the call channel and not ended yet (one at a time: a slot runs one task). */
interface BatchInFlight {
  resolve(report: unknown): void;
  reject(error: GitfuncError): void;
}

/**
 * How long the server thread polls for a quiet batch's result before it goes back to its event
 * loop: a lone client's call of a small function ends within it (see CallDispatcher, and
 * WAIT_IN_PLACE_MS in worker.cts for the worker's side).
 */
const RESULT_POLL_MS = 0.3;

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
 * Piscina still restarts the thread when it dies. Call batches go on the thread's own call
 * channel, not through Piscina (docs/architecture.md, "Calls travel on a channel of each
 * worker's own").
 */
export class WorkerSlot {
  private readonly piscina: Piscina;
  /** Tasks sent and not settled yet. */
  private inFlight = 0;
  private whenIdle: (() => void) | undefined;
  /** Its thread is past its interpreter start (false from its exit until a new thread is). */
  private isStarted = false;
  /** The running thread's call channel (see CallChannelOffer); undefined when it offered none. */
  private callChannel: MessagePort | undefined;
  /** The running thread's flag for a bridge request it posted (see CallChannelOffer). */
  private bridgeAsked: Int32Array<ArrayBufferLike> = new Int32Array(1);
  private batch: BatchInFlight | undefined;

  constructor(
    options: ConstructorParameters<typeof Piscina>[0],
    private readonly events: WorkerSlotEvents,
  ) {
    this.piscina = new Piscina({
      ...options,
      minThreads: 1,
      maxThreads: 1,
      // A dropped worker costs seconds to reload Pyodide: never drop an idle one.
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // An idle worker waits in its event loop, not in Atomics.wait: it must hear its call channel.
      atomics: 'disabled',
    });
    this.piscina.on('message', (message: unknown) => {
      if (isCallChannelOffer(message)) return this.openCallChannel(message.callChannel, new Int32Array(message.bridgeAsked));
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
      // The channel's own close ends its batch once its last messages are read; this is in
      // case the thread went before its close reached this side.
      const channel = this.callChannel;
      setImmediate(() => {
        if (this.callChannel === channel) this.closeCallChannel();
      });
      events.onDestroy();
    });
    this.piscina.on('error', events.onError);
  }

  private readonly onChannelMessage = (message: unknown): void => {
    if (!isBatchEnd(message)) return this.events.onMessage(message);
    const batch = this.batch;
    this.batch = undefined;
    if ('batchReport' in message) batch?.resolve(message.batchReport);
    else batch?.reject(GitfuncError.fromJSON(message.batchFailed));
  };

  private openCallChannel(channel: MessagePort, bridgeAsked: Int32Array): void {
    this.closeCallChannel();
    this.callChannel = channel;
    this.bridgeAsked = bridgeAsked;
    channel.on('message', this.onChannelMessage);
    // The thread ended (crash, terminate, recycle): results it posted were read before this.
    // Piscina may tell of the exit later: until its new thread starts, this slot takes no task.
    channel.once('close', () => {
      if (this.callChannel !== channel) return;
      this.isStarted = false;
      this.closeCallChannel();
    });
  }

  /** Forgets the call channel; a batch still on it failed with its thread. */
  private closeCallChannel(): void {
    const channel = this.callChannel;
    if (channel === undefined) return;
    this.callChannel = undefined;
    channel.close();
    const batch = this.batch;
    this.batch = undefined;
    batch?.reject(new WorkerError('WORKER_FAILED', 'the worker thread exited during a call batch'));
  }

  /** Posts a batch on the call channel; settles with its report, or fails with its thread. */
  private runOnChannel(channel: MessagePort, task: CallBatchTask): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.batch = { resolve, reject };
      if (task.waitInPlace) Atomics.store(this.bridgeAsked, 0, 0);
      channel.postMessage(task);
      if (task.waitInPlace) this.pollForBatchEnd(channel);
    });
  }

  /**
   * Takes the batch's messages as they come for up to RESULT_POLL_MS, instead of waiting for
   * them in the event loop; stops early when the worker asks the bridge (served by the loop).
   */
  private pollForBatchEnd(channel: MessagePort): void {
    const until = performance.now() + RESULT_POLL_MS;
    while (this.batch !== undefined && Atomics.load(this.bridgeAsked, 0) === 0 && performance.now() < until) {
      const received = receiveMessageOnPort(channel);
      if (received !== undefined) this.onChannelMessage(received.message);
    }
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
    const channel = this.callChannel;
    // A worker that offered no channel failed to start: Piscina's task fails with why.
    const ran = task.type === 'calls' && channel !== undefined ? this.runOnChannel(channel, task) : this.piscina.run(task);
    return ran.then(
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
    this.closeCallChannel();
    return this.piscina.destroy();
  }
}

/**
 * The typed error of a failed task: the worker throws its error's JSON (see worker.cts), revived
 * here as the same class (a batch of the call channel comes revived already); Piscina's own
 * errors (the thread exited or was terminated) are the worker failing.
 */
function taskError(error: unknown): GitfuncError {
  if (error instanceof GitfuncError) return error;
  if (isErrorJSON(error)) return GitfuncError.fromJSON(error);
  return new WorkerError('WORKER_FAILED', error instanceof Error ? error.message : String(error));
}
