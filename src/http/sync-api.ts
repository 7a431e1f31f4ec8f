import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { Logger } from '../log.js';
import { parseCallOptions } from '../invocation/call-options.js';
import { type Invocation, type Invoker, type ScriptHttpRequest, newTaskId } from '../invocation/invoker.js';
import { mergeKwargs } from '../invocation/merge-kwargs.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import type { CallResult } from '../runtime/pool.js';
import { ApiError, ApiErrors } from './api-error.js';
import { callFormOf, callInputFrom } from './call-input.js';
import { readRequestBody, type RequestBody } from './request-body.js';
import { type RequestScope, sendApiError, sendBody, startScope } from './respond.js';

export interface SyncApiDeps {
  holder: RevisionHolder;
  invoker: Invoker;
  logger: Logger;
  bodyLimitBytes: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const NO_BODY: RequestBody = { kind: 'none' };
/** Headers a script never sees (CONTRACT section 9). */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function scriptRequest(req: Request, body: RequestBody): ScriptHttpRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HIDDEN_HEADERS.has(name)) headers[name] = value;
  }
  return {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '',
    headers,
    query: req.query,
    body: body.kind === 'json' || body.kind === 'form' || body.kind === 'text' ? body.value : null,
    ip: req.socket.remoteAddress,
  };
}

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
  for (const prefix of ['/api/v1/al', '/api/v1/sync']) {
    for (const path of [`${prefix}/:id`, `${prefix}/:id/:form`]) {
      app.get(path, handler);
      app.post(path, handler);
    }
  }
}

async function handleSyncCall(deps: SyncApiDeps, req: Request, res: ServerResponse): Promise<void> {
  const scope = startScope(req);
  const apiId = req.params.id!;
  let revision: Revision | undefined;
  let status: number;
  try {
    const form = callFormOf(req.params.form);
    revision = deps.holder.acquire();
    if (revision === undefined) {
      throw new ApiError(ApiErrors.notReady, 'No revision is loaded yet; retry shortly', {}, { 'Retry-After': '1' });
    }
    const endpoint = revision.syncApis.get(apiId);
    if (form === undefined || endpoint === undefined) {
      throw new ApiError(ApiErrors.notFound, `No sync API '${apiId}'${form === undefined ? ` with call form '${req.params.form}'` : ''}`);
    }
    const body = req.method === 'GET' ? NO_BODY : await readRequestBody(req as IncomingMessage, deps.bodyLimitBytes);
    const input = callInputFrom(form, req.method ?? 'GET', req.query as Record<string, string | string[]>, body);
    const options = parseCallOptions(input.options, endpoint.timeoutSeconds);
    const call: Invocation = {
      taskId: newTaskId(),
      funcId: endpoint.funcId,
      origin: 'syncAPI',
      originId: apiId,
      kwargs: mergeKwargs(endpoint.kwargs, input.kwargs),
      returnType: options.returnType,
      timeoutSeconds: options.timeoutSeconds,
      attempt: 1,
      httpRequest: endpoint.usesHttpRequest ? scriptRequest(req, body) : undefined,
    };
    scope.taskId = call.taskId;
    status = sendResult(res, scope, await deps.invoker.run(revision, call), options.timeoutSeconds);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    status = fail(res, scope, error);
  } finally {
    if (revision) deps.holder.release(revision);
  }
  deps.logger.info(
    {
      traceId: scope.traceId,
      apiId,
      taskId: scope.taskId,
      status,
      ms: Math.round(performance.now() - scope.startedAt),
      commit: revision?.commit,
    },
    'sync call',
  );
}
