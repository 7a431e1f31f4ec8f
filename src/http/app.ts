import type { ServerResponse } from 'node:http';
import polka, { type Polka, type Request } from 'polka';
import { ApiError, ApiErrors } from './api-error.js';
import { sendApiError, sendBody, startScope } from './respond.js';
import { registerSyncApi, type SyncApiDeps } from './sync-api.js';

export type AppDeps = SyncApiDeps;

/** The HTTP app: one register call per route family; unknown routes answer 404.41. */
export function createApp(deps: AppDeps): Polka {
  const app = polka({
    onNoMatch: (req: Request, res: ServerResponse) => {
      sendApiError(res, startScope(req), new ApiError(ApiErrors.notFound, `No route ${req.method} ${req.path}`));
    },
    onError: (error: unknown, req: Request, res: ServerResponse) => {
      deps.logger.error({ err: error, url: req.path }, 'unhandled error in a route');
      if (!res.headersSent) {
        const body = JSON.stringify({ ok: false, error: 500, reason: 'EInternal', message: 'Internal server error', detail: {}, status: 500 });
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(body);
      }
    },
  });
  app.get('/healthz', (req: Request, res: ServerResponse) => {
    sendBody(res, startScope(req), 200, 'application/json; charset=utf-8', '{"ok":true}');
  });
  registerSyncApi(app, deps);
  return app;
}
