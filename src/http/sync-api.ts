import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { SecretMask } from '../access/secret-mask.js';
import type { InFlight } from '../in-flight.js';
import { type ResultToSend, type SyncAnswer, type SyncCalls } from '../invocation/sync-calls.js';
import type { Logger } from '../log.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { acquireRevision, type CallReading, readApiCall, registerCallRoutes } from './api-call.js';
import { ApiError, ApiErrors, toApiError } from './api-error.js';
import { type CorsPolicy, registerPreflight } from './cors.js';
import { type RequestScope, sendApiError, sendBody, startScope } from './respond.js';
import { sendPrepared } from './send-prepared.js';

export interface SyncApiDeps {
  holder: RevisionHolder;
  /** A call's life once read: cache, concurrency, run, record, uploads. */
  syncCalls: SyncCalls;
  logger: Logger;
  /** Body limits, access checks and uploads of a call. */
  reading: CallReading;
  /** Counts calls being answered, for a shutdown to wait on. */
  calls: InFlight;
  /** Undefined when CORS is off. */
  cors: CorsPolicy | undefined;
}

const PREFIXES = ['/api/v1/al', '/api/v1/sync'];

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
/** Logged (never sent) for a call dropped because its client hung up before it started. */
const CLIENT_GONE = 499;

/** Maps a call's outcome to the HTTP answer (CONTRACT sections 3 and 5). */
function sendResult(
  res: ServerResponse,
  scope: RequestScope,
  result: ResultToSend,
  timeoutSeconds: number,
  mask: SecretMask | undefined,
): number {
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
  }
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

/** Writes a call's answer; returns the status sent. */
async function sendAnswer(res: ServerResponse, scope: RequestScope, answer: SyncAnswer, timeoutSeconds: number, mask: SecretMask | undefined): Promise<number> {
  if (answer.cached) {
    // The function did not run: no task id.
    scope.cached = true;
    scope.taskId = undefined;
  }
  if (answer.kind === 'result') return sendResult(res, scope, answer.result, timeoutSeconds, mask);
  await sendPrepared(res, scope, answer.prepared);
  return answer.prepared.status;
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
    const call = await readApiCall(req, revision, 'syncAPI', deps.reading);
    scope.taskId = call.taskId;
    try {
      const answer = await deps.syncCalls.answer(revision, call, triggerTime, res.socket ?? undefined);
      status = await sendAnswer(res, scope, answer, call.waitSeconds ?? call.timeoutSeconds, revision.mask);
    } finally {
      // Already gone unless the answer streamed a file (or failed): see SyncCalls.answer. Most
      // calls upload nothing, and skip the await (the sync path is benchmarked).
      if (call.uploadDir !== undefined) await deps.syncCalls.end(call);
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
