import type { CronJobEntry, Misfire } from '../manifest/index.js';
import type { FunctionCatalog } from '../runtime/function-info.js';

/** A cron job of the served revision, resolved against its function's `@DFF.API` options. */
export interface CronJobSpec {
  id: string;
  funcId: string;
  /** `fixed_cron_expr` of the function when set, else the manifest's `cron`. */
  expression: string;
  timezone: string;
  kwargs: Record<string, unknown>;
  misfire: Misfire;
  /** `delayed_cron_job`: one extra run this many seconds after each fire. */
  delaysSeconds: number[];
  timeoutSeconds: number;
}

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
