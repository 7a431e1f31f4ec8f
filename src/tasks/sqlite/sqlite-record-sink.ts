import { Worker } from 'node:worker_threads';
import type { BudgetOutcome, RecordBatch, RecordBatchSink } from '../ports.js';
import type { RecordThreadData, WriteReply, WriteRequest } from './record-thread.js';

const THREAD_FILE = new URL('./record-thread-entry.mjs', import.meta.url);

interface Pending {
  resolve(outcome: BudgetOutcome): void;
  reject(error: Error): void;
}

/** Writes record batches on a thread of their own (record-thread.ts), started on first use. */
export class SqliteRecordSink implements RecordBatchSink {
  private thread: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private lastSeq = 0;
  /** Settles when the last posted batch has been handled (the thread answers in order). */
  private lastWrite: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataDir: string) {}

  write(batch: RecordBatch): Promise<BudgetOutcome> {
    const thread = this.thread ?? this.start();
    const seq = ++this.lastSeq;
    const written = new Promise<BudgetOutcome>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      thread.postMessage({ seq, batch } satisfies WriteRequest);
    });
    this.lastWrite = written.catch(() => undefined);
    return written;
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (thread === undefined) return;
    await this.lastWrite;
    await thread.terminate();
  }

  private start(): Worker {
    const thread = new Worker(THREAD_FILE, { workerData: { dataDir: this.dataDir } satisfies RecordThreadData });
    thread.on('message', ({ seq, outcome, error }: WriteReply) => {
      const pending = this.pending.get(seq);
      this.pending.delete(seq);
      if (error === undefined) pending?.resolve(outcome!);
      else pending?.reject(new Error(error));
    });
    // A thread that failed (it could not open the database) is started again on the next write.
    thread.on('error', (error) => {
      if (this.thread === thread) this.thread = undefined;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    });
    this.thread = thread;
    return thread;
  }
}
