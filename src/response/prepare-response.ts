import { FunctionRaisedError } from '../errors.js';
import { attachmentDisposition, downloadName } from './content-disposition.js';
import { contentTypeOf, contentTypeOfFile, OCTET_STREAM } from './content-types.js';
import { type FileRoots, openServedFile, ResponseRefused, type ServedFile } from './served-file.js';
import type { CallFailed, CallOutcome } from '../model/call-result.js';

/** The JSON spec gitfunc_response.py sends for DFF.RESP, RESP_FILE and REDIRECT. */
interface ResponseSpec {
  status: number;
  headers: Record<string, string>;
  contentType: string | null;
  download: boolean | string | null;
  file?: string;
  autoDelete?: boolean;
  bodyKind?: 'json' | 'text' | 'bytes';
  body?: string;
}

/** A response a function asked for, checked and ready to write. */
export interface PreparedResponse {
  status: number;
  /** Lower-case names. */
  headers: Map<string, string>;
  body?: string | Buffer;
  file?: ServedFile;
  deleteAfter: boolean;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;
/** Framing is the server's business: a script setting these could corrupt the connection. */
const RESERVED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer', 'te']);

function headerValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || BAD_HEADER_VALUE.test(value)) throw new ResponseRefused(`response header ${name} must be a string without CR, LF or NUL`);
  return value;
}

/** Script headers, validated again here: Python code can build any spec it likes. */
function scriptHeaders(given: unknown): Map<string, string> {
  const headers = new Map<string, string>();
  if (typeof given !== 'object' || given === null) throw new ResponseRefused('response headers must be an object');
  for (const [name, value] of Object.entries(given)) {
    if (!HEADER_NAME.test(name)) throw new ResponseRefused(`response header name ${JSON.stringify(name)} is not a valid HTTP token`);
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw new ResponseRefused(`response header ${name} is set by the server`);
    headers.set(lower, headerValue(name, value));
  }
  return headers;
}

function readSpec(json: string): ResponseSpec {
  const spec = JSON.parse(json) as ResponseSpec;
  if (!Number.isInteger(spec.status) || spec.status < 200 || spec.status > 599) throw new ResponseRefused('status_code must be an integer from 200 to 599');
  return spec;
}

function dataBody(spec: ResponseSpec, headers: Map<string, string>): string | Buffer {
  const kind = spec.bodyKind;
  const body = spec.body ?? '';
  const defaultType = kind === 'json' ? 'application/json; charset=utf-8' : kind === 'bytes' ? OCTET_STREAM : 'text/plain; charset=utf-8';
  if (!headers.has('content-type')) headers.set('content-type', defaultType);
  if (spec.download === true) headers.set('content-disposition', attachmentDisposition(kind === 'json' ? 'api-resp.json' : 'api-resp.txt'));
  return kind === 'bytes' ? Buffer.from(body, 'base64') : body;
}

async function fileBody(spec: ResponseSpec, roots: FileRoots, headers: Map<string, string>): Promise<ServedFile> {
  const file = await openServedFile(spec.file!, roots);
  if (!headers.has('content-type')) headers.set('content-type', contentTypeOfFile(file.name));
  // RESP_FILE downloads by default, as in DFF; download=False shows it inline.
  if (spec.download !== false) headers.set('content-disposition', attachmentDisposition(typeof spec.download === 'string' ? downloadName(spec.download) : file.name));
  headers.set('content-length', String(file.size));
  return file;
}

/** Checks a function's response spec and opens its file, if any. Throws ResponseRefused. */
export async function prepareResponse(specJson: string, roots: FileRoots): Promise<PreparedResponse> {
  const spec = readSpec(specJson);
  const headers = scriptHeaders(spec.headers);
  if (spec.contentType !== null) {
    const type = contentTypeOf(headerValue('Content-Type', spec.contentType));
    if (type === undefined) throw new ResponseRefused(`unknown content_type ${JSON.stringify(spec.contentType)}`);
    headers.set('content-type', type);
  }
  if (typeof spec.download === 'string' && spec.file === undefined) {
    headers.set('content-disposition', attachmentDisposition(downloadName(spec.download)));
  }
  if (spec.file === undefined) return { status: spec.status, headers, body: dataBody(spec, headers), deleteAfter: false };
  const file = await fileBody(spec, roots, headers);
  return { status: spec.status, headers, file, deleteAfter: spec.autoDelete === true && file.deletable };
}

/** A response result checked: ready to send, or turned into the call's failure. */
export type CheckedResponse =
  | { result: CallOutcome & { kind: 'response' }; prepared: PreparedResponse }
  | { result: CallFailed; prepared?: undefined };

/**
 * A `response` result checked against the call's file roots: the prepared response, or the
 * result turned into a failure of the call (599.1) that says what was refused.
 */
export async function checkResponse(result: CallOutcome, roots: FileRoots): Promise<CheckedResponse> {
  try {
    return { result: { ...result, kind: 'response' }, prepared: await prepareResponse(result.body, roots) };
  } catch (error) {
    if (!(error instanceof ResponseRefused)) throw error;
    return { result: { ...result, kind: 'error', body: '', error: new FunctionRaisedError(`ResponseRefused: ${error.message}`, '') } };
  }
}
