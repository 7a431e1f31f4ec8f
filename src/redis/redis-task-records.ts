import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { fromRow, type RecordRow, toRow } from '../tasks/sqlite/record-rows.js';
import { withStoredKwargs } from '../tasks/stored-size.js';
import type { BudgetOutcome, RecordBatch, RecordBatchSink, StoreBudget, TaskRecordStore, TrimRequest } from '../tasks/ports.js';
import { FINISHED_STATUSES, type TaskRecord, type TaskRecordPage, type TaskRecordQuery } from '../model/task-record.js';
import { LuaScript } from './lua-script.js';

/** A batch's records, trims and budget in one step (a script of its own file: it is long). */
const WRITE_RECORDS = new LuaScript(readFileSync(new URL('./lua/write-records.lua', import.meta.url), 'utf8'));

/** What a record costs beyond its texts, as SQLite counts it (its other fields and indexes). */
const RECORD_OVERHEAD_BYTES = 200;
/** Record ids read at a time while a filtered list looks for its page. */
const LIST_CHUNK = 100;

/** One record as write-records.lua takes it. */
interface RecordEntry {
  id: string;
  origin: string;
  originId: string;
  finished: boolean;
  ended: number;
  bytes: number;
  row: string;
}

/**
 * Task records in Redis, shared by every replica (layout in lua/write-records.lua): each
 * record a hash holding its row as JSON, sorted sets of ids by a sequence number for the
 * newest-first list and each origin's trims, and a running byte total. A batch is written by
 * one Lua script, so concurrent replicas never see half of one and the total stays exact.
 */
export class RedisTaskRecords implements TaskRecordStore, RecordBatchSink {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(id: string): Promise<TaskRecord | undefined> {
    const row = await this.redis.hget(this.recordKey(id), 'row');
    return row === null ? undefined : fromRow(JSON.parse(row) as RecordRow);
  }

  /**
   * Newest first, reading ids a chunk at a time from the narrowest sorted set (one origin's
   * when origin and originId are given) and keeping those the other filters match. The
   * `next` cursor is the last record's sequence number.
   */
  async list(query: TaskRecordQuery): Promise<TaskRecordPage> {
    const source =
      query.origin !== undefined && query.originId !== undefined ? this.originKey(query.origin, query.originId) : `${this.keyPrefix}records:all`;
    const matches = (row: RecordRow): boolean =>
      (query.funcId === undefined || row.func_id === query.funcId) &&
      (query.origin === undefined || row.origin === query.origin) &&
      (query.originId === undefined || row.origin_id === query.originId) &&
      (query.status === undefined || row.status === query.status);
    const found: RecordRow[] = [];
    let below = query.before === undefined ? '+inf' : `(${Number(query.before)}`;
    while (found.length <= query.limit) {
      const ids = await this.redis.zrevrangebyscore(source, below, '-inf', 'WITHSCORES', 'LIMIT', 0, LIST_CHUNK);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < ids.length; i += 2) pipeline.hget(this.recordKey(ids[i]!), 'row');
      const rows = (await pipeline.exec()) ?? [];
      for (let i = 0; i < rows.length && found.length <= query.limit; i++) {
        const [error, text] = rows[i]!;
        if (error !== null) throw error;
        // Gone since the ids were read: trimmed by another replica's batch.
        if (text === null) continue;
        const row = { ...(JSON.parse(text as string) as RecordRow), seq: Number(ids[2 * i + 1]) };
        if (matches(row)) found.push(row);
      }
      below = `(${ids[ids.length - 1]}`;
    }
    const more = found.length > query.limit;
    const page = more ? found.slice(0, query.limit) : found;
    return { records: page.map(fromRow), next: more ? String(page[page.length - 1]!.seq) : null };
  }

  /** Saves records whole, without a batch's trims or budget (the async queue's records); `ifAbsent` leaves existing ones alone. */
  async save(records: readonly TaskRecord[], options: { ifAbsent?: boolean } = {}): Promise<void> {
    await this.run({ records: records.map(entryOf), ifAbsent: options.ifAbsent === true, trims: [] });
  }

  /** Sync and cron records: their kwargs sized as SQLite's record thread sizes them. */
  async write(batch: RecordBatch): Promise<BudgetOutcome> {
    return this.run({
      records: batch.records.map((record) => entryOf(withStoredKwargs(record))),
      ifAbsent: false,
      trims: batch.trims.map(trimEntry),
      ...(batch.budget !== undefined && { budget: budgetEntry(batch.budget) }),
    });
  }

  /** The Redis client is the caller's: nothing of its own to close. */
  async close(): Promise<void> {}

  private async run(batch: { records: RecordEntry[]; ifAbsent: boolean; trims: object[]; budget?: object }): Promise<BudgetOutcome> {
    const [deleted, deletedEarly] = (await WRITE_RECORDS.run(this.redis, [], [this.keyPrefix, JSON.stringify(batch)])) as [number, number];
    return { deleted, deletedEarly };
  }

  private recordKey(id: string): string {
    return `${this.keyPrefix}record:${id}`;
  }

  private originKey(origin: string, originId: string): string {
    return `${this.keyPrefix}records:origin:${origin}:${originId}`;
  }
}

function entryOf(record: TaskRecord): RecordEntry {
  const row = toRow(record);
  return {
    id: record.id,
    origin: record.origin,
    originId: record.originId,
    finished: FINISHED_STATUSES.includes(record.status),
    // A finished record without an end time (a skip) ended when triggered.
    ended: record.endTime ?? record.triggerTime,
    bytes: storedBytes(row),
    row: JSON.stringify(row),
  };
}

/** A record's size as the byte budget counts it: the same sum as SQLite's STORED_BYTES. */
function storedBytes(row: RecordRow): number {
  const texts = [row.kwargs, row.exception_text, row.traceback, row.return_value, row.print_logs];
  return texts.reduce((sum, text) => sum + (text === null ? 0 : Buffer.byteLength(text)), RECORD_OVERHEAD_BYTES);
}

function trimEntry({ origin, originId, keep, keepEndedSince }: TrimRequest): object {
  return { origin, originId, keep, ...(keepEndedSince !== undefined && { since: keepEndedSince }) };
}

/** The budget with the origins that hold nothing left out (Lua's JSON has no usable null). */
function budgetEntry({ maxBytes, keepEndedSince }: StoreBudget): object {
  const held = Object.fromEntries(Object.entries(keepEndedSince).filter(([, since]) => since !== null));
  return { maxBytes, held };
}
