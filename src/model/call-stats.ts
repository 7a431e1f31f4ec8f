/**
 * What `GET /api/v1/stats` answers per API and cron job: computed by metrics/call-stats.ts,
 * read by the dashboard (ui/), which imports these types from here.
 */

/** One API's calls since the server started (`GET /api/v1/stats`). */
export interface ApiStats {
  id: string;
  kind: 'sync' | 'async';
  calls: number;
  /** Calls that did not end in `success` (failure, timeout, cancelled). */
  errors: number;
  /** Estimated from the duration histogram's buckets; null before the first call. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** One cron job's runs since the server started. */
export interface CronStats {
  id: string;
  runs: number;
  /** Runs that ended in failure or timeout. */
  failures: number;
  lastRunAt: string | null;
  lastStatus: string | null;
}
