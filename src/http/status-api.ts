import type { Polka } from 'polka';
import type { ReplicaInfo } from '../replicas/replica-heartbeat.js';
import type { ReloadStatus } from '../revision/reload-status.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { scriptOfFunction } from '../revision/script-failures.js';
import type { WorkerPool } from '../runtime/pool.js';
import type { CronScheduler } from '../schedule/cron-scheduler.js';
import type { AsyncTaskQueue } from '../tasks/ports.js';
import { type AdminCheck, adminRoute } from './admin-route.js';
import type { Readiness } from './health-api.js';

export interface StatusApiDeps {
  check: AdminCheck;
  holder: RevisionHolder;
  readiness: Readiness;
  pool: WorkerPool;
  queue: AsyncTaskQueue;
  scheduler: CronScheduler;
  /** Async tasks and cron runs in progress. */
  running(): { asyncTasks: number; cronRuns: number };
  /** How long the served revision took to fetch, build and warm, in ms. */
  loadMs(): number | undefined;
  /** The reload pipeline: last fetch, commit being built, last failed commit with its errors. */
  reload(): ReloadStatus;
  /** With several servers on Redis: every live replica (this one too); absent for one server. */
  replicas?(): Promise<ReplicaInfo[]>;
}

/** Each script left out of `revision` (`scriptErrors: isolate`): its import error and what answers 503.3 because of it. */
function failedScripts(revision: Revision): unknown[] {
  const namedBy = (ids: Iterable<{ id: string; funcId: string }>, script: string): string[] =>
    [...ids].filter((entry) => scriptOfFunction(entry.funcId) === script).map((entry) => entry.id);
  return [...revision.scriptFailures.values()].map(({ script, file, line, col, message }) => ({
    script,
    file,
    line,
    col,
    error: message,
    syncAPIs: namedBy(revision.syncApis.values(), script),
    asyncAPIs: namedBy(revision.asyncApis.values(), script),
    cronJobs: namedBy(revision.unscheduledCronJobs, script),
  }));
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** `GET /api/v1/status` (admin only): what is served, what is scheduled, how busy it is. */
export function registerStatusApi(app: Polka, deps: StatusApiDeps): void {
  app.get(
    '/api/v1/status',
    adminRoute(deps.check, async () => {
      const revision = deps.holder.current;
      const nextFires = deps.scheduler.nextFires();
      const endpoints = (apis: ReadonlyMap<string, { id: string; funcId: string; timeoutSeconds: number }>): unknown[] =>
        [...apis.values()].map(({ id, funcId, timeoutSeconds }) => ({ id, funcId, timeoutSeconds }));
      return {
        phase: deps.readiness.phase(),
        ready: deps.readiness.ready(),
        revision:
          revision === undefined
            ? null
            : {
                commit: revision.commit,
                loadedAt: iso(revision.builtAt),
                loadMs: deps.loadMs() ?? null,
                warnings: revision.warnings,
                failedScripts: failedScripts(revision),
              },
        syncAPIs: revision === undefined ? [] : endpoints(revision.syncApis),
        asyncAPIs: revision === undefined ? [] : endpoints(revision.asyncApis),
        cronJobs: (revision?.cronJobs ?? []).map((job) => ({
          id: job.id,
          funcId: job.funcId,
          expression: job.expression,
          timezone: job.timezone,
          nextFireAt: iso(nextFires.get(job.id)),
        })),
        queue: { asyncWaiting: await deps.queue.depth(), ...deps.running() },
        pool: { workers: deps.pool.workers, backgroundSlots: deps.pool.backgroundSlots, ...deps.pool.stats(), ...deps.pool.workerStatus() },
        reload: deps.reload(),
        ...(deps.replicas === undefined ? {} : { replicas: await deps.replicas() }),
      };
    }),
  );
}
