import type { Logger } from '../log.js';
import type { RecordBatchSink, StoreBudget, TrimRequest } from './ports.js';
import { RecordBuffer } from './record-buffer.js';
import type { TaskOrigin, TaskRecord } from './task-record.js';

const ORIGINS: readonly TaskOrigin[] = ['syncAPI', 'asyncAPI', 'cronJob', 'manual'];

export interface RecordWriterOptions {
  /** Most time a record waits in memory before it is sent to be written. */
  flushMs: number;
  /** A batch this large is sent at once. */
  maxBatch: number;
  /** Finished records kept per API or cron job. */
  keep(origin: TaskOrigin): number;
  /** A finished record of this origin is kept at least this long after it ended, whatever the count; 0: by count only. */
  keepSeconds(origin: TaskOrigin): number;
  /** Most bytes all records may take in the store (StoreBudget). */
  maxStoredBytes: number;
  /** The time trimming counts keepSeconds from, in epoch ms; tests pass a fake one. */
  now(): number;
}

/**
 * Collects finished records of sync and cron runs and hands them to the sink in batches, off
 * the request path; each API or cron job written to is trimmed after, and a batch carries only
 * the records trimming would keep (RecordBuffer). A record waits at most
 * `flushMs` (a process killed in that window loses it; a client going away never does).
 */
export class RecordWriter {
  private readonly buffer: RecordBuffer;
  /** `origin\0originId` keys to trim with the next batch, besides those of the buffered records. */
  private readonly toTrim = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Settles when every batch sent so far is written (or failed). */
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: RecordBatchSink,
    private readonly options: RecordWriterOptions,
    private readonly logger: Logger,
  ) {
    this.buffer = new RecordBuffer(options.keep);
  }

  add(record: TaskRecord): void {
    this.buffer.add(record);
    if (this.buffer.added >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Trims an origin with the next batch (its record was written elsewhere, e.g. by the queue). */
  markForTrim(origin: TaskOrigin, originId: string): void {
    this.toTrim.add(`${origin}\0${originId}`);
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Sends everything collected now; resolves once it and every earlier batch are written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.added === 0 && this.toTrim.size === 0) return this.written;
    const { records, origins } = this.buffer.drain();
    for (const { origin, originId } of origins) this.toTrim.add(`${origin}\0${originId}`);
    const budget = this.budget();
    const trims = [...this.toTrim].map((key): TrimRequest => {
      const [origin, originId] = key.split('\0') as [TaskOrigin, string];
      const keepEndedSince = budget.keepEndedSince[origin];
      return { origin, originId, keep: this.options.keep(origin), ...(keepEndedSince !== null && { keepEndedSince }) };
    });
    this.toTrim.clear();
    this.written = this.sink.write({ records, trims, budget }).then(
      ({ deletedEarly }) => {
        if (deletedEarly > 0) {
          this.logger.warn(
            { records: deletedEarly, maxStoredBytes: budget.maxBytes },
            'task records deleted before tasks.keepSeconds: the byte budget tasks.maxStoredMB is full',
          );
        }
      },
      (error: unknown) => {
        // A full disk must not take calls down with it; the records of this batch are lost.
        this.logger.error({ err: error, records: records.length }, 'task records could not be written');
      },
    );
    return this.written;
  }

  /** The byte budget as of now: which records keepSeconds still holds. */
  private budget(): StoreBudget {
    const now = this.options.now();
    const keepEndedSince = {} as Record<TaskOrigin, number | null>;
    for (const origin of ORIGINS) {
      const seconds = this.options.keepSeconds(origin);
      keepEndedSince[origin] = seconds > 0 ? now - seconds * 1000 : null;
    }
    return { maxBytes: this.options.maxStoredBytes, keepEndedSince };
  }
}
