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

/** How a port reports Redis out of reach. */
export interface UnavailableRules<T> {
  /** Whether Redis answers now: while it does not, a call fails at once instead of waiting for it. */
  reachable: () => boolean;
  /**
   * Methods given up after this many ms (the operation may still complete later): for a
   * caller that must get an answer, such as an async call's accept.
   */
  deadlinesMs?: Partial<Record<keyof T, number>>;
}

/**
 * `port` with each method's failure to reach Redis turned into SharedStoreUnavailable, so a
 * route answers 503.4 instead of 500 or waiting. `name` says which store in the error. `close`
 * is left as it is.
 */
export function reportingUnavailable<T extends object>(port: T, name: string, rules: UnavailableRules<T>): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      const operation = `${name}.${String(property)}`;
      const deadlineMs = (rules.deadlinesMs as Record<string | symbol, number | undefined> | undefined)?.[property];
      return (...args: unknown[]): unknown => {
        if (!rules.reachable()) return Promise.reject(new SharedStoreUnavailable(operation, new Error('not connected')));
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        const reported = result.catch((error: unknown) => {
          throw isUnreachable(error) ? new SharedStoreUnavailable(operation, error) : error;
        });
        return deadlineMs === undefined ? reported : withDeadline(reported, deadlineMs, operation);
      };
    },
  });
}

function withDeadline<R>(promise: Promise<R>, ms: number, operation: string): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new SharedStoreUnavailable(operation, new Error(`no answer within ${ms} ms`))), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
