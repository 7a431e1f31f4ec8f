/** A task record: one run of a function, whatever started it (CONTRACT section 8). */

/** Where a run came from. */
export type TaskOrigin = 'syncAPI' | 'asyncAPI' | 'cronJob' | 'manual';

export type TaskStatus = 'queued' | 'running' | 'success' | 'failure' | 'timeout' | 'skip' | 'cancelled';

/** Statuses a run ends in; records in them may be trimmed. */
export const FINISHED_STATUSES: readonly TaskStatus[] = ['success', 'failure', 'timeout', 'skip', 'cancelled'];

export interface TaskRecord {
  /** `task-` + an unguessable random id. */
  id: string;
  funcId: string;
  origin: TaskOrigin;
  /** The API id or cron job id that started it. */
  originId: string;
  kwargs: Record<string, unknown>;
  /** The commit that served it (the one current when it was accepted, until it runs). */
  commit: string;
  /** Epoch ms: when it was asked for (the request, or the cron job's scheduled time). */
  triggerTime: number;
  startTime?: number;
  endTime?: number;
  /** 1, or more after a crash re-run. */
  attempt: number;
  status: TaskStatus;
  exceptionType?: string;
  exceptionText?: string;
  /** User-script frames only. */
  traceback?: string;
  /** The function's result as JSON text (a str result is a JSON string), kept as text so the
   * sync path never parses a result only to store it. */
  returnValueJson?: string;
  /** Captured `print` output, each line prefixed with its time and elapsed ms. */
  printLogs?: string;
}

/**
 * A record as the API answers it (`GET /api/v1/tasks/:id`, `GET /api/v1/task-records`) and the
 * CLI and the dashboard read it: the return value parsed from its JSON text.
 */
export type TaskRecordView = Omit<TaskRecord, 'returnValueJson'> & { returnValue?: unknown };

/** Filters of `GET /api/v1/task-records`; newest first. */
export interface TaskRecordQuery {
  funcId?: string;
  origin?: TaskOrigin;
  originId?: string;
  status?: TaskStatus;
  limit: number;
  /** A page cursor from the previous page's `next`. */
  before?: string;
  /** Only finished records that ended at or after this (epoch ms; a skip ends when triggered). */
  endedSince?: number;
}

export interface TaskRecordPage {
  records: TaskRecord[];
  /** Cursor for the next (older) page, or null on the last one. */
  next: string | null;
}
