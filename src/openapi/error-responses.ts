/**
 * DFF error bodies in OpenAPI (CONTRACT section 5): one schema, and per operation one response
 * per HTTP status listing the catalog codes that API can answer with.
 */
import { type ApiErrorCode, ERROR_CATALOG } from '../errors/catalog.js';
import type { Schema } from './kwargs-schema.js';

/** The DFF error body, referenced by every error response. */
export const ERROR_BODY_SCHEMA: Schema = {
  type: 'object',
  required: ['ok', 'error', 'reason', 'message', 'detail', 'status', 'traceId'],
  properties: {
    ok: { const: false },
    error: { type: 'number', description: 'DFF error number; its integer part is the HTTP status (e.g. 429.46)' },
    reason: { type: 'string', examples: ['EThrottled'] },
    message: { type: 'string' },
    detail: { type: 'object', description: '599.1 adds `exception` and `traceback` (script frames only)' },
    status: { type: 'integer' },
    traceId: { type: 'string' },
  },
};

export const ERROR_BODY_REF = '#/components/schemas/DffError';

/** Codes sent with `Retry-After` (the catalog's, and those the routes add). */
const RETRY_AFTER: ReadonlySet<ApiErrorCode> = new Set(['THROTTLED', 'ASYNC_QUEUE_FULL', 'SERVER_BUSY', 'API_CONCURRENCY_LIMIT', 'SERVER_NOT_READY']);

/** The responses of `codes`, by HTTP status. */
export function errorResponses(codes: readonly ApiErrorCode[]): Record<string, Schema> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) {
    const status = Math.trunc(ERROR_CATALOG[code].error);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, Schema> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const lines = group.map((code) => {
      const spec = ERROR_CATALOG[code];
      return `\`${spec.error}\` ${spec.reason}: ${spec.description}`;
    });
    const response: Schema = {
      description: lines.join('\n\n'),
      content: { 'application/json': { schema: { $ref: ERROR_BODY_REF } } },
    };
    if (group.some((code) => RETRY_AFTER.has(code))) {
      response.headers = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };
    }
    responses[String(status)] = response;
  }
  return responses;
}
