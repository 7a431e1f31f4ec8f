import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { type CounterSeries, type HistogramSeries, HotCounter, HotHistogram, register } from './hot-series.js';
import type { TaskRecord } from '../model/task-record.js';

/** What the gauges read at scrape time (the server wires them to the queue, the pool, the holder). */
export interface ScrapeSources {
  asyncQueueDepth(): Promise<number>;
  /** Worker threads by state (`starting`, `idle`, `busy`, `retiring`). */
  workers(): Record<string, number>;
  /** The commit served now, if any. */
  servedCommit(): string | undefined;
}

/** Where a run's end is counted: calls of an API, or runs of a cron job (see `runEnded`). */
export interface RunMetrics {
  runEnded(record: TaskRecord): void;
}

/** Latency buckets (seconds) of calls and HTTP requests; `/api/v1/stats` reads its p50/p99 from them. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Pre-bound children of one API (for one origin): no label object is built per call. */
interface ApiChildren {
  duration: HistogramSeries;
  byStatus: Map<string, CounterSeries>;
}

/** The last run of a cron job, for `/api/v1/stats`. */
export interface LastCronRun {
  at: number;
  status: string;
}

/**
 * The Prometheus registry and every gitfunc metric (CONTRACT section 14). Counters are bumped
 * on the server thread where each thing happens; gauges are read at scrape time.
 */
export class GitfuncMetrics implements RunMetrics {
  readonly registry = new Registry();
  /** Epoch ms the counting started: `/api/v1/stats` counts since then. */
  readonly since = Date.now();
  readonly calls = new HotCounter('gitfunc_calls_total', 'API calls that ran, by API, origin and final status');
  readonly callDuration = new HotHistogram(
    'gitfunc_call_duration_seconds',
    'How long API calls ran (start to end of the function), by API and origin',
    DURATION_BUCKETS,
  );
  readonly httpDuration = new HotHistogram('http_server_request_duration_seconds', 'HTTP requests, by method, route template and status code', DURATION_BUCKETS);
  readonly cronRuns: Counter<'job' | 'status'>;
  private readonly workerRestarts: Counter<'reason'>;
  private readonly reloads: Counter<'result'>;
  /** origin → API id → children. */
  private readonly apiChildren = new Map<string, Map<string, ApiChildren>>();
  /** route → method → status code → child. */
  private readonly httpChildren = new Map<string, Map<string, Map<number, HistogramSeries>>>();
  private readonly lastCronRuns = new Map<string, LastCronRun>();

  constructor(sources: ScrapeSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    register(this.registry, this.calls);
    register(this.registry, this.callDuration);
    register(this.registry, this.httpDuration);
    new Gauge({
      name: 'gitfunc_async_queue_depth',
      help: 'Async tasks waiting in the durable queue',
      registers,
      async collect() {
        this.set(await sources.asyncQueueDepth());
      },
    });
    new Gauge({
      name: 'gitfunc_workers',
      help: 'Worker threads by state',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, count] of Object.entries(sources.workers())) this.set({ state }, count);
      },
    });
    this.workerRestarts = new Counter({ name: 'gitfunc_worker_restarts_total', help: 'Worker threads replaced, by reason', labelNames: ['reason'], registers });
    this.reloads = new Counter({ name: 'gitfunc_reloads_total', help: 'Reloads, by what they did', labelNames: ['result'], registers });
    new Gauge({
      name: 'gitfunc_revision_info',
      help: 'The commit served (value 1)',
      labelNames: ['commit'],
      registers,
      collect() {
        this.reset();
        const commit = sources.servedCommit();
        if (commit !== undefined) this.set({ commit }, 1);
      },
    });
    this.cronRuns = new Counter({ name: 'gitfunc_cron_runs_total', help: 'Cron job runs (scheduled or manual), by job and final status', labelNames: ['job', 'status'], registers });
  }

  /**
   * A run's final record: an API call is counted with its duration, a cron run (scheduled or
   * manual) by job. On the sync path: one map lookup, one counter inc, one histogram observe.
   */
  runEnded(record: TaskRecord): void {
    if (record.origin === 'cronJob' || record.origin === 'manual') {
      this.cronRuns.inc({ job: record.originId, status: record.status });
      this.lastCronRuns.set(record.originId, { at: record.startTime ?? record.triggerTime, status: record.status });
      return;
    }
    const children = this.childrenOf(record.origin, record.originId);
    let counter = children.byStatus.get(record.status);
    if (counter === undefined) {
      counter = this.calls.make({ api: record.originId, origin: record.origin, status: record.status });
      children.byStatus.set(record.status, counter);
    }
    counter.inc();
    if (record.startTime !== undefined && record.endTime !== undefined) children.duration.observe((record.endTime - record.startTime) / 1000);
  }

  private childrenOf(origin: string, api: string): ApiChildren {
    let byApi = this.apiChildren.get(origin);
    if (byApi === undefined) this.apiChildren.set(origin, (byApi = new Map()));
    let children = byApi.get(api);
    if (children === undefined) byApi.set(api, (children = { duration: this.callDuration.make({ api, origin }), byStatus: new Map() }));
    return children;
  }

  /** One HTTP request answered; `route` is its template (bounded cardinality). */
  requestEnded(method: string, route: string, statusCode: number, seconds: number): void {
    let byMethod = this.httpChildren.get(route);
    if (byMethod === undefined) this.httpChildren.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let child = byStatus.get(statusCode);
    if (child === undefined) byStatus.set(statusCode, (child = this.httpDuration.make({ method, route, status_code: String(statusCode) })));
    child.observe(seconds);
  }

  workerRestarted(reason: string): void {
    this.workerRestarts.inc({ reason });
  }

  reloadEnded(result: string): void {
    this.reloads.inc({ result });
  }

  /** The last run of each cron job since the start. */
  lastCronRun(job: string): LastCronRun | undefined {
    return this.lastCronRuns.get(job);
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
