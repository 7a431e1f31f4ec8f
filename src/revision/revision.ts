import type { ApiAccess } from '../access/api-access.js';
import type { ConnectorEntry } from '../manifest/index.js';
import type { SecretMask } from '../access/secret-mask.js';
import type { Problem } from '../errors.js';
import type { ConcurrencyLimit } from '../model/concurrency-limit.js';
import type { FunctionCatalog } from '../model/function-info.js';
import type { RevisionRef } from '../model/revision-ref.js';
import type { CronJobSpec } from '../model/cron-job.js';
import type { ScriptFailure, UnscheduledCronJob } from './script-failures.js';

/** An API of the manifest, resolved against its function: ready to call. */
export interface ApiEndpoint {
  id: string;
  funcId: string;
  /** The manifest's `title` and `description` of the API, for its docs. */
  title?: string;
  description?: string;
  /** Declared kwargs (fixed values or INPUT_BY_CALLER); undefined lets the caller pass any. */
  kwargs?: Readonly<Record<string, unknown>>;
  /** Manifest override, else the function's own, else the default; capped for sync calls (unless waitSeconds is set). */
  timeoutSeconds: number;
  /**
   * A sync API whose function gives `api_timeout` with `timeout`, shorter than the run's
   * timeoutSeconds: a caller is answered 599.2 after this many seconds (capped as sync timeouts
   * are) while the run goes on, up to timeoutSeconds, and is recorded.
   */
  waitSeconds?: number;
  /** Names its function can take by keyword; undefined when it takes `**kwargs` (any name). */
  keywordParameters?: readonly string[];
  /** The function reads `_DFF_HTTP_REQUEST`: only then is it built for a call. */
  usesHttpRequest: boolean;
  /** `cache_result` seconds of the function, when it caches (sync APIs only). */
  cacheResultSeconds?: number;
  /** Switches, auth and throttling; undefined when the API has none (the fast path). */
  access?: ApiAccess;
  /** `maxConcurrency` of a sync API; undefined without one (the fast path). */
  concurrency?: ConcurrencyLimit;
  /** Set when its function's script failed to import (`scriptErrors: isolate`): every call answers 503.3. */
  scriptFailure?: ScriptFailure;
}

/** A loaded, validated, ready-to-serve commit. Immutable once built. */
export interface Revision {
  commit: string;
  dir: string;
  /** What a worker needs to load it. */
  ref: RevisionRef;
  catalog: FunctionCatalog;
  syncApis: ReadonlyMap<string, ApiEndpoint>;
  asyncApis: ReadonlyMap<string, ApiEndpoint>;
  /** Enabled cron jobs, expressions resolved (`fixed_cron_expr` wins). */
  cronJobs: readonly CronJobSpec[];
  /** Scripts left out because they failed to import (`scriptErrors: isolate`), by script id. */
  scriptFailures: ReadonlyMap<string, ScriptFailure>;
  /** Enabled cron jobs not in `cronJobs`: their function's script failed to import. */
  unscheduledCronJobs: readonly UnscheduledCronJob[];
  /** The manifest's connectors, their settings resolved (secrets included: never logged or sent to a worker). */
  connectors: readonly ConnectorEntry[];
  /** Warnings found while building (errors stop the build). */
  warnings: Problem[];
  /** Masks resolved secret values wherever output leaves the server; undefined without secrets. */
  mask?: SecretMask;
  /** Epoch ms when the build finished. */
  builtAt: number;
}
