import type { ServerResponse } from 'node:http';
import polka, { type Polka, type Request } from 'polka';
import type { Logger } from '../log.js';
import { ApiError, ApiErrors } from './api-error.js';
import { type AsyncApiDeps, registerAsyncApi } from './async-api.js';
import { type CronApiDeps, registerCronApi } from './cron-api.js';
import { type Readiness, registerHealthApi } from './health-api.js';
import { registerReloadApi, type ReloadApiDeps } from './reload-api.js';
import { sendApiError, startScope } from './respond.js';
import { registerStatusApi, type StatusApiDeps } from './status-api.js';
import { registerSyncApi, type SyncApiDeps } from './sync-api.js';
import { registerTaskApi, type TaskApiDeps } from './task-api.js';

/** Everything the routes need, by route family. */
export interface AppDeps {
  logger: Logger;
  readiness: Readiness;
  sync: SyncApiDeps;
  async: AsyncApiDeps;
  tasks: TaskApiDeps;
  status: StatusApiDeps;
  cron: CronApiDeps;
  reload: ReloadApiDeps;
}

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
  registerHealthApi(app, deps.readiness);
  registerSyncApi(app, deps.sync);
  registerAsyncApi(app, deps.async);
  registerTaskApi(app, deps.tasks);
  registerStatusApi(app, deps.status);
  registerCronApi(app, deps.cron);
  registerReloadApi(app, deps.reload);
  return app;
}
