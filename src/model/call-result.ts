import type { ErrorJSON, FunctionRaisedError, GitfuncError } from '../errors.js';

/** What a worker reports of one call it ran. */
export interface CallOutcome {
  /** `response`: the function returned DFF.RESP, RESP_FILE or REDIRECT; the body is its JSON spec. */
  kind: 'json' | 'text' | 'error' | 'timeout' | 'response';
  /** The result; '' for `error` and `timeout`. */
  body: string;
  /** `error`: what the function raised, a FunctionRaisedError's JSON (code FUNC_FAILED). */
  error?: ErrorJSON;
  /** JSON list of [elapsedMs, line] printed by the call, or null. */
  log: string | null;
  /** Epoch ms when the worker started and ended the call (absent if it never ran). */
  startedAt?: number;
  endedAt?: number;
}

/**
 * A call answered at its deadline. Its worker goes on until Python stops (interrupted) or the
 * thread is terminated: `ended` then gives the worker's own outcome, with the print output up
 * to the interrupt, or undefined when the thread was terminated.
 */
export interface TimedOut {
  kind: 'timeout';
  /** Epoch ms of the deadline answer. */
  at: number;
  ended: Promise<CallOutcome | undefined>;
}

/** A call whose function raised: the worker's outcome with its error revived. */
export interface CallFailed extends Omit<CallOutcome, 'kind' | 'error'> {
  kind: 'error';
  error: FunctionRaisedError;
}

/** What a call ended as, from the caller's side. */
export type CallResult =
  | (CallOutcome & { kind: 'json' | 'text' })
  /** The function returned DFF.RESP, RESP_FILE or REDIRECT: a response to check and send. */
  | (CallOutcome & { kind: 'response' })
  | CallFailed
  | TimedOut
  | { kind: 'busy' }
  /** The caller hung up while the call waited for a worker: it was dropped, never run. */
  | { kind: 'abandoned' }
  /** The worker died running it, could not run it, or the pool closed: `error` says which (a WorkerError). */
  | { kind: 'crashed'; error: GitfuncError };

/** How a call that ran (or was given up) ended; a call refused as busy never ran. */
export type RunResult = Exclude<CallResult, { kind: 'busy' } | { kind: 'abandoned' }>;
