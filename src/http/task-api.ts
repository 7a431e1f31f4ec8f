import type { Polka, Request } from 'polka';
import type { TaskCanceller } from '../invocation/task-cancel.js';
import type { TaskRecordStore } from '../tasks/ports.js';
import { type AdminCheck, adminRoute } from './admin-route.js';
import { ApiError, ApiErrors } from './api-error.js';
import type { TaskOrigin, TaskRecord, TaskRecordQuery, TaskRecordView, TaskStatus } from '../model/task-record.js';

export interface TaskApiDeps {
  check: AdminCheck;
  store: TaskRecordStore;
  /** Writes records still buffered, so a read sees every run that has ended. */
  flushPending(): Promise<void>;
  canceller: Pick<TaskCanceller, 'cancel'>;
}

const ORIGINS: readonly TaskOrigin[] = ['syncAPI', 'asyncAPI', 'cronJob', 'manual'];
const STATUSES: readonly TaskStatus[] = ['queued', 'running', 'success', 'failure', 'timeout', 'skip', 'cancelled'];
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 500;

/** A record as the API shows it: the return value as JSON, not JSON text. */
export function recordView(record: TaskRecord): TaskRecordView {
  const { returnValueJson, ...rest } = record;
  return returnValueJson === undefined ? rest : { ...rest, returnValue: JSON.parse(returnValueJson) as unknown };
}

function single(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, string | string[] | undefined>)[name];
  if (Array.isArray(value)) throw new ApiError(ApiErrors.badRequest, `Query parameter '${name}' is given more than once`);
  return value === '' ? undefined : value;
}

function oneOf<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const value = single(req, name);
  if (value !== undefined && !allowed.includes(value as T)) {
    throw new ApiError(ApiErrors.badRequest, `Query parameter '${name}' must be one of ${allowed.join(', ')}`);
  }
  return value as T | undefined;
}

function recordQuery(req: Request): TaskRecordQuery {
  const limitText = single(req, 'limit');
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ApiError(ApiErrors.badRequest, `Query parameter 'limit' must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const before = single(req, 'before');
  if (before !== undefined && !/^\d{1,15}$/.test(before)) {
    throw new ApiError(ApiErrors.badRequest, `Query parameter 'before' must be the 'next' value of a previous page`);
  }
  const endedSince = single(req, 'endedSince');
  if (endedSince !== undefined && !/^\d{1,15}$/.test(endedSince)) {
    throw new ApiError(ApiErrors.badRequest, `Query parameter 'endedSince' must be a time in epoch milliseconds`);
  }
  const query: TaskRecordQuery = { limit };
  const funcId = single(req, 'funcId');
  const originId = single(req, 'originId');
  const origin = oneOf(req, 'origin', ORIGINS);
  const status = oneOf(req, 'status', STATUSES);
  if (funcId !== undefined) query.funcId = funcId;
  if (originId !== undefined) query.originId = originId;
  if (origin !== undefined) query.origin = origin;
  if (status !== undefined) query.status = status;
  if (before !== undefined) query.before = before;
  if (endedSince !== undefined) query.endedSince = Number(endedSince);
  return query;
}

/**
 * `GET /api/v1/tasks/:id`, `GET /api/v1/task-records` (CONTRACT section 8) and
 * `POST /api/v1/tasks/:id/cancel` (a queued or running async task, or a running cron run:
 * its record ends `cancelled`; 409.1 once it ended, 404.41 for an unknown task), admin only.
 */
export function registerTaskApi(app: Polka, deps: TaskApiDeps): void {
  app.get(
    '/api/v1/tasks/:id',
    adminRoute(deps.check, async (req) => {
      await deps.flushPending();
      const record = await deps.store.get(req.params.id!);
      if (record === undefined) throw new ApiError(ApiErrors.notFound, `No task '${req.params.id}'`);
      return recordView(record);
    }),
  );
  app.post(
    '/api/v1/tasks/:id/cancel',
    adminRoute(deps.check, async (req) => {
      req.resume(); // no body is read
      // A cron run's `running` record may still be buffered: a finished task must read as finished.
      await deps.flushPending();
      return { id: req.params.id!, status: await deps.canceller.cancel(req.params.id!) };
    }),
  );
  app.get(
    '/api/v1/task-records',
    adminRoute(deps.check, async (req) => {
      await deps.flushPending();
      const page = await deps.store.list(recordQuery(req));
      return { records: page.records.map(recordView), next: page.next };
    }),
  );
}
