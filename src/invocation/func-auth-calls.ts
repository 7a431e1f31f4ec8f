/**
 * A function auth's run (CONTRACT section 12): the function named by `apiAuths[].func` gets the
 * request as `req` (and as `_DFF_HTTP_REQUEST`) and admits the call by returning a true value,
 * as DFF's sample does (`return True`); raising or returning a false value (False, None, 0,
 * '', an empty list or dict) refuses it. gitfunc_func_auth.py reduces the return value to its
 * truth. The run is no task of its own (no record, no `X-Task-Id`); its print output and what
 * it raised go to the server log, masked.
 */
import type { FuncAuthCheck } from '../access/api-auth.js';
import type { Logger } from '../log.js';
import type { CallResult } from '../model/call-result.js';
import type { ScriptHttpRequest } from '../model/invocation.js';
import type { Revision } from '../revision/revision.js';
import type { CallClient } from '../runtime/pool.js';
import { formatPrintLog } from '../tasks/print-log.js';
import type { Invoker } from './invoker.js';

/**
 * How a function auth answered: admitted, refused, or it could not answer (ran past its
 * timeout, every worker busy, its worker died).
 */
export type FuncAuthOutcome = { kind: 'admitted' } | { kind: 'refused' } | { kind: 'timeout' } | { kind: 'busy' } | { kind: 'crashed' };

/** Runs function auths on the worker pool. */
export class FuncAuthCalls {
  constructor(
    private readonly invoker: Invoker,
    private readonly logger: Logger,
  ) {}

  /** Runs `auth`'s function on `revision` (acquired by the caller) with `request`; never rejects. */
  async check(revision: Revision, auth: FuncAuthCheck, request: ScriptHttpRequest, client?: CallClient): Promise<FuncAuthOutcome> {
    const startedAt = Date.now();
    const result = await this.invoker.runAuth(revision, auth, request, client);
    this.logRun(revision, auth, result, startedAt);
    switch (result.kind) {
      case 'json':
        return result.body === 'true' ? { kind: 'admitted' } : { kind: 'refused' };
      case 'error':
        return { kind: 'refused' };
      // Nobody hears the answer of a caller that hung up: refusing it runs nothing more.
      case 'abandoned':
        return { kind: 'refused' };
      case 'timeout':
      case 'busy':
      case 'crashed':
        return { kind: result.kind };
      default:
        // The runtime answers an auth call with `true` or `false` (json) only.
        return { kind: 'refused' };
    }
  }

  /** The run's print output and exception, in one log line, when it has either. */
  private logRun(revision: Revision, auth: FuncAuthCheck, result: CallResult, startedAt: number): void {
    const ran = result.kind === 'json' || result.kind === 'text' || result.kind === 'response' || result.kind === 'error' ? result : undefined;
    const exception = result.kind === 'error' ? result.error.data.exception : undefined;
    if (ran?.log == null && exception === undefined) return;
    const mask = revision.mask ?? ((text: string) => text);
    const line: Record<string, unknown> = { apiAuth: auth.id, funcId: auth.funcId, commit: revision.commit };
    if (ran?.log != null) line.printLogs = mask(formatPrintLog(ran.log, ran.startedAt ?? startedAt));
    if (exception !== undefined) line.exception = mask(exception);
    this.logger.info(line, 'auth function');
  }
}
