/**
 * Every error code gitfunc raises, in one place: each with a one-line description and, when the
 * error reaches an API client, its DFF `error` number and `reason` (CONTRACT section 5: the
 * HTTP status is the integer part of `error`). Raisers name a code from here (`GitfuncError`'s
 * constructor only takes these), `http/` answers with the catalog's `error` and `reason`, and
 * the README's error table is written from it (`npm run errors:table`).
 *
 * Codes are stable: clients, logs and the status page see them. Add codes; do not rename them.
 */

/** What the catalog says about one code. */
export interface ErrorSpec {
  /** The DFF `error` number an API answers with; absent for errors that never reach an API client. */
  readonly error?: number;
  /** The DFF `reason` sent with `error`. */
  readonly reason?: string;
  /** Seconds the answer's `Retry-After` header asks a client to wait, for an error it may retry. */
  readonly retryAfterSeconds?: number;
  /** One line for the README: when the error happens. */
  readonly description: string;
}

export const ERROR_CATALOG = {
  // Answers of the HTTP API (DFF error numbers), in the order of the README's table.
  NOT_FOUND: { error: 404.41, reason: 'ENotFound', description: 'unknown API, route, task or cron job' },
  BAD_REQUEST: {
    error: 400.43,
    reason: 'EClientBadRequest',
    description: 'bad JSON, a malformed body or query, an unexpected field, kwargs or options nested over 100 levels (`detail.maxDepth`)',
  },
  CALL_OPTION_INVALID: {
    error: 400.43,
    reason: 'EClientBadRequest',
    description: '`options` other than `returnType` (`raw`, `jsonDumps`) and `timeout` (above 0, at most the API\'s timeout)',
  },
  KWARG_UNEXPECTED: { error: 400.43, reason: 'EClientBadRequest', description: 'a kwarg the API does not declare, or its function cannot take (`detail.field`; `detail.accepted` lists what it takes)' },
  KWARG_FIXED: { error: 400.43, reason: 'EClientBadRequest', description: 'a kwarg the API fixes in the manifest (`detail.field`)' },
  AUTH_FAILED: {
    error: 401.99,
    reason: 'EAuthFailed',
    description: 'missing or wrong API, admin, webhook or push credentials (httpBasic and httpDigest add `WWW-Authenticate`), or a function auth refused',
  },
  ADMIN_DISABLED: { error: 403.1, reason: 'EAdminDisabled', description: 'an admin endpoint while no admin token is configured' },
  WEBHOOK_DISABLED: { error: 403.3, reason: 'EWebhookDisabled', description: 'a webhook while no webhook secret is configured' },
  API_DISABLED: { error: 403.21, reason: 'EApiDisabled', description: 'API `disabled`, or past its `expireTime`' },
  BODY_INCOMPLETE: {
    error: 408.1,
    reason: 'EBodyIncomplete',
    description: 'body not received within `limits.bodyReadSeconds`, or the client closed the connection',
  },
  BODY_TOO_LARGE: {
    error: 413.1,
    reason: 'EBodyTooLarge',
    description: 'body larger than `limits.bodyBytes`, or uploaded files together larger than `limits.uploadTotalBytes`',
  },
  UPLOAD_FILE_TOO_LARGE: { error: 413.2, reason: 'EUploadFileTooLarge', description: 'an uploaded file larger than `limits.uploadFileBytes`' },
  UPLOAD_TOO_MANY_FILES: { error: 413.3, reason: 'EUploadTooManyFiles', description: 'more than `limits.uploadFiles` files in one upload' },
  TASK_ENDED: { error: 409.1, reason: 'ETaskEnded', description: 'cancelling a task that already ended (`detail.status`)' },
  TASK_RUNS_ELSEWHERE: {
    error: 409.3,
    reason: 'ETaskRunsElsewhere',
    description: 'cancelling a running task on a replica that does not run it (several servers on Redis)',
  },
  ROLLBACK_WITH_REPLICAS: {
    error: 409.2,
    reason: 'ERollbackWithReplicas',
    description: 'a rollback or unpin on a server sharing Redis with others (`redis.url`): it would pin this server alone',
  },
  THROTTLED: { error: 429.46, reason: 'EThrottled', description: 'API over its `throttling` limit (with `Retry-After`)' },
  ASYNC_QUEUE_FULL: {
    error: 429.47,
    reason: 'EAsyncQueueFull',
    retryAfterSeconds: 5,
    description: 'the async task queue is full (with `Retry-After`)',
  },
  INTERNAL: { error: 500, reason: 'EInternal', description: 'a bug in gitfunc: logged with the trace id it answers with' },
  SERVER_BUSY: {
    error: 503.1,
    reason: 'EServerBusy',
    description: 'every worker busy and the call queue full (with `Retry-After`)',
  },
  API_CONCURRENCY_LIMIT: {
    error: 503.1,
    reason: 'EServerBusy',
    retryAfterSeconds: 1,
    description: 'the API already runs its `maxConcurrency` calls (with `Retry-After`)',
  },
  SERVER_NOT_READY: { error: 503.2, reason: 'EServerNotReady', description: 'no revision loaded yet (with `Retry-After`)' },
  SCRIPT_IMPORT_FAILED: {
    error: 503.3,
    reason: 'EScriptImportFailed',
    description:
      'the script of the API\'s or cron job\'s function failed to import, in a revision served with `scriptErrors: isolate` (`detail.script`, `detail.file`, `detail.line`, `detail.col`, `detail.importError`)',
  },
  SHARED_STORE_UNAVAILABLE: {
    error: 503.4,
    reason: 'ESharedStoreUnavailable',
    retryAfterSeconds: 5,
    description:
      'with several servers (`redis.url`), Redis cannot be reached: an async call is refused rather than lost, as is a sync call whose API needs it (throttling, `cache_result`) (with `Retry-After`)',
  },
  FUNC_FAILED: {
    error: 599.1,
    reason: 'EFuncFailed',
    description: 'the function raised (`detail.exception`, `detail.traceback` with script frames only), or its response was refused',
  },
  FUNC_TIMEOUT: {
    error: 599.2,
    reason: 'EFuncTimeout',
    description: 'the function ran past its timeout (default 35 s, sync calls capped at 180 s)',
  },
  WORKER_FAILED: { error: 599.99, reason: 'EWorkerFailed', description: 'the worker running the call died, or the server shut down under it' },

  // Inside the server: logged, shown by `gitfunc check`, the status page or the CLI.
  CONFIG_INVALID: { description: 'a setting (config file, environment, flag) is missing or invalid' },
  REPO_NOT_GIVEN: {
    description: '`gitfunc serve` was given no repository (`--repo`, `GITFUNC_REPO`, a config file) and the default `./functions.example` is not in the working directory',
  },
  DATA_DIR_LOCKED: { description: 'another gitfunc process uses the data dir' },
  DRIVER_NOT_LOADED: {
    description: 'a module loaded only when a setup uses it (mysql2, pg, ioredis for a connector of its type; ioredis and BullMQ for `redis.url`; formidable at the first upload; yauzl at the first wheel) could not be loaded: the installation is incomplete',
  },
  STORE_TOO_NEW: { description: 'the task database was written by a newer gitfunc' },
  PORT_IN_USE: { description: 'another process listens on the port (`--port`, `GITFUNC_PORT`)' },
  GIT_URL_UNSUPPORTED: { description: 'the repository is neither an http(s) URL nor a local directory' },
  GIT_UNREACHABLE: { description: 'the git server cannot be reached, or answered with an HTTP error' },
  GIT_AUTH_FAILED: { description: 'the git server refused the credentials (`GITFUNC_GIT_TOKEN`)' },
  GIT_REPO_NOT_FOUND: { description: 'no git repository at the URL (HTTP 404)' },
  GIT_REF_NOT_FOUND: { description: 'the followed branch, tag or commit does not exist' },
  GIT_FETCH_FAILED: { description: 'fetching the commit failed for another reason' },
  GIT_PATH_INVALID: { description: '`repo.path` is not a relative subfolder' },
  GIT_PATH_NOT_FOUND: { description: '`repo.path` does not exist in the commit' },
  GIT_DATA_DIR_INVALID: { description: 'the data dir is not an absolute path' },
  GIT_TREE_INVALID: { description: 'the commit has an unsafe or duplicate file name' },
  GIT_SYMLINK_OUTSIDE: { description: 'a symlink points outside the served folder' },
  GIT_LFS_UNSUPPORTED: { description: 'the commit holds Git LFS pointers instead of content' },
  GIT_SUBMODULES_UNSUPPORTED: { description: 'the commit has git submodules' },
  PACKAGE_NOT_FOUND: { description: 'a pinned package (`packages`) is in none of the package sources: its revision is not served' },
  PACKAGE_INCOMPATIBLE: {
    description: 'a pinned package exists only as an sdist or as wheels for another platform (neither pure Python nor the bundled Pyodide\'s)',
  },
  PACKAGE_HASH_MISMATCH: { description: 'a wheel\'s sha256 differs from the index\'s or from the pin\'s `--hash`' },
  PACKAGE_SOURCE_FAILED: { description: 'the package index (`GITFUNC_PACKAGE_INDEX`) or a wheel file could not be read' },
  PACKAGE_WHEEL_INVALID: { description: 'a wheel is not a readable zip, or holds a path outside its folder (absolute or `..`)' },
  REVISION_INVALID: { description: 'the manifest or a script has errors: the revision is not served' },
  RELOAD_STOPPED: { description: 'the server stopped before a revision was served' },
  IMPORT_CHECK_TIMEOUT: { description: 'importing the scripts ran past `limits.importSeconds`' },
  IMPORT_CHECK_STUCK: { description: 'importing the scripts ran past its time and ignored the interrupt: its worker was terminated' },
  IMPORT_CHECK_WORKER_DIED: { description: 'the worker importing the scripts died (out of memory?)' },
  IMPORT_CHECK_CANCELLED: { description: 'the import check did not run: the server is stopping' },
  WORKER_TASK_FAILED: { description: 'a worker could not run a task (reading the revision files failed)' },
  WORKER_INTERPRETER_FAILED: { description: 'a worker\'s Python interpreter failed: the worker is replaced' },
  WORKER_POOL_CLOSED: { description: 'the worker pool is closing: queued and running work is ended' },
  BRIDGE_REFUSED: { description: 'the server refused a script\'s request (bad argument, unknown operation)' },
  BRIDGE_FAILED: { description: 'the server failed a script\'s request (logged on the server)' },
  BRIDGE_TIMEOUT: { description: 'the server did not answer a script\'s request in time' },
  CACHE_VALUE_INVALID: { description: '`DFF.CACHE.incr` on a value that is not an integer, or past the integer range' },
  RESPONSE_REFUSED: { description: 'a `DFF.RESP_FILE` or other response control was not followed (the call fails with 599.1)' },
  SNAPSHOT_UNUSABLE: { description: 'the interpreter snapshot file is damaged or from another Pyodide build: workers load normally' },
  SANDBOX_CODE_GENERATION_ALLOWED: { description: 'a worker started where JS may compile strings: it refuses to run scripts' },
  CLIENT_UNREACHABLE: { description: 'a command of the `gitfunc` CLI (`call`, `status`, `tasks`, `reload`) could not reach the server at `--url`' },
  CLIENT_REFUSED: { description: 'the server answered a `gitfunc` CLI command with an error (its DFF `error`, `reason` and message are printed)' },
  CLIENT_USAGE: { description: 'a `gitfunc` CLI command was given a flag without its value, or a `k=v` argument without `=`' },
  CLIENT_ANSWER_INVALID: { description: 'the server answered a `gitfunc` CLI command with something other than a gitfunc JSON body' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Codes an API client can receive: those with a DFF `error` number. */
export type ApiErrorCode = { [C in ErrorCode]: (typeof ERROR_CATALOG)[C] extends { error: number } ? C : never }[ErrorCode];

/** True when `value` is a code of the catalog. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}
