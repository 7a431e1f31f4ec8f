import type { Polka } from 'polka';
import type { RevisionHolder } from '../revision/revision-holder.js';
import { ScriptImportFailed } from '../revision/script-failures.js';
import type { CronRunner } from '../schedule/cron-runner.js';
import type { CronScheduler } from '../schedule/cron-scheduler.js';
import { type AdminCheck, adminRoute } from './admin-route.js';
import { ApiError, ApiErrors } from './api-error.js';
import { newTaskId } from '../model/task-id.js';

export interface CronApiDeps {
  check: AdminCheck;
  /** The served revision: its cron jobs whose script failed to import answer 503.3. */
  holder: RevisionHolder;
  scheduler: CronScheduler;
  runner: CronRunner;
}

/** `POST /api/v1/cron/:id`: runs a cron job of the served revision now (admin only). */
export function registerCronApi(app: Polka, deps: CronApiDeps): void {
  app.post(
    '/api/v1/cron/:id',
    adminRoute(deps.check, (req) => {
      const job = deps.scheduler.job(req.params.id!);
      if (job === undefined) {
        const unscheduled = deps.holder.current?.unscheduledCronJobs.find((candidate) => candidate.id === req.params.id);
        if (unscheduled !== undefined) throw new ScriptImportFailed(unscheduled.failure);
        throw new ApiError(ApiErrors.notFound, `No cron job '${req.params.id}'`);
      }
      const taskId = newTaskId();
      deps.runner.runNow(job, taskId);
      return { id: taskId };
    }),
  );
}
