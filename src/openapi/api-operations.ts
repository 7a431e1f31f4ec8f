/**
 * The OpenAPI paths of one sync or async API, in each call form gitfunc serves (CONTRACT
 * sections 3, 4 and 6): `/<id>` and `/<id>/normal` (`{kwargs, options}`), `/<id>/simplified`
 * and its short `/<id>/s` (the query or the body is the kwargs).
 */
import type { ApiErrorCode } from '../errors/catalog.js';
import type { FunctionInfo } from '../model/function-info.js';
import type { ApiEndpoint } from '../revision/revision.js';
import { type AuthDoc, authDoc } from './api-security.js';
import { errorResponses } from './error-responses.js';
import { type CallerKwargs, callerKwargs, kwargsSchema, type Schema, textFieldsSchema } from './kwargs-schema.js';

export type ApiKind = 'sync' | 'async';

/** Where each kind is called; `/api/v1/sync` and `/api/v1/async` answer the same. */
export const API_PREFIX: Readonly<Record<ApiKind, string>> = Object.freeze({ sync: '/api/v1/al', async: '/api/v1/bat' });

export const ASYNC_ACCEPTED_REF = '#/components/schemas/AsyncAccepted';

/** The paths of one API, and the security schemes they name. */
export interface ApiPaths {
  paths: Record<string, Schema>;
  schemes: Record<string, Schema>;
}

/** Everything an operation of this API shares, worked out once. */
interface ApiContext {
  endpoint: ApiEndpoint;
  kind: ApiKind;
  title: string;
  kwargs: CallerKwargs;
  auth?: AuthDoc;
  description: string;
}

function optionsSchema(timeoutSeconds: number): Schema {
  return {
    type: 'object',
    properties: {
      returnType: { enum: ['raw', 'jsonDumps'], default: 'raw' },
      timeout: { type: 'number', exclusiveMinimum: 0, maximum: timeoutSeconds, description: 'seconds, at most the API\'s own' },
    },
    additionalProperties: false,
  };
}

/** The catalog codes a call of this API can answer with. */
function errorCodes(api: ApiContext, uploads: boolean): ApiErrorCode[] {
  const codes: ApiErrorCode[] = ['BAD_REQUEST', 'NOT_FOUND', 'BODY_TOO_LARGE'];
  if (uploads) codes.push('UPLOAD_FILE_TOO_LARGE', 'UPLOAD_TOO_MANY_FILES');
  const access = api.endpoint.access;
  if (access?.auth !== undefined) codes.push('AUTH_FAILED');
  if (access !== undefined && (access.disabled || access.expiresAt !== undefined)) codes.push('API_DISABLED');
  if (access?.throttle !== undefined) codes.push('THROTTLED');
  if (api.kind === 'async') codes.push('ASYNC_QUEUE_FULL', 'SERVER_NOT_READY');
  else {
    codes.push('SERVER_BUSY', 'SERVER_NOT_READY', 'FUNC_FAILED', 'FUNC_TIMEOUT', 'WORKER_FAILED');
    if (api.endpoint.concurrency !== undefined) codes.push('API_CONCURRENCY_LIMIT');
  }
  return codes;
}

function successResponse(kind: ApiKind): Schema {
  const taskId = { 'X-Task-Id': { description: 'the id of the call\'s task record', schema: { type: 'string' } } };
  if (kind === 'async') {
    return { description: 'Queued: `data.id` is the task id (read it back at `/api/v1/tasks/{id}`, admin)', headers: taskId, content: { 'application/json': { schema: { $ref: ASYNC_ACCEPTED_REF } } } };
  }
  return {
    description: 'The function\'s return value: a dict, list, bool or None as JSON, a str as text, a number as its text',
    headers: taskId,
    content: { 'application/json': { schema: {} }, 'text/plain': { schema: { type: 'string' } } },
  };
}

/** Query parameters of the simplified GET: one per kwarg, strings. */
function kwargQueryParameters(kwargs: CallerKwargs): Schema[] {
  return [...kwargs.names].map(([name, parameter]) => {
    const schema: Schema = { type: 'string' };
    if (parameter !== undefined && 'default' in parameter && ['string', 'number', 'boolean'].includes(typeof parameter.default)) {
      schema.default = String(parameter.default);
    }
    const query: Schema = { name, in: 'query', required: kwargs.required.includes(name), schema };
    if (parameter?.annotation !== undefined) query.description = `Python annotation: \`${parameter.annotation}\` (sent as a string)`;
    return query;
  });
}

function jsonQueryParameter(name: string, schema: Schema, description: string): Schema {
  return { name, in: 'query', required: false, description, content: { 'application/json': { schema } } };
}

function normalBody(api: ApiContext): Schema {
  return {
    type: 'object',
    properties: { kwargs: kwargsSchema(api.kwargs), options: optionsSchema(api.endpoint.timeoutSeconds) },
    additionalProperties: false,
  };
}

/** Multipart: the kwargs as text fields, plus files under any other field name. */
function multipartSchema(fields: Schema): Schema {
  return { ...fields, additionalProperties: { type: 'string', format: 'binary', description: 'a file: the function gets `files`' } };
}

/** Each call form's path suffix, and how a summary names it. */
type Form = 'normal' | 'normal-explicit' | 'simplified' | 's';
const FORM_LABEL: Readonly<Record<Form, string>> = Object.freeze({
  normal: 'normal form',
  'normal-explicit': 'normal form, uploads allowed',
  simplified: 'simplified form',
  s: 'simplified form, short path',
});

function operation(api: ApiContext, form: Form, method: 'get' | 'post', extra: Schema, uploads: boolean): Schema {
  const op: Schema = {
    operationId: `${api.kind}.${api.endpoint.id}.${form}.${method}`.replace(/[^A-Za-z0-9._-]/g, '_'),
    summary: `${api.title} (${FORM_LABEL[form]})`,
    description: api.description,
    tags: [api.kind === 'sync' ? 'Sync APIs' : 'Async APIs'],
    ...extra,
    responses: { '200': successResponse(api.kind), ...errorResponses(errorCodes(api, uploads)) },
  };
  if (api.auth !== undefined) {
    if (api.auth.security.length > 0) op.security = api.auth.security;
    op['x-gitfunc-auth'] = { id: api.auth.id, type: api.auth.type };
  }
  return op;
}

function normalPath(api: ApiContext, form: 'normal' | 'normal-explicit', multipart: boolean): Schema {
  const body: Schema = { 'application/json': { schema: normalBody(api) } };
  if (multipart) {
    const fields = { type: 'object', properties: { kwargs: { type: 'string', description: 'kwargs as JSON text' }, options: { type: 'string', description: 'options as JSON text' } } };
    body['multipart/form-data'] = { schema: multipartSchema(fields) };
  }
  return {
    get: operation(api, form, 'get', {
      parameters: [
        jsonQueryParameter('kwargs', kwargsSchema(api.kwargs), 'kwargs as JSON (types kept)'),
        jsonQueryParameter('options', optionsSchema(api.endpoint.timeoutSeconds), 'call options as JSON'),
      ],
    }, false),
    post: operation(api, form, 'post', { requestBody: { required: false, content: body } }, multipart),
  };
}

function simplifiedPath(api: ApiContext, form: 'simplified' | 's'): Schema {
  const fields = textFieldsSchema(api.kwargs);
  return {
    get: operation(api, form, 'get', { parameters: kwargQueryParameters(api.kwargs) }, false),
    post: operation(api, form, 'post', {
      requestBody: {
        required: false,
        description: 'JSON keeps types, forms are strings; `text/plain` arrives as `text`, any other type as `base64`',
        content: {
          'application/json': { schema: kwargsSchema(api.kwargs) },
          'application/x-www-form-urlencoded': { schema: fields },
          'multipart/form-data': { schema: multipartSchema(fields) },
        },
      },
    }, true),
  };
}

function describe(endpoint: ApiEndpoint, info: FunctionInfo | undefined, kwargs: CallerKwargs, auth: AuthDoc | undefined): string {
  const lines: string[] = [];
  if (endpoint.description !== undefined) lines.push(endpoint.description);
  lines.push(`Function \`${endpoint.funcId}\`${info?.category === undefined ? '' : `, category \`${info.category}\``}; timeout ${endpoint.timeoutSeconds} s.`);
  if (kwargs.fixed.length > 0) lines.push(`Fixed by the manifest (a caller may not give them): ${kwargs.fixed.map((name) => `\`${name}\``).join(', ')}.`);
  if (kwargs.open) lines.push('Any other kwarg is passed on too (the function takes `**kwargs`).');
  if (auth !== undefined) lines.push(auth.note);
  const throttle = endpoint.access?.throttle;
  if (throttle !== undefined) lines.push(`Throttled (429.46): ${throttle.limits.map((limit) => `${limit.name} ${limit.max}`).join(', ')}.`);
  if (endpoint.access?.disabled === true) lines.push('Disabled: every call answers 403.21.');
  return lines.join('\n\n');
}

/** The paths of one API in every call form. */
export function apiPaths(endpoint: ApiEndpoint, kind: ApiKind, info: FunctionInfo | undefined): ApiPaths {
  const kwargs = callerKwargs(endpoint, info);
  const auth = endpoint.access?.auth === undefined ? undefined : authDoc(endpoint.access.auth);
  const api: ApiContext = {
    endpoint,
    kind,
    title: endpoint.title ?? info?.title ?? endpoint.id,
    kwargs,
    description: describe(endpoint, info, kwargs, auth),
  };
  if (auth !== undefined) api.auth = auth;
  const base = `${API_PREFIX[kind]}/${encodeURIComponent(endpoint.id)}`;
  return {
    paths: {
      [base]: normalPath(api, 'normal', false),
      [`${base}/normal`]: normalPath(api, 'normal-explicit', true),
      [`${base}/simplified`]: simplifiedPath(api, 'simplified'),
      [`${base}/s`]: simplifiedPath(api, 's'),
    },
    schemes: auth?.schemes ?? {},
  };
}
