import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import { apiStats, cronStats } from '../metrics/call-stats.js';
import type { GitfuncMetrics } from '../metrics/gitfunc-metrics.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { AsyncTaskQueue } from '../tasks/ports.js';
import { type AdminCheck, adminRoute } from './admin-route.js';
import { toApiError } from './api-error.js';
import { sendApiError, sendBody, startScope } from './respond.js';

export interface MetricsApiDeps {
  check: AdminCheck;
  metrics: GitfuncMetrics;
  holder: RevisionHolder;
  queue: AsyncTaskQueue;
  /** Worker threads by state, as `gitfunc_workers` counts them. */
  workers(): Record<string, number>;
}

/**
 * `GET /metrics` (admin only): the Prometheus text exposition. `GET /api/v1/stats` (admin
 * only): the same counts as JSON for the dashboard, per API and cron job since the start.
 */
export function registerMetricsApi(app: Polka, deps: MetricsApiDeps): void {
  app.get('/metrics', async (req: Request, res: ServerResponse) => {
    const scope = startScope(req);
    try {
      deps.check(req);
      sendBody(res, scope, 200, deps.metrics.contentType, await deps.metrics.scrape());
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError === undefined) throw error;
      sendApiError(res, scope, apiError);
    }
  });
  app.get(
    '/api/v1/stats',
    adminRoute(deps.check, async () => {
      const revision = deps.holder.current;
      const known = [
        ...[...(revision?.syncApis.keys() ?? [])].map((id) => ({ id, kind: 'sync' as const })),
        ...[...(revision?.asyncApis.keys() ?? [])].map((id) => ({ id, kind: 'async' as const })),
      ];
      return {
        since: new Date(deps.metrics.since).toISOString(),
        apis: apiStats(deps.metrics, known),
        cronJobs: await cronStats(deps.metrics, (revision?.cronJobs ?? []).map((job) => job.id)),
        workers: deps.workers(),
        queueDepth: await deps.queue.depth(),
      };
    }),
  );
}
