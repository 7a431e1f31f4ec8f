import type { IncomingMessage } from 'node:http';
import type { Request } from 'polka';
import { parseCallOptions } from '../invocation/call-options.js';
import { mergeKwargs, refuseUnknownKwargs } from '../invocation/merge-kwargs.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { ApiEndpoint, Revision } from '../revision/revision.js';
import { ScriptImportFailed } from '../revision/script-failures.js';
import { closestName } from '../closest-name.js';
import { ApiError, ApiErrors } from './api-error.js';
import { callFormOf, callInputFrom, multipartInput, type ReadBody } from './call-input.js';
import { admitCall, type CallGate } from './call-gate.js';
import { readRequestBody } from './request-body.js';
import { receiveUpload, type ReceivedUpload, type UploadSupport } from './upload-call.js';
import type { Invocation, ScriptHttpRequest } from '../model/invocation.js';
import { scriptRequest } from './script-request.js';
import { newTaskId } from '../model/task-id.js';

const NO_BODY: ReadBody = { kind: 'none' };

type Query = Record<string, string | string[]>;

/** How API routes read a call: body limits, access checks, uploads. */
export interface CallReading {
  bodyLimitBytes: number;
  gate: CallGate;
  uploads: UploadSupport;
  /** Read the client's address, host and protocol from X-Forwarded-* headers (settings' trustProxy). */
  trustProxy: boolean;
}

/** Reads the body of a call; an upload's files land in `received.upload`. */
async function readCallBody(req: Request, taskId: string, reading: CallReading, received: { upload?: ReceivedUpload }): Promise<ReadBody> {
  if (req.method === 'GET') return NO_BODY;
  const body = await readRequestBody(req as IncomingMessage, reading.bodyLimitBytes);
  if (body.kind !== 'multipart') return body;
  if (req.params.form === undefined) throw new ApiError(ApiErrors.badRequest, `Multipart uploads go to ${req.path}/s, /simplified or /normal`);
  received.upload = await receiveUpload(req as IncomingMessage, taskId, reading.uploads);
  // Its text fields pass the access checks as a form body's would (a body-field auth).
  return { kind: 'form', value: received.upload.fields };
}

/** The served revision, or 503.2 before one is loaded. Pair with `holder.release`. */
export function acquireRevision(holder: RevisionHolder): Revision {
  const revision = holder.acquire();
  if (revision === undefined) {
    throw new ApiError(ApiErrors.notReady, 'No revision is loaded yet; retry shortly', {}, { 'Retry-After': '1' });
  }
  return revision;
}

const KIND = { syncAPI: 'sync', asyncAPI: 'async' } as const;
const ROUTE = { syncAPI: '/api/v1/al', asyncAPI: '/api/v1/bat' } as const;

/**
 * What a caller of an unknown API id likely meant: the same id on the other route kind (an
 * async API called on `/al/`, or the reverse), else a close id of this kind.
 */
function apiHint(apiId: string, origin: 'syncAPI' | 'asyncAPI', revision: Revision): string {
  const other = origin === 'syncAPI' ? 'asyncAPI' : 'syncAPI';
  if ((other === 'syncAPI' ? revision.syncApis : revision.asyncApis).has(apiId)) {
    return `: '${apiId}' is ${other === 'asyncAPI' ? 'an async' : 'a sync'} API, call it at ${ROUTE[other]}/${apiId}`;
  }
  const close = closestName(apiId, (origin === 'syncAPI' ? revision.syncApis : revision.asyncApis).keys());
  return close === undefined ? '' : ` (did you mean '${close}'?)`;
}

/** @throws ScriptImportFailed (503.3) when the endpoint's script was left out of its revision. */
function refuseFailedScript(endpoint: ApiEndpoint): void {
  if (endpoint.scriptFailure !== undefined) throw new ScriptImportFailed(endpoint.scriptFailure);
}

/**
 * Reads an API call (any call form, CONTRACT sections 3 and 4) into an invocation of the API
 * it names, after the API's access checks. Throws ApiError for a refused call or a bad call
 * form, body, kwargs or options; a refused upload leaves no folder behind.
 */
export async function readApiCall(req: Request, revision: Revision, origin: 'syncAPI' | 'asyncAPI', reading: CallReading): Promise<Invocation> {
  const apis = origin === 'syncAPI' ? revision.syncApis : revision.asyncApis;
  const apiId = req.params.id!;
  const form = callFormOf(req.params.form);
  const endpoint = apis.get(apiId);
  if (endpoint === undefined) throw new ApiError(ApiErrors.notFound, `No ${KIND[origin]} API '${apiId}'${apiHint(apiId, origin, revision)}`);
  if (form === undefined) throw new ApiError(ApiErrors.notFound, `No ${KIND[origin]} API '${apiId}' with call form '${req.params.form}'`);
  const taskId = newTaskId();
  const received: { upload?: ReceivedUpload } = {};
  try {
    const access = endpoint.access;
    let query = req.query as Query;
    let body: ReadBody;
    // An API whose script failed to import answers 503.3, once its access checks pass (the
    // import error is not for callers the API would refuse).
    if (access === undefined) {
      refuseFailedScript(endpoint);
      body = await readCallBody(req, taskId, reading, received);
    } else {
      const readBody = (): Promise<ReadBody> => readCallBody(req, taskId, reading, received);
      const authRequest = (q: Query, b: ReadBody): ScriptHttpRequest => scriptRequest(req, q, b, undefined, reading.trustProxy, true);
      ({ query, body } = await admitCall({ req, apiId, access, revision, readBody, authRequest }, reading.gate));
      refuseFailedScript(endpoint);
    }
    const upload = received.upload;
    const input =
      upload === undefined || body.kind !== 'form'
        ? callInputFrom(form, req.method ?? 'GET', query, body)
        : multipartInput(form, { fields: body.value, files: upload.files });
    const options = parseCallOptions(input.options, endpoint.timeoutSeconds);
    const kwargs = mergeKwargs(endpoint.kwargs, input.kwargs);
    refuseUnknownKwargs(kwargs, endpoint.keywordParameters);
    const call: Invocation = {
      taskId,
      funcId: endpoint.funcId,
      origin,
      originId: apiId,
      kwargs,
      returnType: options.returnType,
      timeoutSeconds: options.timeoutSeconds,
      attempt: 1,
      httpRequest: endpoint.usesHttpRequest ? scriptRequest(req, query, body, access?.auth, reading.trustProxy) : undefined,
      uploadDir: upload?.uploadDir,
    };
    // Decided once per revision (build-revision.ts); async calls answer at once and never cache.
    if (endpoint.cacheResultSeconds !== undefined && origin === 'syncAPI') call.cacheResultSeconds = endpoint.cacheResultSeconds;
    if (endpoint.concurrency !== undefined) call.concurrency = endpoint.concurrency;
    // A caller's shorter options.timeout bounds the run, and so the wait too.
    if (endpoint.waitSeconds !== undefined && endpoint.waitSeconds < call.timeoutSeconds) call.waitSeconds = endpoint.waitSeconds;
    return call;
  } catch (error) {
    if (received.upload?.uploadDir !== undefined) await reading.uploads.folders.remove(taskId);
    throw error;
  }
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
