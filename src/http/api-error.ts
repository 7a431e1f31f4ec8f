import { type ApiErrorCode, ERROR_CATALOG, type ErrorSpec } from '../errors/catalog.js';
import { GitfuncError } from '../errors.js';

/** A catalog code that API clients can receive, with its DFF `error` number and `reason`. */
export interface ApiErrorKind {
  code: ApiErrorCode;
  error: number;
  reason: string;
}

function kind(code: ApiErrorCode): ApiErrorKind {
  const spec: ErrorSpec = ERROR_CATALOG[code];
  // An ApiErrorCode is a code whose entry has both (see its type).
  return { code, error: spec.error!, reason: spec.reason! };
}

/**
 * The DFF errors route handlers raise themselves (CONTRACT section 5), named for the call
 * sites; the numbers and reasons come from the catalog (errors/catalog.ts).
 */
export const ApiErrors = {
  notFound: kind('NOT_FOUND'),
  badRequest: kind('BAD_REQUEST'),
  bodyTooLarge: kind('BODY_TOO_LARGE'),
  uploadFileTooLarge: kind('UPLOAD_FILE_TOO_LARGE'),
  tooManyUploadFiles: kind('UPLOAD_TOO_MANY_FILES'),
  authFailed: kind('AUTH_FAILED'),
  apiDisabled: kind('API_DISABLED'),
  bodyIncomplete: kind('BODY_INCOMPLETE'),
  throttled: kind('THROTTLED'),
  adminDisabled: kind('ADMIN_DISABLED'),
  webhookDisabled: kind('WEBHOOK_DISABLED'),
  asyncQueueFull: kind('ASYNC_QUEUE_FULL'),
  rollbackWithReplicas: kind('ROLLBACK_WITH_REPLICAS'),
  busy: kind('SERVER_BUSY'),
  notReady: kind('SERVER_NOT_READY'),
  internal: kind('INTERNAL'),
  funcFailed: kind('FUNC_FAILED'),
  funcTimeout: kind('FUNC_TIMEOUT'),
  workerFailed: kind('WORKER_FAILED'),
} as const satisfies Record<string, ApiErrorKind>;

/**
 * An error answered to an API client: a catalog code with its DFF `error` number (the HTTP
 * status is its integer part) and `reason`; `detail` is the error's data.
 */
export class ApiError extends GitfuncError {
  readonly error: number;
  readonly reason: string;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After`; a list is sent as one header line per value. */
  readonly headers: Record<string, string | string[]>;

  constructor(kind: ApiErrorKind, message: string, detail: Record<string, unknown> = {}, headers: Record<string, string | string[]> = {}) {
    super(kind.code, message, detail);
    this.name = 'ApiError';
    this.error = kind.error;
    this.reason = kind.reason;
    this.status = Math.trunc(kind.error);
    this.headers = headers;
  }

  get detail(): Record<string, unknown> {
    return this.data;
  }

  /** The JSON body DFF clients expect. */
  toBody(traceId: string): Record<string, unknown> {
    return {
      ok: false,
      error: this.error,
      reason: this.reason,
      message: this.message,
      detail: this.detail,
      status: this.status,
      traceId,
    };
  }
}

/**
 * How a route answers an error: an ApiError as it is; a domain error (a GitfuncError thrown
 * below http/, e.g. by invocation/) whose code has a DFF `error` number in the catalog as that
 * error, with the same message, its data as `detail` and the catalog's `Retry-After`; anything else is not for the client
 * (undefined: the route rethrows it and the app answers 500).
 */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (!(error instanceof GitfuncError)) return undefined;
  const spec: ErrorSpec = ERROR_CATALOG[error.code];
  if (spec.error === undefined) return undefined;
  const headers: Record<string, string> = spec.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(spec.retryAfterSeconds) };
  return new ApiError(kind(error.code as ApiErrorCode), error.message, error.data, headers);
}
