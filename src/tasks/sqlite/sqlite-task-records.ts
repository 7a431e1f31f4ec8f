import type { Statement } from 'better-sqlite3';
import type { BudgetOutcome, StoreBudget, TaskRecordStore } from '../ports.js';
import type { SqliteDatabase } from './database.js';
import { fromRow, RECORD_COLUMNS, type RecordRow, toRow } from './record-rows.js';
import { FINISHED_STATUSES, type TaskOrigin, type TaskRecord, type TaskRecordPage, type TaskRecordQuery } from '../../model/task-record.js';

const FINISHED_LIST = FINISHED_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * A record's size as the byte budget counts it, from the bound row (the same sum migration 3
 * wrote for older rows): its texts in UTF-8 bytes, plus ~200 bytes for the rest and its index.
 */
const STORED_BYTES = `200 + octet_length(@kwargs) + coalesce(octet_length(@exception_text), 0) + coalesce(octet_length(@traceback), 0)
  + coalesce(octet_length(@return_value), 0) + coalesce(octet_length(@print_logs), 0)`;

/** When a record ended; a finished record without an end time (a skip) ended when triggered. */
const ENDED = 'coalesce(end_time, trigger_time)';

/** Whether a finished record is still held by its origin's `keepEndedSince` (named parameters). */
const HELD = `${ENDED} >= coalesce(CASE origin WHEN 'syncAPI' THEN @syncAPI WHEN 'asyncAPI' THEN @asyncAPI
  WHEN 'cronJob' THEN @cronJob WHEN 'manual' THEN @manual END, ${Number.MAX_SAFE_INTEGER})`;

type HeldSince = Record<TaskOrigin, number | null>;
type SizedRow = { seq: number; stored_bytes: number };
/** Rows read at a time while looking for the oldest records that free enough bytes. */
const SIZE_CHUNK = 64;

/** Task records in the data dir's SQLite database. */
export class SqliteTaskRecords implements TaskRecordStore {
  private readonly upsert: Statement<RecordRow>;
  private readonly byId: Statement<[string], RecordRow>;
  private readonly trimStatement: Statement<{ origin: string; originId: string; keep: number; keepEndedSince: number | null }>;
  private readonly saveAll: (records: readonly TaskRecord[]) => void;
  private readonly totalBytes: Statement<[], { total: number }>;
  /** Finished records after seq `after`, oldest first: those no longer held, or (`Any`) all of them. */
  private readonly oldestLoose: Statement<HeldSince & { after: number }, SizedRow>;
  private readonly oldestAny: Statement<{ after: number }, SizedRow>;
  private readonly deleteLoose: Statement<HeldSince & { last: number }>;
  private readonly deleteAny: Statement<{ last: number }>;

  constructor(private readonly db: SqliteDatabase) {
    const columns = RECORD_COLUMNS.join(', ');
    const values = RECORD_COLUMNS.map((column) => `@${column}`).join(', ');
    const updates = RECORD_COLUMNS.filter((column) => column !== 'id')
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    this.upsert = db.prepare(
      `INSERT INTO task_records (${columns}, stored_bytes) VALUES (${values}, ${STORED_BYTES})
         ON CONFLICT (id) DO UPDATE SET ${updates}, stored_bytes = excluded.stored_bytes`,
    );
    this.byId = db.prepare('SELECT * FROM task_records WHERE id = ?');
    // Finished records of one origin beyond the newest `keep` of them, unless they ended at or
    // after `keepEndedSince`; queued and running ones stay.
    this.trimStatement = db.prepare(
      `DELETE FROM task_records WHERE origin = @origin AND origin_id = @originId AND status IN (${FINISHED_LIST})
         AND (@keepEndedSince IS NULL OR ${ENDED} < @keepEndedSince)
         AND seq <= (SELECT seq FROM task_records WHERE origin = @origin AND origin_id = @originId AND status IN (${FINISHED_LIST})
                     ORDER BY seq DESC LIMIT 1 OFFSET @keep)`,
    );
    this.totalBytes = db.prepare('SELECT total FROM record_bytes');
    const finished = `status IN (${FINISHED_LIST})`;
    const oldest = (where: string): string =>
      `SELECT seq, stored_bytes FROM task_records WHERE seq > @after AND ${where} ORDER BY seq LIMIT ${SIZE_CHUNK}`;
    this.oldestLoose = db.prepare(oldest(`${finished} AND NOT (${HELD})`));
    this.oldestAny = db.prepare(oldest(finished));
    this.deleteLoose = db.prepare(`DELETE FROM task_records WHERE seq <= @last AND ${finished} AND NOT (${HELD})`);
    this.deleteAny = db.prepare(`DELETE FROM task_records WHERE seq <= @last AND ${finished}`);
    this.saveAll = db.transaction((records: readonly TaskRecord[]) => {
      for (const record of records) this.upsert.run(toRow(record));
    });
  }

  save(records: readonly TaskRecord[]): void {
    if (records.length > 0) this.saveAll(records);
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const row = this.byId.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  async list(query: TaskRecordQuery): Promise<TaskRecordPage> {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit + 1 };
    const filters = { func_id: query.funcId, origin: query.origin, origin_id: query.originId, status: query.status };
    for (const [column, value] of Object.entries(filters)) {
      if (value === undefined) continue;
      where.push(`${column} = @${column}`);
      params[column] = value;
    }
    if (query.before !== undefined) {
      where.push('seq < @before');
      params.before = Number(query.before);
    }
    if (query.endedSince !== undefined) {
      // A scan, like the other filters: trimming keeps the table small (see migration 1).
      where.push(`status IN (${FINISHED_LIST}) AND ${ENDED} >= @ended_since`);
      params.ended_since = query.endedSince;
    }
    const sql = `SELECT * FROM task_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    const rows = this.db.prepare<Record<string, string | number>, RecordRow>(sql).all(params);
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    return { records: page.map(fromRow), next: more ? String(page[page.length - 1]!.seq) : null };
  }

  trim(origin: TaskOrigin, originId: string, keep: number, keepEndedSince?: number): void {
    this.trimStatement.run({ origin, originId, keep, keepEndedSince: keepEndedSince ?? null });
  }

  fitBudget(budget: StoreBudget): BudgetOutcome {
    let excess = this.totalBytes.get()!.total - budget.maxBytes;
    if (excess <= 0) return { deleted: 0, deletedEarly: 0 };
    const held = { ...budget.keepEndedSince };
    const loose = oldestCovering((after) => this.oldestLoose.all({ ...held, after }), excess);
    const deleted = loose === undefined ? 0 : this.deleteLoose.run({ ...held, last: loose }).changes;
    excess = this.totalBytes.get()!.total - budget.maxBytes;
    if (excess <= 0) return { deleted, deletedEarly: 0 };
    // Records past keepSeconds were not enough: the budget is too small for the load.
    const any = oldestCovering((after) => this.oldestAny.all({ after }), excess);
    const deletedEarly = any === undefined ? 0 : this.deleteAny.run({ last: any }).changes;
    return { deleted: deleted + deletedEarly, deletedEarly };
  }
}

/**
 * The seq up to which the oldest rows free at least `bytes`, or the last one if all of them
 * cannot; read a chunk at a time (`rowsAfter(seq)`), since usually a few rows are enough.
 */
function oldestCovering(rowsAfter: (seq: number) => SizedRow[], bytes: number): number | undefined {
  let freed = 0;
  let last: number | undefined;
  for (;;) {
    const rows = rowsAfter(last ?? 0);
    for (const row of rows) {
      freed += row.stored_bytes;
      last = row.seq;
      if (freed >= bytes) return last;
    }
    if (rows.length < SIZE_CHUNK) return last;
  }
}
