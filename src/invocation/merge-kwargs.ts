import { CallInputError } from '../errors.js';
import { INPUT_BY_CALLER } from '../manifest/index.js';

/**
 * Merges the caller's kwargs into the API's declared kwargs (CONTRACT section 3):
 * no declared kwargs → the caller's pass through; otherwise fixed values win, a caller may
 * only fill `INPUT_BY_CALLER` fields, and an undeclared key is refused (differs from DFF).
 */
export function mergeKwargs(
  declared: Readonly<Record<string, unknown>> | undefined,
  given: Record<string, unknown>,
): Record<string, unknown> {
  if (declared === undefined) return given;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(declared, key)) {
      throw new CallInputError('KWARG_UNEXPECTED', `Unexpected kwargs field '${key}': this API does not take it`, { field: key });
    }
    if (declared[key] !== INPUT_BY_CALLER) {
      throw new CallInputError('KWARG_FIXED', `Cannot specify a fixed kwargs field: ${key}`, { field: key });
    }
  }
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(declared)) {
    if (value !== INPUT_BY_CALLER) merged[key] = value;
    else if (Object.hasOwn(given, key)) merged[key] = given[key];
  }
  return merged;
}

/**
 * Refuses (400.43) a kwarg the function cannot take, before it runs: Python's TypeError would
 * otherwise fail the call as the function's own error (599.1). `accepted` undefined (the
 * function takes `**kwargs`, or its signature is unknown): any name passes.
 */
export function refuseUnknownKwargs(kwargs: Readonly<Record<string, unknown>>, accepted: readonly string[] | undefined): void {
  if (accepted === undefined) return;
  for (const key of Object.keys(kwargs)) {
    if (accepted.includes(key)) continue;
    const takes = accepted.length === 0 ? 'no kwargs' : `only ${accepted.map((name) => `'${name}'`).join(', ')}`;
    throw new CallInputError('KWARG_UNEXPECTED', `Unexpected kwargs field '${key}': the function takes ${takes}`, { field: key, accepted });
  }
}
