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
