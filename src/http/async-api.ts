import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { InFlight } from '../in-flight.js';
import type { AsyncTaskRunner } from '../invocation/async-task-runner.js';
import type { Logger } from '../log.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { acquireRevision, type CallReading, readApiCall, registerCallRoutes } from './api-call.js';
import { toApiError } from './api-error.js';
import { type CorsPolicy, registerPreflight } from './cors.js';
import { sendApiError, sendBody, startScope } from './respond.js';

export interface AsyncApiDeps {
  holder: RevisionHolder;
  /** Queues accepted tasks and runs them. */
  runner: AsyncTaskRunner;
  logger: Logger;
  /** Body limits, access checks and uploads of a call. */
  reading: CallReading;
  /** Counts calls being answered, for a shutdown to wait on. */
  calls: InFlight;
  /** Undefined when CORS is off. */
  cors: CorsPolicy | undefined;
}

const PREFIXES = ['/api/v1/bat', '/api/v1/async'];

/** Registers `/api/v1/bat/:id` and `/api/v1/async/:id`, in every call form (CONTRACT section 6). */
export function registerAsyncApi(app: Polka, deps: AsyncApiDeps): void {
  const handler = (req: Request, res: ServerResponse): Promise<void> => handleAsyncCall(deps, req, res);
  registerCallRoutes(app, PREFIXES, handler);
  registerPreflight(app, PREFIXES, deps.cors, () => deps.holder.current?.asyncApis);
}

/** Queues the call durably, then answers with its task id; the task runs in the background. */
async function handleAsyncCall(deps: AsyncApiDeps, req: Request, res: ServerResponse): Promise<void> {
  deps.calls.enter();
  const scope = startScope(req);
  if (deps.cors !== undefined) scope.cors = deps.cors.headersFor(req);
  let revision: Revision | undefined;
  let status = 200;
  try {
    revision = acquireRevision(deps.holder);
    const call = await readApiCall(req, revision, 'asyncAPI', deps.reading);
    await deps.runner.accept(call, revision.commit);
    scope.taskId = call.taskId;
    sendBody(res, scope, 200, 'application/json; charset=utf-8', JSON.stringify({ ok: true, error: 200, message: '', data: { id: call.taskId } }));
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError === undefined) throw error;
    sendApiError(res, scope, apiError);
    status = apiError.status;
  } finally {
    if (revision) deps.holder.release(revision);
    deps.calls.leave();
  }
  deps.logger.info({ traceId: scope.traceId, apiId: req.params.id, taskId: scope.taskId, status, commit: revision?.commit }, 'async call');
}
