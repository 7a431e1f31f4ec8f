import type { SecretMask } from '../access/secret-mask.js';
import type { CallOutcome, RunResult } from '../model/call-result.js';
import type { Invocation } from '../model/invocation.js';
import type { TaskRecord, TaskStatus } from '../model/task-record.js';
import { formatPrintLog } from '../tasks/print-log.js';
import { storedReturnValue } from '../tasks/stored-size.js';

/** The fields every record of `call` has, in `status`. Every task record is built from here. */
function recordOf(call: Invocation, commit: string, triggerTime: number, status: TaskStatus): TaskRecord {
  return {
    id: call.taskId,
    funcId: call.funcId,
    origin: call.origin,
    originId: call.originId,
    kwargs: call.kwargs,
    commit,
    triggerTime,
    attempt: call.attempt,
    status,
  };
}

/** The record of an async task accepted into the queue, not yet run. */
export function queuedRecord(call: Invocation, commit: string, triggerTime: number): TaskRecord {
  return recordOf(call, commit, triggerTime, 'queued');
}

/** The record of a run that has started (cron runs are recorded as they start). */
export function runningRecord(call: Invocation, commit: string, triggerTime: number, startTime: number): TaskRecord {
  return { ...recordOf(call, commit, triggerTime, 'running'), startTime };
}

/** The record of a call that ended without running, in `status` ('skip', or 'failure' with an exception). */
export function notRunRecord(
  call: Invocation,
  commit: string,
  triggerTime: number,
  status: 'skip' | 'failure' | 'cancelled',
  reason: { exceptionType?: string; exceptionText: string },
): TaskRecord {
  const now = Date.now();
  return { ...recordOf(call, commit, triggerTime, status), startTime: now, endTime: now, ...reason };
}

/** What a record says of a run an operator cancelled (POST /api/v1/tasks/:id/cancel). */
export const CANCELLED_REASON = { exceptionType: 'TaskCancelled', exceptionText: 'cancelled by an operator' } as const;

/** A run's final record, turned `cancelled`: it was interrupted because an operator cancelled it, not by its deadline. */
export function cancelledRecord(record: TaskRecord): TaskRecord {
  return { ...record, status: 'cancelled', ...CANCELLED_REASON };
}

/**
 * The record of a call once its worker is done with it (a timed-out call waits for that).
 * `mask` is the revision's secret mask (see recordOfCall).
 */
export async function recordWhenEnded(
  call: Invocation,
  commit: string,
  triggerTime: number,
  result: RunResult,
  mask?: SecretMask,
): Promise<TaskRecord> {
  return recordOfCall(call, commit, triggerTime, result, result.kind === 'timeout' ? await result.ended : undefined, mask);
}

const STATUS_OF: Record<RunResult['kind'], TaskStatus> = {
  json: 'success',
  text: 'success',
  error: 'failure',
  timeout: 'timeout',
  crashed: 'failure',
  response: 'success',
};

/** What a DFF.RESP / RESP_FILE / REDIRECT result records as its return value. */
function responseReturnValue(specJson: string): string {
  const spec = JSON.parse(specJson) as { file?: string; bodyKind?: string; body?: string };
  if (spec.file !== undefined) return JSON.stringify({ file: spec.file });
  if (spec.bodyKind === 'json') return spec.body!;
  if (spec.bodyKind === 'text') return JSON.stringify(spec.body);
  return JSON.stringify({ bytes: 'base64', data: spec.body });
}

/**
 * The finished record of one call, from how it ended. For a timed-out call, `late` is what
 * its worker reported once Python stopped (see TimedOut): its start time and print output.
 * `mask` hides the revision's secrets in the print output, exception and traceback.
 */
export function recordOfCall(
  call: Invocation,
  commit: string,
  triggerTime: number,
  result: RunResult,
  late?: CallOutcome,
  mask?: SecretMask,
): TaskRecord {
  const ran = result.kind === 'json' || result.kind === 'text' || result.kind === 'error' || result.kind === 'response' ? result : late;
  const endTime = result.kind === 'timeout' ? result.at : (ran?.endedAt ?? Date.now());
  const record = recordOf(call, commit, triggerTime, STATUS_OF[result.kind]);
  record.startTime = ran?.startedAt ?? triggerTime;
  record.endTime = endTime;
  switch (result.kind) {
    case 'json':
      record.returnValueJson = storedReturnValue(result.body);
      break;
    case 'text':
      record.returnValueJson = storedReturnValue(JSON.stringify(result.body));
      break;
    case 'response':
      record.returnValueJson = storedReturnValue(responseReturnValue(result.body));
      break;
    case 'error': {
      const detail = result.error.data;
      const split = detail.exception.indexOf(': ');
      record.exceptionType = split < 0 ? detail.exception : detail.exception.slice(0, split);
      record.exceptionText = split < 0 ? '' : detail.exception.slice(split + 2);
      record.traceback = detail.traceback;
      break;
    }
    case 'timeout':
      record.exceptionType = 'TimeoutError';
      record.exceptionText = `did not finish within ${call.timeoutSeconds} s`;
      break;
    case 'crashed':
      record.exceptionType = 'WorkerFailed';
      record.exceptionText = result.error.message;
      break;
  }
  if (ran?.log) record.printLogs = formatPrintLog(ran.log, ran.startedAt ?? triggerTime);
  return mask === undefined ? record : maskRecord(record, mask);
}

function maskRecord(record: TaskRecord, mask: SecretMask): TaskRecord {
  if (record.printLogs !== undefined) record.printLogs = mask(record.printLogs);
  if (record.exceptionText !== undefined) record.exceptionText = mask(record.exceptionText);
  if (record.traceback !== undefined) record.traceback = mask(record.traceback);
  return record;
}
