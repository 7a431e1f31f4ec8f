// Task records for the store tests: each a new id and kwargs, triggered one ms after the last.
import type { TaskRecord } from '../../src/model/task-record.js';

/** The first record's trigger time, less one ms. */
export const T0 = 1_700_000_000_000;
let counter = 0;

/** A successful sync-API record of `demo__basic.f`, with `fields` over it. */
export function record(fields: Partial<TaskRecord> = {}): TaskRecord {
  counter++;
  return {
    id: `task-${counter}`,
    funcId: 'demo__basic.f',
    origin: 'syncAPI',
    originId: 'api-a',
    kwargs: { n: counter },
    commit: 'c'.repeat(40),
    triggerTime: T0 + counter,
    attempt: 1,
    status: 'success',
    ...fields,
  };
}
