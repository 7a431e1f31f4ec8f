import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import { type CachedResult, type ResultCache, resultCacheKey } from '../cache/result-cache.js';
import type { SecretMask } from '../access/secret-mask.js';
import type { InFlight } from '../in-flight.js';
import type { Invocation, Invoker } from '../invocation/invoker.js';
import type { Logger } from '../log.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import type { CallResult } from '../runtime/pool.js';
import { recordOfCall, recordWhenEnded } from '../tasks/record-of-call.js';
import type { RecordWriter } from '../tasks/record-writer.js';
import { acquireRevision, type CallReading, readApiCall, registerCallRoutes } from './api-call.js';
import { ApiError, ApiErrors, toApiError } from './api-error.js';
import { checkResponse, type PreparedResponse, prepareResponse, sendPrepared } from './controlled-response.js';
import { type CorsPolicy, registerPreflight } from './cors.js';
import { type RequestScope, sendApiError, sendBody, startScope } from './respond.js';

export interface SyncApiDeps {
  holder: RevisionHolder;
  invoker: Invoker;
  logger: Logger;
  /** Body limits, access checks and uploads of a call. */
  reading: CallReading;
  records: RecordWriter;
  /** Counts calls being answered, for a shutdown to wait on. */
  calls: InFlight;
  /** Results of APIs whose function sets `cache_result`. */
  resultCache: ResultCache;
  /** Undefined when CORS is off. */
  cors: CorsPolicy | undefined;
}

const PREFIXES = ['/api/v1/al', '/api/v1/sync'];

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
/** Logged (never sent) for a call dropped because its client hung up before it started. */
const CLIENT_GONE = 499;

/** Maps a call's outcome to the HTTP answer (CONTRACT sections 3 and 5). */
function sendResult(res: ServerResponse, scope: RequestScope, result: CallResult, timeoutSeconds: number, mask: SecretMask | undefined): number {
  switch (result.kind) {
    case 'json':
      sendBody(res, scope, 200, JSON_TYPE, result.body);
      return 200;
    case 'text':
      sendBody(res, scope, 200, TEXT_TYPE, result.body);
      return 200;
    case 'error': {
      const detail = { ...result.error.data };
      if (mask !== undefined) {
        detail.exception = mask(detail.exception);
        detail.traceback = mask(detail.traceback);
      }
      return fail(res, scope, new ApiError(ApiErrors.funcFailed, `Function raised ${detail.exception}`, detail));
    }
    case 'timeout':
      return fail(res, scope, new ApiError(ApiErrors.funcTimeout, `Function did not finish within ${timeoutSeconds} s`, { timeout: timeoutSeconds }));
    case 'busy':
      return fail(res, scope, new ApiError(ApiErrors.busy, 'Every worker is busy and the call queue is full; retry shortly', {}, { 'Retry-After': '1' }));
    case 'crashed':
      return fail(res, scope, new ApiError(ApiErrors.workerFailed, 'The worker running this call failed', {}));
    case 'abandoned':
      // The client is gone; 499 (client closed request) is only for the log line.
      return CLIENT_GONE;
    case 'response':
      throw new Error('a response result is sent through sendPrepared');
  }
}

/** A result `cache_result` may keep: a success that is not a file (files may change or go). */
function cacheable(result: CallResult, prepared: PreparedResponse | undefined): CachedResult | undefined {
  if (result.kind === 'json' || result.kind === 'text') return { kind: result.kind, body: result.body };
  if (result.kind === 'response' && prepared?.file === undefined) return { kind: 'response', body: result.body };
  return undefined;
}

/** Answers a call from the result cache; the function does not run, so no task id. */
async function sendCached(res: ServerResponse, scope: RequestScope, cached: CachedResult, revisionDir: string): Promise<number> {
  scope.cached = true;
  if (cached.kind !== 'response') return sendResult(res, scope, { ...cached, log: null }, 0, undefined);
  const prepared = await prepareResponse(cached.body, { revisionDir });
  await sendPrepared(res, scope, prepared);
  return prepared.status;
}

/** 503.1 for a call past its API's maxConcurrency. */
function overConcurrency(apiId: string, max: number): ApiError {
  return new ApiError(
    ApiErrors.busy,
    `API '${apiId}' already runs its maximum of ${max} concurrent calls; retry shortly`,
    { maxConcurrency: max },
    { 'Retry-After': '1' },
  );
}

function fail(res: ServerResponse, scope: RequestScope, error: ApiError): number {
  sendApiError(res, scope, error);
  return error.status;
}

/** Registers `/api/v1/al/:id` and `/api/v1/sync/:id`, in every call form. */
export function registerSyncApi(app: Polka, deps: SyncApiDeps): void {
  const handler = (req: Request, res: ServerResponse): Promise<void> => handleSyncCall(deps, req, res);
  registerCallRoutes(app, PREFIXES, handler);
  registerPreflight(app, PREFIXES, deps.cors, () => deps.holder.current?.syncApis);
}

/**
 * Records a call that ran, whatever happens to the response (the client may be gone already),
 * and keeps a cacheable result. A call refused as busy, or dropped because its client hung up
 * first, never ran: no record. A timed-out one is recorded once its worker stopped, with the
 * output printed until then.
 */
function recordAndKeep(
  deps: SyncApiDeps,
  call: Invocation,
  revision: Revision,
  triggerTime: number,
  result: CallResult,
  prepared: PreparedResponse | undefined,
  cacheKey: string | undefined,
): void {
  const { commit, mask } = revision;
  if (result.kind === 'timeout') void recordWhenEnded(call, commit, triggerTime, result, mask).then((record) => deps.records.add(record));
  else if (result.kind !== 'busy' && result.kind !== 'abandoned') deps.records.add(recordOfCall(call, commit, triggerTime, result, undefined, mask));
  if (cacheKey === undefined) return;
  const keep = cacheable(result, prepared);
  if (keep !== undefined) void deps.resultCache.set(cacheKey, keep, call.cacheResultSeconds! * 1000);
}

/** Runs the call and answers with its result; returns the status sent. */
async function runAndAnswer(
  deps: SyncApiDeps,
  res: ServerResponse,
  scope: RequestScope,
  revision: Revision,
  call: Invocation,
  triggerTime: number,
  cacheKey: string | undefined,
): Promise<number> {
  const limit = call.concurrency;
  if (limit !== undefined && !limit.tryEnter()) return fail(res, scope, overConcurrency(call.originId, limit.max));
  let result = await deps.invoker.run(revision, call, 'sync', res.socket ?? undefined);
  // A timed-out call holds its worker until Python stops: its place is freed only then.
  if (limit !== undefined) {
    if (result.kind === 'timeout') void result.ended.then(() => limit.leave());
    else limit.leave();
  }
  let prepared: PreparedResponse | undefined;
  if (result.kind === 'response') ({ result, prepared } = await checkResponse(result, { revisionDir: revision.dir, uploadDir: call.uploadDir }));
  recordAndKeep(deps, call, revision, triggerTime, result, prepared, cacheKey);
  if (prepared === undefined) {
    // A sync call's uploads live as long as the call: gone before the caller hears back.
    if (call.uploadDir !== undefined) await deps.reading.uploads.folders.remove(call.taskId);
    return sendResult(res, scope, result, call.timeoutSeconds, revision.mask);
  }
  // DFF.RESP_FILE may stream a file of the upload folder: it goes once the answer is sent.
  await sendPrepared(res, scope, prepared);
  return prepared.status;
}

async function handleSyncCall(deps: SyncApiDeps, req: Request, res: ServerResponse): Promise<void> {
  deps.calls.enter();
  const scope = startScope(req);
  if (deps.cors !== undefined) scope.cors = deps.cors.headersFor(req);
  const triggerTime = Date.now();
  let revision: Revision | undefined;
  let status: number;
  try {
    revision = acquireRevision(deps.holder);
    const call = await readApiCall(req, revision.syncApis, 'syncAPI', deps.reading);
    // Only calls of an API whose function sets cache_result (without uploads) look here.
    const cacheKey = call.cacheResultSeconds !== undefined && call.uploadDir === undefined ? resultCacheKey(revision.commit, call) : undefined;
    const cached = cacheKey === undefined ? undefined : await deps.resultCache.get(cacheKey);
    if (cached !== undefined) {
      status = await sendCached(res, scope, cached, revision.dir);
    } else {
      scope.taskId = call.taskId;
      try {
        status = await runAndAnswer(deps, res, scope, revision, call, triggerTime, cacheKey);
      } finally {
        // Already gone unless the answer streamed a file (or failed): see runAndAnswer.
        if (call.uploadDir !== undefined) await deps.reading.uploads.folders.remove(call.taskId);
      }
    }
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError === undefined) throw error;
    status = fail(res, scope, apiError);
  } finally {
    if (revision) deps.holder.release(revision);
    deps.calls.leave();
  }
  deps.logger.info(
    {
      traceId: scope.traceId,
      apiId: req.params.id,
      taskId: scope.taskId,
      status,
      ms: Math.round(performance.now() - scope.startedAt),
      commit: revision?.commit,
    },
    'sync call',
  );
}
