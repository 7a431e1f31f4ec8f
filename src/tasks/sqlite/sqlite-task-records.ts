import type { Statement } from 'better-sqlite3';
import type { TaskRecordStore } from '../ports.js';
import type { SqliteDatabase } from './database.js';
import { fromRow, RECORD_COLUMNS, type RecordRow, toRow } from './record-rows.js';
import { FINISHED_STATUSES, type TaskRecord, type TaskRecordPage, type TaskRecordQuery } from '../../model/task-record.js';

const FINISHED_LIST = FINISHED_STATUSES.map((status) => `'${status}'`).join(', ');

/** Task records in the data dir's SQLite database. */
export class SqliteTaskRecords implements TaskRecordStore {
  private readonly upsert: Statement<RecordRow>;
  private readonly byId: Statement<[string], RecordRow>;
  private readonly trimStatement: Statement<{ origin: string; originId: string; keep: number }>;
  private readonly saveAll: (records: readonly TaskRecord[]) => void;

  constructor(private readonly db: SqliteDatabase) {
    const columns = RECORD_COLUMNS.join(', ');
    const values = RECORD_COLUMNS.map((column) => `@${column}`).join(', ');
    const updates = RECORD_COLUMNS.filter((column) => column !== 'id')
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    this.upsert = db.prepare(`INSERT INTO task_records (${columns}) VALUES (${values}) ON CONFLICT (id) DO UPDATE SET ${updates}`);
    this.byId = db.prepare('SELECT * FROM task_records WHERE id = ?');
    // Finished records of one origin beyond the newest `keep` of them; queued and running ones stay.
    this.trimStatement = db.prepare(
      `DELETE FROM task_records WHERE origin = @origin AND origin_id = @originId AND status IN (${FINISHED_LIST})
         AND seq <= (SELECT seq FROM task_records WHERE origin = @origin AND origin_id = @originId AND status IN (${FINISHED_LIST})
                     ORDER BY seq DESC LIMIT 1 OFFSET @keep)`,
    );
    this.saveAll = db.transaction((records: readonly TaskRecord[]) => {
      for (const record of records) this.upsert.run(toRow(record));
    });
  }

  save(records: readonly TaskRecord[]): void {
    if (records.length > 0) this.saveAll(records);
  }

  get(id: string): TaskRecord | undefined {
    const row = this.byId.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  list(query: TaskRecordQuery): TaskRecordPage {
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
    const sql = `SELECT * FROM task_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    const rows = this.db.prepare<Record<string, string | number>, RecordRow>(sql).all(params);
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    return { records: page.map(fromRow), next: more ? String(page[page.length - 1]!.seq) : null };
  }

  trim(origin: TaskRecord['origin'], originId: string, keep: number): void {
    this.trimStatement.run({ origin, originId, keep });
  }
}
