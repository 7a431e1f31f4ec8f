import { CallInputError } from '../errors.js';
import type { ReturnType } from '../model/invocation.js';

/** Call options a caller may set (CONTRACT section 3): nothing else. */
export interface CallOptions {
  returnType: ReturnType;
  timeoutSeconds: number;
}

const RETURN_TYPES: ReadonlySet<string> = new Set(['raw', 'jsonDumps']);

/** Validates the caller's `options` against the API's own timeout. */
export function parseCallOptions(options: Record<string, unknown>, apiTimeoutSeconds: number): CallOptions {
  let returnType: ReturnType = 'raw';
  let timeoutSeconds = apiTimeoutSeconds;
  for (const [key, value] of Object.entries(options)) {
    if (key === 'returnType') {
      if (typeof value !== 'string' || !RETURN_TYPES.has(value)) {
        throw new CallInputError('CALL_OPTION_INVALID', `options.returnType must be 'raw' or 'jsonDumps'`);
      }
      returnType = value as ReturnType;
    } else if (key === 'timeout') {
      if (typeof value !== 'number' || !(value > 0) || value > apiTimeoutSeconds) {
        throw new CallInputError('CALL_OPTION_INVALID', `options.timeout must be a number of seconds above 0 and at most ${apiTimeoutSeconds}`);
      }
      timeoutSeconds = value;
    } else {
      throw new CallInputError('CALL_OPTION_INVALID', `Unknown option '${key}': only returnType and timeout are accepted`);
    }
  }
  return { returnType, timeoutSeconds };
}
