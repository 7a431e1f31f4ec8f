import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { InFlight } from '../in-flight.js';
import type { Invoker } from '../invocation/invoker.js';
import type { Logger } from '../log.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import type { CallResult } from '../runtime/pool.js';
import { recordOfCall, recordWhenEnded } from '../tasks/record-of-call.js';
import type { RecordWriter } from '../tasks/record-writer.js';
import { acquireRevision, readApiCall, registerCallRoutes } from './api-call.js';
import { ApiError, ApiErrors } from './api-error.js';
import { type RequestScope, sendApiError, sendBody, startScope } from './respond.js';
import type { UploadSupport } from './upload-call.js';

export interface SyncApiDeps {
  holder: RevisionHolder;
  invoker: Invoker;
  logger: Logger;
  bodyLimitBytes: number;
  records: RecordWriter;
  /** Counts calls being answered, for a shutdown to wait on. */
  calls: InFlight;
  uploads: UploadSupport;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** Maps a call's outcome to the HTTP answer (CONTRACT sections 3 and 5). */
function sendResult(res: ServerResponse, scope: RequestScope, result: CallResult, timeoutSeconds: number): number {
  switch (result.kind) {
    case 'json':
      sendBody(res, scope, 200, JSON_TYPE, result.body);
      return 200;
    case 'text':
      sendBody(res, scope, 200, TEXT_TYPE, result.body);
      return 200;
    case 'error': {
      const detail = JSON.parse(result.body) as { exception: string; traceback: string };
      return fail(res, scope, new ApiError(ApiErrors.funcFailed, `Function raised ${detail.exception}`, detail));
    }
    case 'timeout':
      return fail(res, scope, new ApiError(ApiErrors.funcTimeout, `Function did not finish within ${timeoutSeconds} s`, { timeout: timeoutSeconds }));
    case 'busy':
      return fail(res, scope, new ApiError(ApiErrors.busy, 'Every worker is busy and the call queue is full; retry shortly', {}, { 'Retry-After': '1' }));
    case 'crashed':
      return fail(res, scope, new ApiError(ApiErrors.workerFailed, 'The worker running this call failed', {}));
  }
}

function fail(res: ServerResponse, scope: RequestScope, error: ApiError): number {
  sendApiError(res, scope, error);
  return error.status;
}

/** Registers `/api/v1/al/:id` and `/api/v1/sync/:id`, in every call form. */
export function registerSyncApi(app: Polka, deps: SyncApiDeps): void {
  const handler = (req: Request, res: ServerResponse): Promise<void> => handleSyncCall(deps, req, res);
  registerCallRoutes(app, ['/api/v1/al', '/api/v1/sync'], handler);
}

async function handleSyncCall(deps: SyncApiDeps, req: Request, res: ServerResponse): Promise<void> {
  deps.calls.enter();
  const scope = startScope(req);
  const triggerTime = Date.now();
  let revision: Revision | undefined;
  let status: number;
  try {
    revision = acquireRevision(deps.holder);
    const call = await readApiCall(req, revision.syncApis, 'syncAPI', deps.bodyLimitBytes, deps.uploads);
    scope.taskId = call.taskId;
    const result = await deps.invoker.run(revision, call);
    // A sync call's uploads live as long as the call: gone before the caller hears back.
    if (call.uploadDir !== undefined) await deps.uploads.folders.remove(call.taskId);
    // Recorded whatever happens to the response: the client may be gone already. A call
    // refused as busy never ran: no record. A timed-out one is recorded once its worker
    // stopped, with the output printed until then.
    const commit = revision.commit;
    if (result.kind === 'timeout') void recordWhenEnded(call, commit, triggerTime, result).then((record) => deps.records.add(record));
    else if (result.kind !== 'busy') deps.records.add(recordOfCall(call, commit, triggerTime, result));
    status = sendResult(res, scope, result, call.timeoutSeconds);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    status = fail(res, scope, error);
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
