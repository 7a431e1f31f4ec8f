/**
 * Worker-side health: counts the calls a worker served, reads its WASM heap after each batch,
 * and decides when the worker retires (limits.workerMaxCalls, limits.workerHeapMB). A `.cts`
 * file so the CommonJS worker and the ESM server share the message types.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';

/** What the server passes every worker (Piscina `workerData.health`). */
export interface WorkerHealthLimits {
  /** Retire after this many calls; 0 never. */
  maxCalls: number;
  /** Retire once the WASM heap is larger than this many bytes; 0 never. */
  maxHeapBytes: number;
}

/** Returned by a worker for each call batch (the Piscina task result). */
export interface BatchReport {
  threadId: number;
  /** Calls this worker has served since it started. */
  calls: number;
  heapBytes: number;
  /**
   * Past its call or heap limit: the server starts a replacement and retires this worker once
   * the replacement is ready; until then it goes on serving.
   */
  overLimit: boolean;
}

/** Posted on the worker's parentPort once its interpreter is loaded. */
export interface WorkerReady {
  workerReady: number;
  heapBytes: number;
}

/**
 * Posted instead of WorkerReady when the interpreter failed to start: the worker takes tasks
 * all the same, and fails the first one, which has it replaced (see worker.cts).
 */
export interface WorkerStartFailed {
  workerStartFailed: number;
}

export function announceStartFailed(): void {
  const message: WorkerStartFailed = { workerStartFailed: threadId };
  parentPort!.postMessage(message);
}

/** The worker is past its start, well or not: it can be given tasks. */
export function isWorkerStarted(message: unknown): message is WorkerReady | WorkerStartFailed {
  return typeof message === 'object' && message !== null && ('workerReady' in message || 'workerStartFailed' in message);
}

/** Posted by a worker whose interpreter died: the server terminates the thread. */
export interface ReplaceMe {
  replaceMe: number;
}

export function isReplaceMe(message: unknown): message is ReplaceMe {
  return typeof message === 'object' && message !== null && 'replaceMe' in message;
}

/**
 * Asks the server to end this thread (Piscina then starts a replacement). A worker cannot
 * reliably exit by itself after answering: once idle, Piscina parks it in a blocking
 * Atomics.wait, where no timer or setImmediate runs.
 */
export function askToBeReplaced(): void {
  const message: ReplaceMe = { replaceMe: threadId };
  parentPort!.postMessage(message);
}

export function isWorkerReady(message: unknown): message is WorkerReady {
  return typeof message === 'object' && message !== null && 'workerReady' in message;
}

const NO_LIMITS: WorkerHealthLimits = { maxCalls: 0, maxHeapBytes: 0 };

/** Tracks one worker's calls and heap; `heapBytes` reads the interpreter's WASM memory. */
export class WorkerHealth {
  private calls = 0;
  private readonly limits: WorkerHealthLimits;

  constructor(private readonly heapBytes: () => number) {
    const given = (workerData as { health?: WorkerHealthLimits } | null)?.health;
    this.limits = given ?? NO_LIMITS;
  }

  /** Tells the server this worker can take calls. */
  announceReady(): void {
    const ready: WorkerReady = { workerReady: threadId, heapBytes: this.heapBytes() };
    parentPort!.postMessage(ready);
  }

  /** Counts a batch and reports whether this worker is past its limits. */
  afterBatch(calls: number): BatchReport {
    this.calls += calls;
    const heapBytes = this.heapBytes();
    const overLimit =
      (this.limits.maxCalls > 0 && this.calls >= this.limits.maxCalls) || (this.limits.maxHeapBytes > 0 && heapBytes > this.limits.maxHeapBytes);
    return { threadId, calls: this.calls, heapBytes, overLimit };
  }
}
