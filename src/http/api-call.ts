import type { IncomingMessage } from 'node:http';
import type { Request } from 'polka';
import { parseCallOptions } from '../invocation/call-options.js';
import { type Invocation, type ScriptHttpRequest, newTaskId } from '../invocation/invoker.js';
import { mergeKwargs } from '../invocation/merge-kwargs.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { ApiEndpoint, Revision } from '../revision/revision.js';
import type { TaskOrigin } from '../tasks/task-record.js';
import { ApiError, ApiErrors } from './api-error.js';
import { callFormOf, callInputFrom } from './call-input.js';
import { readRequestBody, type RequestBody } from './request-body.js';

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

/** The served revision, or 503.2 before one is loaded. Pair with `holder.release`. */
export function acquireRevision(holder: RevisionHolder): Revision {
  const revision = holder.acquire();
  if (revision === undefined) {
    throw new ApiError(ApiErrors.notReady, 'No revision is loaded yet; retry shortly', {}, { 'Retry-After': '1' });
  }
  return revision;
}

/**
 * Reads an API call (any call form, CONTRACT section 3) into an invocation of the API it names.
 * Throws ApiError for a bad call form, body, kwargs or options.
 */
export async function readApiCall(
  req: Request,
  apis: ReadonlyMap<string, ApiEndpoint>,
  origin: TaskOrigin,
  bodyLimitBytes: number,
): Promise<Invocation> {
  const apiId = req.params.id!;
  const form = callFormOf(req.params.form);
  const endpoint = apis.get(apiId);
  if (form === undefined || endpoint === undefined) {
    const kind = origin === 'asyncAPI' ? 'async' : 'sync';
    throw new ApiError(ApiErrors.notFound, `No ${kind} API '${apiId}'${form === undefined ? ` with call form '${req.params.form}'` : ''}`);
  }
  const body = req.method === 'GET' ? NO_BODY : await readRequestBody(req as IncomingMessage, bodyLimitBytes);
  const input = callInputFrom(form, req.method ?? 'GET', req.query as Record<string, string | string[]>, body);
  const options = parseCallOptions(input.options, endpoint.timeoutSeconds);
  const call: Invocation = {
    taskId: newTaskId(),
    funcId: endpoint.funcId,
    origin,
    originId: apiId,
    kwargs: mergeKwargs(endpoint.kwargs, input.kwargs),
    returnType: options.returnType,
    timeoutSeconds: options.timeoutSeconds,
    attempt: 1,
    httpRequest: endpoint.usesHttpRequest ? scriptRequest(req, body) : undefined,
  };
  // Decided once per revision (build-revision.ts); async calls answer at once and never cache.
  if (endpoint.cacheResultSeconds !== undefined && origin === 'syncAPI') call.cacheResultSeconds = endpoint.cacheResultSeconds;
  return call;
}

/** Registers one handler for `<prefix>/:id` and `<prefix>/:id/:form`, GET and POST. */
export function registerCallRoutes(
  app: { get(path: string, handler: unknown): unknown; post(path: string, handler: unknown): unknown },
  prefixes: readonly string[],
  handler: unknown,
): void {
  for (const prefix of prefixes) {
    for (const path of [`${prefix}/:id`, `${prefix}/:id/:form`]) {
      app.get(path, handler);
      app.post(path, handler);
    }
  }
}
