import { randomBytes } from 'node:crypto';
import { WorkerError } from '../errors.js';
import type { CallClient, CallLane, CallResult, WorkerPool } from '../runtime/pool.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { ConcurrencyLimit } from './concurrency-limit.js';
import type { Revision } from '../revision/revision.js';
import type { ReturnType } from '../runtime/worker-protocol.cjs';
import type { RunResult } from '../tasks/record-of-call.js';
import type { TaskOrigin } from '../tasks/task-record.js';


/** The request as a script sees it in `_DFF_HTTP_REQUEST` (credentials removed). */
export interface ScriptHttpRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  body: unknown;
  ip: string | undefined;
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

const TASK_ID_BYTES = 18;
// One randomBytes call per 256 ids: a call per request showed in the sync path's profile.
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** `task-` + 24 unguessable characters (CONTRACT section 8). */
export function newTaskId(): string {
  if (randomOffset + TASK_ID_BYTES > randomPool.length) {
    randomPool = randomBytes(TASK_ID_BYTES * 256);
    randomOffset = 0;
  }
  const id = randomPool.toString('base64url', randomOffset, randomOffset + TASK_ID_BYTES);
  randomOffset += TASK_ID_BYTES;
  return `task-${id}`;
}

/** Runs invocations on the worker pool against a given revision. */
export class Invoker {
  constructor(
    private readonly pool: WorkerPool,
    private readonly holder: RevisionHolder,
  ) {}

  /**
   * Runs one call on `revision` (acquired by the caller); never rejects. A sync call's
   * `client` (its socket) is checked before the call starts: if it hung up, the call is dropped.
   */
  run(revision: Revision, call: Invocation, lane: CallLane = 'sync', client?: CallClient): Promise<CallResult> {
    return this.pool.call(
      {
        revision: revision.ref,
        live: this.holder.live(),
        funcId: call.funcId,
        kwargsJson: JSON.stringify(call.kwargs),
        taskId: call.taskId,
        origin: call.origin,
        originId: call.originId,
        attempt: call.attempt,
        httpRequestJson: call.httpRequest === undefined ? null : JSON.stringify(call.httpRequest),
        returnType: call.returnType,
        cronExpr: call.cronExpr ?? null,
        uploadDir: call.uploadDir ?? null,
      },
      call.timeoutSeconds * 1000,
      lane,
      client,
    );
  }

  /** Runs an async task or cron run on the background lane (see CallDispatcher); never rejects. */
  async runInBackground(revision: Revision, call: Invocation): Promise<RunResult> {
    const result = await this.run(revision, call, 'background');
    // The background lane has no bounded queue and no client, so it never answers busy or abandoned.
    if (result.kind !== 'busy' && result.kind !== 'abandoned') return result;
    return { kind: 'crashed', error: new WorkerError('WORKER_FAILED', `background call ${result.kind}`) };
  }
}
