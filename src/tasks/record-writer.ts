import type { Logger } from '../log.js';
import type { TaskRecordStore } from './ports.js';
import type { TaskOrigin, TaskRecord } from './task-record.js';

export interface RecordWriterOptions {
  /** Most time a record waits in memory before it is written. */
  flushMs: number;
  /** A batch this large is written at once. */
  maxBatch: number;
  /** Finished records kept per API or cron job. */
  keep(origin: TaskOrigin): number;
}

/**
 * Writes finished records of sync and cron runs off the request path: buffered, then saved
 * in one transaction per batch, and each API or cron job written to is trimmed after. A
 * record waits at most `flushMs` (a process killed in that window loses it; a client going
 * away never does).
 */
export class RecordWriter {
  private buffer: TaskRecord[] = [];
  /** `origin\0originId` keys to trim at the next flush. */
  private readonly toTrim = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: TaskRecordStore,
    private readonly options: RecordWriterOptions,
    private readonly logger: Logger,
  ) {}

  add(record: TaskRecord): void {
    this.buffer.push(record);
    this.markForTrim(record.origin, record.originId);
    if (this.buffer.length >= this.options.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushMs);
  }

  /** Trims an origin at the next flush (its record was written elsewhere, e.g. by the queue). */
  markForTrim(origin: TaskOrigin, originId: string): void {
    this.toTrim.add(`${origin}\0${originId}`);
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs);
  }

  /** Writes everything buffered now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.store.save(batch);
      for (const key of this.toTrim) {
        const [origin, originId] = key.split('\0') as [TaskOrigin, string];
        this.store.trim(origin, originId, this.options.keep(origin));
      }
      this.toTrim.clear();
    } catch (error) {
      // A full disk must not take calls down with it; the records of this batch are lost.
      this.logger.error({ err: error, records: batch.length }, 'task records could not be written');
    }
  }
}
