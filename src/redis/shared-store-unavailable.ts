import { GitfuncError } from '../errors.js';

/** Redis cannot be reached: the caller is answered 503.4 with `Retry-After` (http/api-error.ts maps it). */
export class SharedStoreUnavailable extends GitfuncError {
  constructor(operation: string, cause: unknown) {
    super('SHARED_STORE_UNAVAILABLE', `the shared store (Redis) cannot be reached: ${operation} failed; retry later`, { operation });
    this.name = 'SharedStoreUnavailable';
    this.cause = cause;
  }
}

/**
 * Whether a failure is Redis being out of reach rather than an answer of Redis: ioredis rejects
 * with a plain Error (connection closed, command timed out, offline queue disabled) or a
 * MaxRetriesPerRequestError; an answer of Redis (WRONGTYPE, a script's error) is a ReplyError,
 * and gitfunc's own errors are GitfuncErrors: those pass through.
 */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof GitfuncError) return false;
  return error.name !== 'ReplyError';
}

/**
 * `port` with each method's failure to reach Redis turned into SharedStoreUnavailable, so a
 * route answers 503.4 instead of 500. `name` says which store in the error.
 */
export function reportingUnavailable<T extends object>(port: T, name: string): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          throw isUnreachable(error) ? new SharedStoreUnavailable(`${name}.${String(property)}`, error) : error;
        });
      };
    },
  });
}
