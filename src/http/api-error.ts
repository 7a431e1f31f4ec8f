/**
 * DFF-style API errors (CONTRACT section 5): the HTTP status is the integer part of `error`.
 * Route handlers throw these; the app's error handler writes them.
 */
export const ApiErrors = {
  notFound: { error: 404.41, reason: 'ENotFound' },
  badRequest: { error: 400.43, reason: 'EClientBadRequest' },
  bodyTooLarge: { error: 413.1, reason: 'EBodyTooLarge' },
  uploadFileTooLarge: { error: 413.2, reason: 'EUploadFileTooLarge' },
  tooManyUploadFiles: { error: 413.3, reason: 'EUploadTooManyFiles' },
  authFailed: { error: 401.99, reason: 'EAuthFailed' },
  /** A disabled or expired API (`disabled`, `expireTime` in the manifest). */
  apiDisabled: { error: 403.21, reason: 'EApiDisabled' },
  /** The body did not arrive within the server's time limit, or the client went away. */
  bodyIncomplete: { error: 408.1, reason: 'EBodyIncomplete' },
  /** The API's `throttling` limit is reached (sent `Retry-After`). */
  throttled: { error: 429.46, reason: 'EThrottled' },
  /** An admin endpoint while no admin token is configured. */
  adminDisabled: { error: 403.1, reason: 'EAdminDisabled' },
  /** A webhook while no webhook secret is configured (and unsigned ones are not allowed). */
  webhookDisabled: { error: 403.3, reason: 'EWebhookDisabled' },
  asyncQueueFull: { error: 429.47, reason: 'EAsyncQueueFull' },
  busy: { error: 503.1, reason: 'EServerBusy' },
  notReady: { error: 503.2, reason: 'EServerNotReady' },
  /** A bug in gitfunc: logged with the trace id it answers with. */
  internal: { error: 500, reason: 'EInternal' },
  funcFailed: { error: 599.1, reason: 'EFuncFailed' },
  funcTimeout: { error: 599.2, reason: 'EFuncTimeout' },
  workerFailed: { error: 599.99, reason: 'EWorkerFailed' },
} as const;

export type ApiErrorKind = (typeof ApiErrors)[keyof typeof ApiErrors];

export class ApiError extends Error {
  readonly error: number;
  readonly reason: string;
  readonly status: number;
  readonly detail: Record<string, unknown>;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;

  constructor(kind: ApiErrorKind, message: string, detail: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.error = kind.error;
    this.reason = kind.reason;
    this.status = Math.trunc(kind.error);
    this.detail = detail;
    this.headers = headers;
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
