import type { CronJobEntry } from '../manifest/index.js';
import type { CronJobSpec } from '../model/cron-job.js';
import type { FunctionCatalog } from '../model/function-info.js';

/** The enabled cron jobs of a manifest, ready to schedule. */
export function cronJobSpecs(entries: readonly CronJobEntry[], catalog: FunctionCatalog, defaultTimeoutSeconds: number): CronJobSpec[] {
  const specs: CronJobSpec[] = [];
  for (const entry of entries) {
    const info = catalog.get(entry.func);
    const expression = info?.fixedCronExpr ?? entry.cron;
    if (entry.disabled || expression === undefined) continue; // checkFunctions refused a job with no expression
    specs.push({
      id: entry.id,
      funcId: entry.func,
      expression,
      timezone: entry.timezone,
      kwargs: entry.kwargs,
      misfire: entry.misfire,
      delaysSeconds: info?.delayedCronJob ?? [],
      timeoutSeconds: info?.timeout ?? defaultTimeoutSeconds,
    });
  }
  return specs;
}
