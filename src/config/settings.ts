/** The server settings every other module reads: validated once at start, then frozen. */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Where the functions come from. */
export interface RepoSettings {
  /** An http(s) URL (kept as given), or an absolute local directory. */
  readonly url: string;
  readonly ref: string;
  /** Folder inside the repository holding gitfunc.yaml; '' for the root. */
  readonly path: string;
  readonly username: string;
  readonly token?: string;
  /** Seconds between fetches of the ref without a webhook or reload request; 0 is off. */
  readonly pollSeconds: number;
  /** Reload attempts the deploy history keeps. */
  readonly historyKeep: number;
}

/** CORS of the function APIs. */
export interface CorsSettings {
  /** `*` for any origin, else exact origins (`https://app.example.com`); empty turns CORS off. */
  readonly allowOrigins: readonly string[];
  readonly allowCredentials: boolean;
  /** Request headers a browser may send, besides those the API's auth reads. */
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/** Every setting, filled in (CONTRACT section 8b). */
export interface Settings {
  readonly host: string;
  /** 0 asks the OS for a free port. */
  readonly port: number;
  readonly repo: RepoSettings;
  /** Absolute. */
  readonly dataDir: string;
  readonly workers: number;
  /** The interpreter snapshot workers start from (runtime/snapshot/). */
  readonly snapshot: {
    readonly enabled: boolean;
    /** Absolute; `<dataDir>/cache` unless set. */
    readonly dir: string;
  };
  /** Environment names the manifest may read with `${NAME}`; never GITFUNC_*. */
  readonly envAllow: readonly string[];
  /** Without it the admin endpoints answer 403. */
  readonly adminToken?: string;
  readonly webhookSecret?: string;
  /** The push webhook endpoint. */
  readonly webhook: {
    readonly path: string;
    /** Larger bodies are refused (413) before they are read. */
    readonly maxBodyBytes: number;
    /** Dangerous: without a secret, accept unsigned webhooks instead of refusing every one. */
    readonly allowUnsigned: boolean;
  };
  /** gitfunc as a git remote (`git push`); on when `enabled` or a token is set. */
  readonly pushRemote: {
    readonly enabled: boolean;
    readonly path: string;
    /** HTTP Basic password, any user name; required when enabled. */
    readonly token?: string;
    /** git's receive.maxInputSize: the largest pack one push may send. */
    readonly maxPushBytes: number;
  };
  /** `format: auto` is pretty on a terminal, json otherwise (resolveLogFormat). */
  readonly log: { readonly level: LogLevel; readonly format: 'auto' | 'json' | 'pretty' };
  readonly limits: {
    /** Largest request body (413.1); for a multipart upload, the size of its text fields. */
    readonly bodyBytes: number;
    readonly syncTimeoutMaxSeconds: number;
    /** Time allowed to import every script of a revision. */
    readonly importSeconds: number;
    /** Sync calls waiting for a free worker, per worker, before new ones are refused (503.1). */
    readonly syncQueuePerWorker: number;
    /** Async tasks waiting in the durable queue before new async calls are refused (429.47). */
    readonly asyncQueueMax: number;
    /** Time a client has to send its request line and headers (slow clients get 408). */
    readonly headersTimeoutSeconds: number;
    /** Time a client has, after the headers, to send the whole body. */
    readonly bodyReadSeconds: number;
    /** Largest uploaded file (413.2). */
    readonly uploadFileBytes: number;
    /** Largest total of one upload's files (413.1). */
    readonly uploadTotalBytes: number;
    /** Most files in one upload (413.3). */
    readonly uploadFiles: number;
    /** A worker is recycled (replaced by a fresh one) after this many calls; 0 never. */
    readonly workerMaxCalls: number;
    /** A worker is recycled once its WASM heap passes this many MiB; 0 never. */
    readonly workerHeapMB: number;
    /** Sockets one call may hold open at once. */
    readonly socketsPerCall: number;
  };
  /** What scripts may connect to, and the CAs their TLS trusts (CONTRACT section 10). */
  readonly network: {
    /** Egress rules: `host`, `*.domain`, `*`, an IP or a CIDR, each with an optional `:port`. */
    readonly allow: readonly string[];
    /** Rules that win over `allow`. */
    readonly deny: readonly string[];
    /** Absolute; a PEM file trusted besides the host's CA store. */
    readonly caFile?: string;
  };
  /** How many task records are kept, and how long; older finished ones are trimmed. */
  readonly tasks: {
    /** Per sync/async API. */
    readonly keepPerApi: number;
    /** Per cron job. */
    readonly keepPerCronJob: number;
    /** An async task's record stays at least this long after it ended, whatever the count. */
    readonly keepSeconds: number;
    /** Most MiB all records may take; past it the oldest finished go, those past keepSeconds first. */
    readonly maxStoredMB: number;
  };
  /** What SIGTERM does, in seconds (fractions allowed). */
  readonly shutdown: {
    /** /readyz answers 503 at once while the server keeps serving this long, then it stops accepting. */
    readonly drainSeconds: number;
    /** Then how long in-flight calls may take to finish before the process exits anyway. */
    readonly graceSeconds: number;
  };
  /** How long a timed-out call's worker may take to stop before it is terminated. */
  readonly callTimeoutGraceMs: number;
  /** CORS headers of the function APIs; admin routes never send them. */
  readonly cors: CorsSettings;
  /** Where pinned packages' wheels come from, after the repository's `wheels/` (CONTRACT section 11). */
  readonly packages: {
    /** Absolute folders of wheel files. */
    readonly wheelhouse: readonly string[];
    /** A PEP 503 simple index URL; '' for none. */
    readonly index: string;
    /** Absolute folder of a Pyodide distribution (pyodide-lock.json and wheels); '' for none. */
    readonly pyodidePackages: string;
  };
  /** Behind a reverse proxy: scripts see the client's address, host and protocol from X-Forwarded-* headers. */
  readonly trustProxy: boolean;
  /** Several servers on one Redis (CONTRACT section 13); `url` '' for one server on its embedded store. */
  readonly redis: {
    readonly url: string;
    readonly keyPrefix: string;
    /** '' for host:port:pid, filled in once the port is known. */
    readonly replicaId: string;
    /** '' for the URL the server listens on. */
    readonly advertisedUrl: string;
  };
}

const MASK = '***';

/** `settings` as they may be logged: tokens and secrets (also inside the repo URL) replaced by '***'. */
export function redactedSettings(settings: Settings): Settings {
  const repo: RepoSettings = {
    ...settings.repo,
    url: redactUrl(settings.repo.url),
    ...(settings.repo.token !== undefined ? { token: MASK } : {}),
  };
  return {
    ...settings,
    repo,
    ...(settings.adminToken !== undefined ? { adminToken: MASK } : {}),
    ...(settings.webhookSecret !== undefined ? { webhookSecret: MASK } : {}),
    pushRemote: { ...settings.pushRemote, ...(settings.pushRemote.token !== undefined ? { token: MASK } : {}) },
    packages: { ...settings.packages, index: redactUrl(settings.packages.index) },
    redis: { ...settings.redis, url: redactUrl(settings.redis.url) },
  };
}

/** `https://user:token@host/x` -> `https://***@host/x`; anything else unchanged. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]+@/i, `$1${MASK}@`);
}
