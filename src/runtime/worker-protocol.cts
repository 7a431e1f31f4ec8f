/**
 * Messages between the server thread and a Pyodide worker. Types only; a `.cts` file so the
 * CommonJS worker entry and the ESM server code can both import it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorJSON } from '../errors.js' with { 'resolution-mode': 'import' };
import type { CallOutcome } from '../model/call-result.js' with { 'resolution-mode': 'import' };
import type { FunctionInfo } from '../model/function-info.js' with { 'resolution-mode': 'import' };
import type { ReturnType } from '../model/invocation.js' with { 'resolution-mode': 'import' };
import type { RevisionRef } from '../model/revision-ref.js' with { 'resolution-mode': 'import' };
import type { BatchReport } from './worker-health.cjs';

export type { CallOutcome, RevisionRef };

/** The CA certificates scripts' TLS trusts by default, written into each worker's file system. */
export interface CaBundleFile {
  path: string;
  pem: string;
}


interface RevisionTask {
  revision: RevisionRef;
  /** Revisions still in use somewhere; a worker drops every other namespace it holds. */
  live: string[];
}

/** One function call; calls travel to a worker in batches. */
export interface CallTask extends RevisionTask {
  /** Echoed in its CallResultMessage. */
  callId: number;
  funcId: string;
  kwargsJson: string;
  /** `_DFF_TASK_ID`, `_DFF_ORIGIN`, `_DFF_ORIGIN_ID`, `_DFF_TASK_ATTEMPT` for the script. */
  taskId: string;
  origin: string;
  originId: string;
  attempt: number;
  /** `_DFF_HTTP_REQUEST` as JSON, or null when the script does not use it. */
  httpRequestJson: string | null;
  /** `_DFF_CRON_EXPR` for a cron job's run, else null. */
  cronExpr: string | null;
  /** The call's upload folder, mounted in Pyodide at this same path for the call; else null. */
  uploadDir: string | null;
  returnType: ReturnType;
  /** The call's shared state (see task-state.cts), at `interruptOffset` bytes into this buffer. */
  interrupt: SharedArrayBuffer;
  interruptOffset: number;
  /** The call's time limit in ms, counted from `timedFrom` (epoch ms), or from when the worker starts it when null. */
  timeoutMs: number;
  timedFrom: number | null;
}

/** A call as its caller describes it; the dispatcher adds its id, shared state and time limit. */
export type CallRequest = Omit<CallTask, 'callId' | 'interrupt' | 'interruptOffset' | 'timeoutMs' | 'timedFrom'>;

/** Calls a worker runs in order, posting each result as a CallResultMessage when it ends. */
export interface CallBatchTask {
  type: 'calls';
  calls: CallTask[];
  /**
   * The server is quiet (see CallDispatcher): the worker polls its call channel for a while
   * after this batch before it parks, and the server thread polls for this batch's result.
   */
  waitInPlace: boolean;
}

export interface InspectTask extends RevisionTask {
  type: 'inspect';
  /** The import check's shared state (see task-state.cts): interrupted at `limits.importSeconds`. */
  interrupt: SharedArrayBuffer;
  interruptOffset: number;
}

/** Loads a revision and imports its scripts; the pool sends one to each worker. */
export interface WarmTask extends RevisionTask {
  type: 'warm';
}

export type WorkerTask = CallBatchTask | InspectTask | WarmTask;

/** Posted on the worker's call channel as each call of a batch ends. */
export interface CallResultMessage {
  callId: number;
  outcome: CallOutcome;
}

/**
 * Posted on the worker's parentPort once its interpreter is up, before it says it is ready:
 * the end of a MessageChannel that carries call batches and their results from then on.
 * A batch through Piscina cost a task round trip of its own besides the results (its task
 * bookkeeping, a second message back, a wake-up of the server thread): twice what a bare
 * port costs (docs/performance.md). Piscina still owns the thread (start, restart, the
 * import checks and warm-ups), and a worker whose interpreter failed to start offers none.
 */
export interface CallChannelOffer {
  callChannel: MessagePort;
  /**
   * An Int32 flag the worker sets before each bridge request: a server thread polling for a
   * batch's result stops then and goes back to its event loop, which the request needs.
   */
  bridgeAsked: SharedArrayBuffer;
}

export function isCallChannelOffer(message: unknown): message is CallChannelOffer {
  return typeof message === 'object' && message !== null && 'callChannel' in message;
}

/** Posted on the call channel after a batch's last result: the batch's report, or why it failed. */
export type BatchEnd = { batchReport: BatchReport } | { batchFailed: ErrorJSON };

export function isBatchEnd(message: unknown): message is BatchEnd {
  return typeof message === 'object' && message !== null && ('batchReport' in message || 'batchFailed' in message);
}

export interface ImportProblem {
  /**
   * The script whose import failed (`demo__basic`); absent when no script's own import did
   * (see importCheckCut). `file` may be another script: the one it imports that raised.
   */
  script?: string;
  file: string;
  line: number;
  col: number;
  message: string;
}

export interface InspectOutcome {
  catalog: FunctionInfo[];
  undecorated: string[];
  scriptIds: string[];
  problems: ImportProblem[];
  /** Places a script names a DFF member gitfunc lacks (`DFF.SQL`): warnings, not errors. */
  warnings?: ImportProblem[];
  /** The import time limit stopped the check: scripts after the stopped one were not imported. */
  interrupted: boolean;
  /**
   * Why the check ended without reporting what Python found (an ImportCheckError's JSON:
   * IMPORT_CHECK_TIMEOUT, _STUCK or _WORKER_DIED); absent when Python reported.
   */
  cut?: ErrorJSON;
}

/** An import check that ended without reporting what it found: `cut`, and one problem for all scripts. */
export function importCheckCut(cut: ErrorJSON): InspectOutcome {
  return {
    catalog: [],
    undecorated: [],
    scriptIds: [],
    problems: [{ file: '*.py', line: 1, col: 1, message: cut.message }],
    interrupted: true,
    cut,
  };
}
