import type { BatchReport, WorkerReady } from './worker-health.cjs';

const MB = 1024 * 1024;

/** One worker as `GET /api/v1/status` shows it. */
export interface WorkerStatus {
  threadId: number;
  /** Its interpreter is loaded: it takes calls. */
  ready: boolean;
  /** Calls served since it started. */
  calls: number;
  /** Its WASM heap, in MiB (it only grows; limits.workerHeapMB recycles the worker above it). */
  heapMB: number;
  /** Recycled: its replacement serves in its place; it ends once its last batch is answered. */
  retiring: boolean;
}

/** The pool's workers as their reports describe them, by thread id. */
export class WorkerRegistry {
  private readonly workers = new Map<number, WorkerStatus>();
  /** Workers recycled for their call count or heap since the pool started. */
  recycled = 0;

  /** A Piscina worker thread started (its interpreter is still loading). */
  onCreate(threadId: number): void {
    if (!this.workers.has(threadId)) this.workers.set(threadId, { threadId, ready: false, calls: 0, heapMB: 0, retiring: false });
  }

  onReady(ready: WorkerReady): void {
    let worker = this.workers.get(ready.workerReady);
    if (worker === undefined) {
      worker = { threadId: ready.workerReady, ready: false, calls: 0, heapMB: 0, retiring: false };
      this.workers.set(worker.threadId, worker);
    }
    worker.ready = true;
    worker.heapMB = ready.heapBytes / MB;
  }

  /** Cheap on purpose: runs once per call batch. */
  onBatch(report: BatchReport): void {
    const worker = this.workers.get(report.threadId);
    if (worker === undefined) return;
    worker.calls = report.calls;
    worker.heapMB = report.heapBytes / MB;
  }

  /** The worker's replacement took its place: it ends once its last batch is answered. */
  markRetiring(threadId: number): WorkerStatus | undefined {
    const worker = this.workers.get(threadId);
    if (worker === undefined) return undefined;
    worker.retiring = true;
    this.recycled++;
    return { ...worker };
  }

  /** Forgets every worker not in `alive`, and returns them. */
  removeAllBut(alive: ReadonlySet<number>): WorkerStatus[] {
    const gone: WorkerStatus[] = [];
    for (const worker of this.workers.values()) {
      if (alive.has(worker.threadId)) continue;
      this.workers.delete(worker.threadId);
      gone.push(worker);
    }
    return gone;
  }

  /** Every live worker, oldest first. */
  list(): WorkerStatus[] {
    return [...this.workers.values()].map((worker) => ({ ...worker, heapMB: Math.round(worker.heapMB * 10) / 10 }));
  }
}
