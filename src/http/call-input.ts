import { ApiError, ApiErrors } from './api-error.js';
import type { MultipartBody } from './multipart-body.js';
import { checkInputDepth } from './nesting-limit.js';
import { jsonErrorReason, type RequestBody } from './request-body.js';

/** What the caller asked for: kwargs for the function and call options. */
export interface CallInput {
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** `normal` takes `{kwargs, options}`; `simplified` (`/s`) takes the query or body as the kwargs. */
export type CallForm = 'normal' | 'simplified';

const FORMS: Record<string, CallForm> = { s: 'simplified', simplified: 'simplified', normal: 'normal' };

/** The call form named by the URL suffix, or undefined for an unknown suffix. */
export function callFormOf(suffix: string | undefined): CallForm | undefined {
  return suffix === undefined ? 'normal' : FORMS[suffix];
}

type Query = Record<string, string | string[]>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectField(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ApiError(ApiErrors.badRequest, `'${name}' must be a JSON object`);
  return value;
}

/** A JSON object written as text: `where` names the field's place for the error. */
function parsedObject(raw: string, name: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ApiError(ApiErrors.badRequest, `${where} '${name}' is not valid JSON: ${jsonErrorReason(error)}`);
  }
  return objectField(name, value);
}

/** A JSON object held in a query parameter or a form or multipart text field (`where` names which). */
function jsonTextField(fields: Query, name: string, where: string): Record<string, unknown> {
  const raw = fields[name];
  if (raw === undefined) return {};
  if (Array.isArray(raw)) throw new ApiError(ApiErrors.badRequest, `${where} '${name}' is given more than once`);
  return parsedObject(raw, name, where);
}

/** A field of a JSON body: an object, or (as DFF reads it) an object written as JSON text. */
function jsonBodyField(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = body[name];
  return typeof value === 'string' ? parsedObject(value, name, 'Body field') : objectField(name, value);
}

function rejectUnexpected(fields: Iterable<string>, where: string): void {
  for (const field of fields) {
    if (field !== 'kwargs' && field !== 'options') {
      throw new ApiError(ApiErrors.badRequest, `Unexpected field '${field}' in ${where}: only 'kwargs' and 'options' are accepted`);
    }
  }
}

/**
 * The normal form: `kwargs` and `options`, and nothing else, whichever way they come. GET: query
 * parameters holding JSON text. POST: a JSON body whose fields are objects or JSON text, or a
 * form body of JSON text fields (as a GET's query), as DFF reads them.
 */
function normalInput(method: string, query: Query, body: ReadBody): CallInput {
  if (method === 'GET') return textFieldsInput(query, 'the query string', 'Query parameter');
  if (body.kind === 'none') return { kwargs: {}, options: {} };
  if (body.kind === 'form') return textFieldsInput(body.value, 'the form body', 'Form field');
  if (body.kind !== 'json' || !isPlainObject(body.value)) {
    throw new ApiError(ApiErrors.badRequest, 'The normal form takes a JSON object body: {"kwargs": {...}, "options": {...}}');
  }
  rejectUnexpected(Object.keys(body.value), 'the body');
  return { kwargs: jsonBodyField(body.value, 'kwargs'), options: jsonBodyField(body.value, 'options') };
}

/** `kwargs` and `options` as JSON text fields (a query string, a form body, multipart fields). */
function textFieldsInput(fields: Query, where: string, field: string): CallInput {
  rejectUnexpected(Object.keys(fields), where);
  return { kwargs: jsonTextField(fields, 'kwargs', field), options: jsonTextField(fields, 'options', field) };
}

function simplifiedInput(method: string, query: Query, body: ReadBody): CallInput {
  if (method === 'GET') return { kwargs: { ...query }, options: {} };
  switch (body.kind) {
    case 'none':
      return { kwargs: {}, options: {} };
    case 'json':
      if (!isPlainObject(body.value)) throw new ApiError(ApiErrors.badRequest, 'A JSON body must be an object of kwargs');
      return { kwargs: body.value, options: {} };
    case 'form':
      return { kwargs: body.value, options: {} };
    case 'text':
      return { kwargs: { text: body.value }, options: {} };
    case 'binary':
      return { kwargs: { base64: body.value.toString('base64') }, options: {} };
  }
}

/** A body read whole; a multipart body is streamed to disk instead (see multipartInput). */
export type ReadBody = Exclude<RequestBody, { kind: 'multipart' }>;

/** Turns a request into kwargs and options per the call form (CONTRACT section 3). */
export function callInputFrom(form: CallForm, method: string, query: Query, body: ReadBody): CallInput {
  return withinDepth(form === 'normal' ? normalInput(method, query, body) : simplifiedInput(method, query, body));
}

/** The input, once its kwargs and options are known to nest within MAX_INPUT_DEPTH. */
function withinDepth(input: CallInput): CallInput {
  checkInputDepth('kwargs', input.kwargs);
  checkInputDepth('options', input.options);
  return input;
}

/**
 * Kwargs and options of a multipart call (CONTRACT section 4). Simplified: the text fields are
 * the kwargs. Normal: only the text fields `kwargs` and `options`, each a JSON object. Either
 * way uploaded files, if any, are added as the kwarg `files`.
 */
export function multipartInput(form: CallForm, body: MultipartBody): CallInput {
  let input: CallInput;
  if (form === 'normal') {
    input = textFieldsInput(body.fields, 'the multipart fields', 'Form field');
  } else {
    input = { kwargs: { ...body.fields }, options: {} };
  }
  withinDepth(input);
  if (body.files.length === 0) return input;
  if (Object.hasOwn(input.kwargs, 'files')) {
    throw new ApiError(ApiErrors.badRequest, "The kwarg 'files' holds the uploaded files: no field may be named 'files'", { field: 'files' });
  }
  input.kwargs.files = body.files;
  return input;
}
