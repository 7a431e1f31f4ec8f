import type { ConcurrencyLimit } from './concurrency-limit.js';
import type { TaskOrigin } from './task-record.js';

/** How a result comes back (the call option `returnType`): as returned, or `json.dumps`'d. */
export type ReturnType = 'raw' | 'jsonDumps';

/** The request as a script sees it in `_DFF_HTTP_REQUEST` (credentials removed); fields as DFF's (Express) names them. */
export interface ScriptHttpRequest {
  method: string;
  url: string;
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  body: unknown;
  ip: string | undefined;
  /** X-Forwarded-For's addresses, client first; empty unless the server trusts a proxy. */
  ips: string[];
  host: string | undefined;
  /** The Host (or trusted X-Forwarded-Host) without its port. */
  hostname: string | undefined;
  protocol: string;
  /** X-Requested-With is XMLHttpRequest. */
  xhr: boolean;
}

/** One function call, fully resolved. */
export interface Invocation {
  taskId: string;
  funcId: string;
  origin: TaskOrigin;
  originId: string;
  kwargs: Record<string, unknown>;
  returnType: ReturnType;
  timeoutSeconds: number;
  /** A sync call whose caller waits less than the run may take (`api_timeout`): 599.2 after this many seconds, the run going on. */
  waitSeconds?: number;
  attempt: number;
  /** Sent only to functions whose script uses `_DFF_HTTP_REQUEST`. */
  httpRequest?: ScriptHttpRequest;
  /** `_DFF_CRON_EXPR` of a cron job's run. */
  cronExpr?: string;
  /** The call's own upload folder, set only when files were uploaded (CONTRACT section 4); DFF.RESP_FILE may serve files from it. */
  uploadDir?: string;
  /** `cache_result` of the API, in seconds: set only on sync calls of an API that caches. */
  cacheResultSeconds?: number;
  /** `maxConcurrency` of the sync API: set only when it has one. */
  concurrency?: ConcurrencyLimit;
}
