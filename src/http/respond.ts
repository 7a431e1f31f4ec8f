import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';

/** Per-request facts every response carries (CONTRACT section 3). */
export interface RequestScope {
  traceId: string;
  startedAt: number;
  taskId?: string;
  /** Answered from the `cache_result` cache: sends `X-Dff-Cache: Cached`. */
  cached?: boolean;
  /** The CORS headers of a function API response (`CorsPolicy.headersFor`). */
  cors?: Readonly<Record<string, string>>;
}

const SAFE_TRACE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Trace-Id` when it is safe to echo, else a new one. */
export function startScope(req: IncomingMessage): RequestScope {
  const given = req.headers['x-trace-id'];
  const traceId = typeof given === 'string' && SAFE_TRACE_ID.test(given) ? given : `trace-${randomUUID()}`;
  return { traceId, startedAt: performance.now() };
}

/** The headers every response carries (CONTRACT section 3). */
export function scopeHeaders(scope: RequestScope): Record<string, string> {
  const headers: Record<string, string> = {
    ...scope.cors,
    'X-Trace-Id': scope.traceId,
    'X-Request-Cost': String(Math.round(performance.now() - scope.startedAt)),
  };
  if (scope.taskId !== undefined) headers['X-Task-Id'] = scope.taskId;
  if (scope.cached === true) headers['X-Dff-Cache'] = 'Cached';
  return headers;
}

/** Writes a successful body with the scope headers. */
export function sendBody(res: ServerResponse, scope: RequestScope, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    ...scopeHeaders(scope),
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Writes a response without a body (e.g. 204), with the scope headers. */
export function sendEmpty(res: ServerResponse, scope: RequestScope, status: number): void {
  res.writeHead(status, scopeHeaders(scope));
  res.end();
}

/** Writes a DFF error body; the request body is never echoed. */
export function sendApiError(res: ServerResponse, scope: RequestScope, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.toBody(scope.traceId));
  res.writeHead(error.status, {
    ...error.headers,
    ...scopeHeaders(scope),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
