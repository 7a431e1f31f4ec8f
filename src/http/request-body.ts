import type { IncomingMessage } from 'node:http';
import { ApiError, ApiErrors } from './api-error.js';

/** A request body, parsed by content type (CONTRACT sections 3 and 4). */
export type RequestBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; value: Record<string, string | string[]> }
  | { kind: 'text'; value: string }
  | { kind: 'binary'; value: Buffer }
  // Read by the upload handler, not here (streamed to disk with its own limits).
  | { kind: 'multipart' };

function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? '';
  return header.split(';', 1)[0]!.trim().toLowerCase();
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Reads the whole body, refusing with 413.1 as soon as it passes `limitBytes`. */
export function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  // Listeners, not `for await`: the async iterator cost ~5% of the server thread per call
  // (docs/performance.md). Past the limit the rest of the body flows on unread, and the
  // refusal's Connection: close ends the connection once it is answered.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // The error listener stays: a reset after the body was read or refused must not be an
    // unhandled 'error' event (settling the promise again changes nothing).
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        stop();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // The client went away, or Node cut a body that took too long (limits.bodyReadSeconds).
    const onError = (error: NodeJS.ErrnoException): void => {
      stop();
      reject(error.code === 'ECONNRESET' ? incomplete() : error);
    };
    const onClose = (): void => {
      stop();
      reject(incomplete());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function incomplete(): ApiError {
  return new ApiError(ApiErrors.bodyIncomplete, 'The request body did not arrive in time, or the client closed the connection', {}, {
    Connection: 'close',
  });
}

function tooLarge(limitBytes: number): ApiError {
  // Close the connection: the rest of an oversize body is not worth reading.
  return new ApiError(ApiErrors.bodyTooLarge, `Request body is larger than ${limitBytes} bytes`, { limitBytes }, { Connection: 'close' });
}

/**
 * The parser's complaint without the input: V8 quotes the start of the text it failed on,
 * and the request body is never echoed back (CONTRACT section 5).
 */
export function jsonErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/,?\s*".*"(\.\.\.)? is not valid JSON$/s, '').slice(0, 100);
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new ApiError(ApiErrors.badRequest, `Invalid JSON body: ${jsonErrorReason(error)}`);
  }
}

function parseForm(raw: Buffer): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    const existing = form[key];
    form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return form;
}

/** Reads and parses a request body by its content type. */
export async function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<RequestBody> {
  const type = mediaType(req);
  if (type === 'multipart/form-data') return { kind: 'multipart' };
  if (!hasBody(req)) return { kind: 'none' };
  const raw = await readRawBody(req, limitBytes);
  if (type === 'application/json' || type.endsWith('+json')) return { kind: 'json', value: parseJson(raw) };
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', value: parseForm(raw) };
  if (type === 'text/plain') return { kind: 'text', value: raw.toString('utf8') };
  return { kind: 'binary', value: raw };
}
