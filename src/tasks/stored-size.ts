import type { TaskRecord } from '../model/task-record.js';

/**
 * Caps on what a finished record keeps: a caller may send up to `limits.bodyBytes` and a
 * function may return as much, and each API keeps a hundred records. The caller got the
 * full answer; the record says how much was left out.
 */
export const STORED_JSON_MAX_CHARS = 256 * 1024;

/** A return value's JSON text, or a JSON string saying it was too long to store. */
export function storedReturnValue(json: string): string {
  if (json.length <= STORED_JSON_MAX_CHARS) return json;
  return JSON.stringify(`(return value of ${json.length} characters not stored)`);
}

/**
 * The record with its kwargs replaced by a note when their JSON is too long. Never for a
 * queued async task: it needs its kwargs in full to run.
 */
export function withStoredKwargs(record: TaskRecord): TaskRecord {
  const length = JSON.stringify(record.kwargs).length;
  if (length <= STORED_JSON_MAX_CHARS) return record;
  return { ...record, kwargs: { '(not stored)': `kwargs of ${length} characters` } };
}
