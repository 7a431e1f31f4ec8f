import { FINISHED_STATUSES, type TaskOrigin, type TaskRecord } from '../model/task-record.js';

const FINISHED: ReadonlySet<string> = new Set(FINISHED_STATUSES);

/** The newest `capacity` records of one API or cron job, oldest overwritten first. */
class Ring {
  private readonly items: TaskRecord[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(record: TaskRecord): void {
    if (this.items.length < this.capacity) {
      this.items.push(record);
    } else {
      this.items[this.next] = record;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /** Oldest first. */
  inOrder(): TaskRecord[] {
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

/**
 * Records waiting to be written. Per API or cron job only the newest `keep` finished records
 * are held, since trimming would delete any older one right after writing it: under load a
 * busy API's thousands of calls per batch cost one ring slot each and are garbage at once,
 * and only the records that will be kept reach the store. Records still running are always
 * written, before the finished ones (so a run's final record overwrites its running one).
 */
export class RecordBuffer {
  private rings = new Map<TaskOrigin, Map<string, Ring>>();
  private running: TaskRecord[] = [];
  /** Records added since the last drain, including those a ring already dropped. */
  added = 0;

  constructor(private readonly keep: (origin: TaskOrigin) => number) {}

  add(record: TaskRecord): void {
    this.added++;
    if (!FINISHED.has(record.status)) {
      this.running.push(record);
      return;
    }
    let byId = this.rings.get(record.origin);
    if (byId === undefined) this.rings.set(record.origin, (byId = new Map()));
    let ring = byId.get(record.originId);
    if (ring === undefined) byId.set(record.originId, (ring = new Ring(this.keep(record.origin))));
    ring.add(record);
  }

  /** Everything held, in write order, and the APIs and cron jobs it belongs to; then empty. */
  drain(): { records: TaskRecord[]; origins: { origin: TaskOrigin; originId: string }[] } {
    const records = this.running;
    const origins: { origin: TaskOrigin; originId: string }[] = [];
    for (const [origin, byId] of this.rings) {
      for (const [originId, ring] of byId) {
        records.push(...ring.inOrder());
        origins.push({ origin, originId });
      }
    }
    this.rings = new Map();
    this.running = [];
    this.added = 0;
    return { records, origins };
  }
}
