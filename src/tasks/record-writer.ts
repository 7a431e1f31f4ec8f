import type { Logger } from '../log.js';
import type { RecordBatchSink, StoreBudget, TrimRequest } from './ports.js';
import { RecordBuffer } from './record-buffer.js';
import type { TaskOrigin, TaskRecord } from '../model/task-record.js';

const ORIGINS: readonly TaskOrigin[] = ['syncAPI', 'asyncAPI', 'cronJob', 'manual'];
/** A later trim waits this much past keepSeconds, so the records it was set for are surely past it. */
const LATER_TRIM_MARGIN_MS = 1000;

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
 * Trimming spares the records `keepSeconds` holds, and every batch holds the store to
 * `maxStoredBytes`.
 */
export class RecordWriter {
  private readonly buffer: RecordBuffer;
  /** `origin\0originId` keys to trim with the next batch, besides those of the buffered records. */
  private readonly toTrim = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Settles when every batch sent so far is written (or failed). */
  private written: Promise<void> = Promise.resolve();
  /** Per `origin\0originId` key held by keepSeconds, the timer that trims it once that passes. */
  private readonly laterTrims = new Map<string, NodeJS.Timeout>();

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

  /**
   * Trims an origin with the next batch (its record was written elsewhere, e.g. by the queue),
   * and again once keepSeconds stops holding the record, in case no later task of it comes.
   */
  markForTrim(origin: TaskOrigin, originId: string): void {
    const key = `${origin}\0${originId}`;
    this.toTrim.add(key);
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
    const keepSeconds = this.options.keepSeconds(origin);
    if (keepSeconds > 0) this.trimLater(key, keepSeconds * 1000 + LATER_TRIM_MARGIN_MS);
  }

  /** Stops the later trims, then flushes. */
  close(): Promise<void> {
    for (const timer of this.laterTrims.values()) clearTimeout(timer);
    this.laterTrims.clear();
    return this.flush();
  }

  /** (Re)sets `key`'s later trim: one timer per API, moved on by each of its tasks. */
  private trimLater(key: string, delayMs: number): void {
    clearTimeout(this.laterTrims.get(key));
    const timer = setTimeout(() => {
      this.laterTrims.delete(key);
      this.toTrim.add(key);
      void this.flush();
    }, delayMs);
    // An idle server may exit meanwhile: the next start trims on its first task.
    timer.unref();
    this.laterTrims.set(key, timer);
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
