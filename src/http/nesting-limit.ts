import { ApiError, ApiErrors } from './api-error.js';

/**
 * How deep a caller's kwargs or options may nest objects and lists: the object itself is
 * level 1, `{"a": [1]}` is 2. JSON.parse takes any depth, but what runs next does not:
 * JSON.stringify and structured clone overflow V8's stack near 4,000 levels (a 500), and
 * Python's json near its recursion limit. 100 leaves room for the record and the script's
 * request around the kwargs; no real call comes close.
 */
export const MAX_INPUT_DEPTH = 100;

/** Whether the object or array `value` holds an object or array more than `levels` levels below it. */
function nestsDeeperThan(value: object, levels: number): boolean {
  // Scalars are skipped without a call: this runs on every call (the sync path is benchmarked).
  const children: readonly unknown[] = Array.isArray(value) ? value : Object.values(value);
  for (let i = 0; i < children.length; i++) {
    const child = children[i];
    if (typeof child === 'object' && child !== null && (levels === 0 || nestsDeeperThan(child, levels - 1))) return true;
  }
  return false;
}

/** 400.43 when `value` (a call's kwargs or options) nests deeper than MAX_INPUT_DEPTH. */
export function checkInputDepth(field: 'kwargs' | 'options', value: Record<string, unknown>): void {
  if (!nestsDeeperThan(value, MAX_INPUT_DEPTH - 1)) return;
  throw new ApiError(
    ApiErrors.badRequest,
    `'${field}' nests objects and lists more than ${MAX_INPUT_DEPTH} levels deep`,
    { field, maxDepth: MAX_INPUT_DEPTH },
  );
}
