/** What a cron job does after downtime: skip the fires missed while down, or run once for them. */
export type Misfire = 'skip' | 'runOnce';

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
