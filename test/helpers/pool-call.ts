// A call straight to a worker pool, without an HTTP server: as a manual run of `funcId` would be.
import type { CallResult } from '../../src/model/call-result.js';
import type { RevisionRef } from '../../src/model/revision-ref.js';
import type { WorkerPool } from '../../src/runtime/pool.js';
import type { CallRequest } from '../../src/runtime/worker-protocol.cjs';

/** A call of `funcId` in `revision` (no kwargs, raw return), with `live` the revisions still in use. */
export function manualCall(revision: RevisionRef, live: string[], funcId: string): CallRequest {
  return {
    revision,
    live,
    funcId,
    kwargsJson: '{}',
    taskId: 'task-test',
    origin: 'manual',
    originId: 'test',
    attempt: 1,
    httpRequestJson: null,
    cronExpr: null,
    uploadDir: null,
    returnType: 'raw',
  };
}

/** Calls `funcId` (no kwargs, raw return) in `revision`, with `live` the revisions still in use. */
export function callInPool(pool: WorkerPool, revision: RevisionRef, live: string[], funcId: string): Promise<CallResult> {
  // Generous: the first call also waits for the worker to load Pyodide.
  return pool.call(manualCall(revision, live, funcId), 60_000);
}
