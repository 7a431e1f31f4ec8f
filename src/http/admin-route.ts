import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'polka';
import { toApiError } from './api-error.js';
import { sendApiError, sendBody, startScope } from './respond.js';

/** Checks the admin token of a request (see createAdminCheck). */
export type AdminCheck = (req: IncomingMessage) => void;

/**
 * An admin endpoint: token checked first, then `produce` gives the `data` of a DFF-style
 * `{"ok":true,"error":200,"message":"","data":...}` answer. No CORS headers, ever.
 */
export function adminRoute(
  check: AdminCheck,
  produce: (req: Request) => unknown,
): (req: Request, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const scope = startScope(req);
    try {
      check(req);
      const data = await produce(req);
      const body = JSON.stringify({ ok: true, error: 200, message: '', data });
      sendBody(res, scope, 200, 'application/json; charset=utf-8', body);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError === undefined) throw error;
      sendApiError(res, scope, apiError);
    }
  };
}
