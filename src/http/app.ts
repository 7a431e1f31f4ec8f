import type { ServerResponse } from 'node:http';
import polka, { type Polka, type Request } from 'polka';
import type { Logger } from '../log.js';
import { ApiError, ApiErrors, toApiError } from './api-error.js';
import { type AsyncApiDeps, registerAsyncApi } from './async-api.js';
import { type CronApiDeps, registerCronApi } from './cron-api.js';
import { registerDocsPage } from './docs-page.js';
import { type Readiness, registerHealthApi } from './health-api.js';
import { registerOpenApi } from './openapi-api.js';
import { type PushRemoteDeps, registerPushRemote } from './push-remote-api.js';
import { registerReloadApi, type ReloadApiDeps } from './reload-api.js';
import { sendApiError, startScope } from './respond.js';
import { registerStatusApi, type StatusApiDeps } from './status-api.js';
import { registerSyncApi, type SyncApiDeps } from './sync-api.js';
import { registerTaskApi, type TaskApiDeps } from './task-api.js';
import { registerWebhookApi, type WebhookApiDeps } from './webhook-api.js';

/** Everything the routes need, by route family. */
export interface AppDeps {
  logger: Logger;
  readiness: Readiness;
  sync: SyncApiDeps;
  async: AsyncApiDeps;
  tasks: TaskApiDeps;
  status: StatusApiDeps;
  cron: CronApiDeps;
  webhook: WebhookApiDeps;
  /** Absent while the push remote is off. */
  pushRemote?: PushRemoteDeps;
  reload: ReloadApiDeps;
}

/** The HTTP app: one register call per route family; unknown routes answer 404.41. */
export function createApp(deps: AppDeps): Polka {
  const app = polka({
    onNoMatch: (req: Request, res: ServerResponse) => {
      sendApiError(res, startScope(req), new ApiError(ApiErrors.notFound, `No route ${req.method} ${req.path}`));
    },
    onError: (error: unknown, req: Request, res: ServerResponse) => {
      const apiError = toApiError(error);
      if (apiError !== undefined) {
        sendApiError(res, startScope(req), apiError);
        return;
      }
      // The answer carries the trace id of this log line, so an operator can find it.
      const scope = startScope(req);
      deps.logger.error({ err: error, url: req.path, traceId: scope.traceId }, 'unhandled error in a route');
      sendApiError(res, scope, new ApiError(ApiErrors.internal, 'Internal server error'));
    },
  });
  registerHealthApi(app, deps.readiness);
  registerSyncApi(app, deps.sync);
  registerAsyncApi(app, deps.async);
  registerTaskApi(app, deps.tasks);
  registerStatusApi(app, deps.status);
  registerCronApi(app, deps.cron);
  registerWebhookApi(app, deps.webhook);
  if (deps.pushRemote) registerPushRemote(app, deps.pushRemote);
  registerReloadApi(app, deps.reload);
  registerOpenApi(app, deps.sync.holder);
  registerDocsPage(app);
  return app;
}
