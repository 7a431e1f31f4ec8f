import type { TaskOrigin, TaskRecord, TaskStatus } from '../../model/task-record.js';

/** A `task_records` row. */
export interface RecordRow {
  seq?: number;
  id: string;
  func_id: string;
  origin: string;
  origin_id: string;
  kwargs: string;
  commit_id: string;
  trigger_time: number;
  start_time: number | null;
  end_time: number | null;
  attempt: number;
  status: string;
  exception_type: string | null;
  exception_text: string | null;
  traceback: string | null;
  return_value: string | null;
  print_logs: string | null;
}

/** Columns in insert order; `seq` is assigned by SQLite. */
export const RECORD_COLUMNS = [
  'id',
  'func_id',
  'origin',
  'origin_id',
  'kwargs',
  'commit_id',
  'trigger_time',
  'start_time',
  'end_time',
  'attempt',
  'status',
  'exception_type',
  'exception_text',
  'traceback',
  'return_value',
  'print_logs',
] as const;

export function toRow(record: TaskRecord): RecordRow {
  return {
    id: record.id,
    func_id: record.funcId,
    origin: record.origin,
    origin_id: record.originId,
    kwargs: JSON.stringify(record.kwargs),
    commit_id: record.commit,
    trigger_time: record.triggerTime,
    start_time: record.startTime ?? null,
    end_time: record.endTime ?? null,
    attempt: record.attempt,
    status: record.status,
    exception_type: record.exceptionType ?? null,
    exception_text: record.exceptionText ?? null,
    traceback: record.traceback ?? null,
    return_value: record.returnValueJson ?? null,
    print_logs: record.printLogs ?? null,
  };
}

/** A row as a record; fields in the order the API shows them, absent ones left out. */
export function fromRow(row: RecordRow): TaskRecord {
  return {
    id: row.id,
    funcId: row.func_id,
    origin: row.origin as TaskOrigin,
    originId: row.origin_id,
    kwargs: JSON.parse(row.kwargs) as Record<string, unknown>,
    commit: row.commit_id,
    status: row.status as TaskStatus,
    attempt: row.attempt,
    triggerTime: row.trigger_time,
    ...(row.start_time !== null && { startTime: row.start_time }),
    ...(row.end_time !== null && { endTime: row.end_time }),
    ...(row.exception_type !== null && { exceptionType: row.exception_type }),
    ...(row.exception_text !== null && { exceptionText: row.exception_text }),
    ...(row.traceback !== null && { traceback: row.traceback }),
    ...(row.return_value !== null && { returnValueJson: row.return_value }),
    ...(row.print_logs !== null && { printLogs: row.print_logs }),
  };
}
