import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { Reloader } from '../revision/reloader.js';
import type { AdminCheck } from './admin-route.js';
import { ApiError, ApiErrors } from './api-error.js';
import { type RequestScope, sendApiError, sendBody, startScope } from './respond.js';

export interface ReloadApiDeps {
  check: AdminCheck;
  reloader: Pick<Reloader, 'request' | 'reloadNow' | 'status'>;
}

/** `?wait=1` (or `true`) waits for the reload's outcome; absent, `0` or `false` does not. */
function wantsWait(req: Request): boolean {
  const wait = req.query.wait;
  if (wait === undefined || wait === '0' || wait === 'false') return false;
  if (wait === '1' || wait === 'true') return true;
  throw new ApiError(ApiErrors.badRequest, 'wait must be 1, true, 0 or false');
}

/** A DFF-style success body whose `error` is the HTTP status (200, or 202 for an accepted reload). */
function sendJson(res: ServerResponse, scope: RequestScope, status: number, data: unknown): void {
  const body = JSON.stringify({ ok: true, error: status, message: '', data });
  sendBody(res, scope, status, 'application/json; charset=utf-8', body);
}

/**
 * `POST /api/v1/reload` (admin only): fetches the configured ref and serves its commit if it
 * is new, retrying it even if it failed before. Answers 202 at once with the reload state;
 * with `?wait=1` answers 200 once the reload ended, with its outcome (`served`, `unchanged`,
 * `failed` with the errors, `fetchFailed`...). A failed reload is still a 200: the request
 * was carried out, and the previous revision is still served.
 */
export function registerReloadApi(app: Polka, deps: ReloadApiDeps): void {
  app.post('/api/v1/reload', async (req: Request, res: ServerResponse) => {
    const scope = startScope(req);
    try {
      deps.check(req);
      req.resume(); // no body is read: a request carrying one still completes
      if (wantsWait(req)) {
        sendJson(res, scope, 200, await deps.reloader.reloadNow({ source: 'manual' }));
        return;
      }
      deps.reloader.request({ source: 'manual' });
      sendJson(res, scope, 202, { accepted: true, reload: deps.reloader.status() });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendApiError(res, scope, error);
    }
  });
}
