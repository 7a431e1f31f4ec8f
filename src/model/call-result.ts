/** What a worker reports of one call it ran. */
export interface CallOutcome {
  /** `response`: the function returned DFF.RESP, RESP_FILE or REDIRECT; the body is its JSON spec. */
  kind: 'json' | 'text' | 'error' | 'timeout' | 'response';
  body: string;
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

/** What a call ended as, from the caller's side. */
export type CallResult =
  | (CallOutcome & { kind: 'json' | 'text' | 'error' })
  /** The function returned DFF.RESP, RESP_FILE or REDIRECT: a response to check and send. */
  | (CallOutcome & { kind: 'response' })
  | TimedOut
  | { kind: 'busy' }
  /** The caller hung up while the call waited for a worker: it was dropped, never run. */
  | { kind: 'abandoned' }
  | { kind: 'crashed'; message: string };

/** How a call that ran (or was given up) ended; a call refused as busy never ran. */
export type RunResult = Exclude<CallResult, { kind: 'busy' } | { kind: 'abandoned' }>;
