import { WorkerError } from '../errors.js';
import type { CallResult, RunResult } from '../model/call-result.js';
import type { Invocation, ScriptHttpRequest } from '../model/invocation.js';
import { newTaskId } from '../model/task-id.js';
import type { FuncAuthCheck } from '../access/api-auth.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import type { CallClient, CallLane, WorkerPool } from '../runtime/pool.js';

/** `_DFF_ORIGIN` of a function auth's run; gitfunc_func_auth.py gives such a call the request as `req`. */
const AUTH_CALL_ORIGIN = 'apiAuth';

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

  /**
   * Runs a function auth's function on the sync lane (see FuncAuthCalls): origin `apiAuth`,
   * no kwargs (the runtime passes the request as `req`), never recorded; never rejects.
   */
  runAuth(revision: Revision, auth: FuncAuthCheck, request: ScriptHttpRequest, client?: CallClient): Promise<CallResult> {
    return this.pool.call(
      {
        revision: revision.ref,
        live: this.holder.live(),
        funcId: auth.funcId,
        kwargsJson: '{}',
        taskId: newTaskId(),
        origin: AUTH_CALL_ORIGIN,
        originId: auth.id,
        attempt: 1,
        httpRequestJson: JSON.stringify(request),
        returnType: 'raw',
        cronExpr: null,
        uploadDir: null,
      },
      auth.timeoutSeconds * 1000,
      'sync',
      client,
    );
  }

  /** Interrupts the background call of `taskId` like its deadline; false when none is queued or running. */
  cancelBackground(taskId: string): boolean {
    return this.pool.cancel(taskId);
  }

  /** Runs an async task or cron run on the background lane (see CallDispatcher); never rejects. */
  async runInBackground(revision: Revision, call: Invocation): Promise<RunResult> {
    const result = await this.run(revision, call, 'background');
    // The background lane has no bounded queue and no client, so it never answers busy or abandoned.
    if (result.kind !== 'busy' && result.kind !== 'abandoned') return result;
    return { kind: 'crashed', error: new WorkerError('WORKER_FAILED', `background call ${result.kind}`) };
  }
}
