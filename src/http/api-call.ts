import type { IncomingMessage } from 'node:http';
import type { Request } from 'polka';
import { parseCallOptions } from '../invocation/call-options.js';
import { type Invocation, type ScriptHttpRequest, newTaskId } from '../invocation/invoker.js';
import { mergeKwargs } from '../invocation/merge-kwargs.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { ApiEndpoint, Revision } from '../revision/revision.js';
import type { TaskOrigin } from '../tasks/task-record.js';
import { ApiError, ApiErrors } from './api-error.js';
import { type CallForm, type CallInput, callFormOf, callInputFrom, type ReadBody } from './call-input.js';
import { readRequestBody, type RequestBody } from './request-body.js';
import { readUploadInput, type UploadSupport } from './upload-call.js';

const NO_BODY: RequestBody = { kind: 'none' };
/** Headers a script never sees (CONTRACT section 9). */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function scriptRequest(req: Request, body: ReadBody): ScriptHttpRequest {
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
  uploads: UploadSupport,
): Promise<Invocation> {
  const apiId = req.params.id!;
  const form = callFormOf(req.params.form);
  const endpoint = apis.get(apiId);
  if (form === undefined || endpoint === undefined) {
    const kind = origin === 'asyncAPI' ? 'async' : 'sync';
    throw new ApiError(ApiErrors.notFound, `No ${kind} API '${apiId}'${form === undefined ? ` with call form '${req.params.form}'` : ''}`);
  }
  const body = req.method === 'GET' ? NO_BODY : await readRequestBody(req as IncomingMessage, bodyLimitBytes);
  if (body.kind === 'multipart') return readUploadCall(req, endpoint, origin, form, uploads);
  const input = callInputFrom(form, req.method ?? 'GET', req.query as Record<string, string | string[]>, body);
  return invocationOf(req, endpoint, origin, newTaskId(), input, body, undefined);
}

/** A multipart call: its upload folder is removed again if the call is refused. */
async function readUploadCall(req: Request, endpoint: ApiEndpoint, origin: TaskOrigin, form: CallForm, uploads: UploadSupport): Promise<Invocation> {
  if (req.params.form === undefined) {
    throw new ApiError(ApiErrors.badRequest, `Multipart uploads go to ${req.path}/s, /simplified or /normal`);
  }
  const taskId = newTaskId();
  const upload = await readUploadInput(req as IncomingMessage, form, taskId, uploads);
  try {
    return invocationOf(req, endpoint, origin, taskId, upload.input, { kind: 'form', value: upload.fields }, upload.uploadDir);
  } catch (error) {
    if (upload.uploadDir !== undefined) await uploads.folders.remove(taskId);
    throw error;
  }
}

function invocationOf(
  req: Request,
  endpoint: ApiEndpoint,
  origin: TaskOrigin,
  taskId: string,
  input: CallInput,
  body: ReadBody,
  uploadDir: string | undefined,
): Invocation {
  const options = parseCallOptions(input.options, endpoint.timeoutSeconds);
  return {
    taskId,
    funcId: endpoint.funcId,
    origin,
    originId: req.params.id!,
    kwargs: mergeKwargs(endpoint.kwargs, input.kwargs),
    returnType: options.returnType,
    timeoutSeconds: options.timeoutSeconds,
    attempt: 1,
    httpRequest: endpoint.usesHttpRequest ? scriptRequest(req, body) : undefined,
    uploadDir,
  };
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
