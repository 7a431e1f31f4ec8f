import type { ApiStats, CronStats } from '../model/call-stats.js';
import type { GitfuncMetrics } from './gitfunc-metrics.js';

const KIND_OF_ORIGIN: Record<string, ApiStats['kind']> = { syncAPI: 'sync', asyncAPI: 'async' };
const FAILED_CRON = new Set(['failure', 'timeout']);

/**
 * The `q` quantile of a histogram, as Prometheus's `histogram_quantile` estimates it: find the
 * bucket the rank falls in and interpolate linearly inside it. Past the last finite bucket, that
 * bound is the answer.
 */
export function bucketQuantile(q: number, buckets: readonly { le: number; count: number }[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / (count - below || 1);
    }
    lower = le;
    below = count;
  }
  return lower;
}

const ms = (seconds: number | null): number | null => (seconds === null ? null : Math.round(seconds * 100_000) / 100);

/**
 * Calls, errors and p50/p99 of every API counted since the start, plus `known` APIs (the served
 * revision's) with none yet. Read from the metrics' own series: nothing more is counted per call.
 */
export function apiStats(metrics: GitfuncMetrics, known: readonly { id: string; kind: ApiStats['kind'] }[]): ApiStats[] {
  const stats = new Map<string, ApiStats & { buckets: { le: number; count: number }[] }>();
  const entry = (kind: ApiStats['kind'], id: string) => {
    const key = `${kind}\0${id}`;
    let found = stats.get(key);
    if (found === undefined) stats.set(key, (found = { id, kind, calls: 0, errors: 0, p50Ms: null, p99Ms: null, buckets: [] }));
    return found;
  };
  for (const { id, kind } of known) entry(kind, id);
  for (const { labels, value } of metrics.calls.series) {
    const found = entry(KIND_OF_ORIGIN[labels.origin!]!, labels.api!);
    found.calls += value;
    if (labels.status !== 'success') found.errors += value;
  }
  const bounds = [...metrics.callDuration.bounds, Infinity];
  for (const { labels, buckets } of metrics.callDuration.series) {
    let cumulative = 0;
    entry(KIND_OF_ORIGIN[labels.origin!]!, labels.api!).buckets = bounds.map((le, index) => ({ le, count: (cumulative += buckets[index]!) }));
  }
  return [...stats.values()].map(({ buckets, ...api }) => ({ ...api, p50Ms: ms(bucketQuantile(0.5, buckets)), p99Ms: ms(bucketQuantile(0.99, buckets)) }));
}

/** Runs and failures of every cron job run since the start, plus `known` jobs with none yet. */
export async function cronStats(metrics: GitfuncMetrics, known: readonly string[]): Promise<CronStats[]> {
  const stats = new Map<string, CronStats>();
  const entry = (id: string): CronStats => {
    let found = stats.get(id);
    if (found === undefined) {
      const last = metrics.lastCronRun(id);
      found = { id, runs: 0, failures: 0, lastRunAt: last ? new Date(last.at).toISOString() : null, lastStatus: last?.status ?? null };
      stats.set(id, found);
    }
    return found;
  };
  for (const id of known) entry(id);
  for (const { labels, value } of (await metrics.cronRuns.get()).values) {
    const found = entry(String(labels.job));
    found.runs += value;
    if (FAILED_CRON.has(String(labels.status))) found.failures += value;
  }
  return [...stats.values()];
}
