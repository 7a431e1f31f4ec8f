import type { IncomingMessage } from 'node:http';
import { stringify } from 'node:querystring';
import type { Request } from 'polka';
import type { ApiAuthCheck } from '../access/api-auth.js';
import { parseCallOptions } from '../invocation/call-options.js';
import { type Invocation, type ScriptHttpRequest, newTaskId } from '../invocation/invoker.js';
import { mergeKwargs } from '../invocation/merge-kwargs.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { ApiEndpoint, Revision } from '../revision/revision.js';
import type { TaskOrigin } from '../tasks/task-record.js';
import { ApiError, ApiErrors } from './api-error.js';
import { callFormOf, callInputFrom } from './call-input.js';
import { admitCall, type CallGate } from './call-gate.js';
import { readRequestBody, type RequestBody } from './request-body.js';

const NO_BODY: RequestBody = { kind: 'none' };
/** Headers a script never sees (CONTRACT section 9). */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

type Query = Record<string, string | string[]>;

/** The request as `_DFF_HTTP_REQUEST`: without credentials, nor the fields `auth` matched. */
function scriptRequest(req: Request, query: Query, body: RequestBody, auth: ApiAuthCheck | undefined): ScriptHttpRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HIDDEN_HEADERS.has(name) && auth?.headerNames.includes(name) !== true) headers[name] = value;
  }
  const hidesQuery = auth !== undefined && auth.queryNames.length > 0;
  return {
    method: req.method ?? 'GET',
    url: hidesQuery ? urlWithQuery(req.path, query) : (req.originalUrl ?? req.url ?? ''),
    headers,
    query,
    body: body.kind === 'json' || body.kind === 'form' || body.kind === 'text' ? body.value : null,
    ip: req.socket.remoteAddress,
  };
}

function urlWithQuery(path: string, query: Query): string {
  const search = stringify(query);
  return search === '' ? path : `${path}?${search}`;
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
  gate: CallGate,
): Promise<Invocation> {
  const apiId = req.params.id!;
  const form = callFormOf(req.params.form);
  const endpoint = apis.get(apiId);
  if (form === undefined || endpoint === undefined) {
    const kind = origin === 'asyncAPI' ? 'async' : 'sync';
    throw new ApiError(ApiErrors.notFound, `No ${kind} API '${apiId}'${form === undefined ? ` with call form '${req.params.form}'` : ''}`);
  }
  const access = endpoint.access;
  let query = req.query as Query;
  let body: RequestBody;
  if (access === undefined) {
    body = req.method === 'GET' ? NO_BODY : await readRequestBody(req as IncomingMessage, bodyLimitBytes);
  } else {
    const readBody = (): Promise<RequestBody> =>
      req.method === 'GET' ? Promise.resolve(NO_BODY) : readRequestBody(req as IncomingMessage, bodyLimitBytes);
    ({ query, body } = await admitCall(req, apiId, access, gate, readBody));
  }
  const input = callInputFrom(form, req.method ?? 'GET', query, body);
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
    httpRequest: endpoint.usesHttpRequest ? scriptRequest(req, query, body, access?.auth) : undefined,
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
