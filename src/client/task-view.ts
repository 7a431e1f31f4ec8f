/**
 * Task records as the `gitfunc` commands show them (`tasks`, `tasks --follow`, `call --wait`,
 * `run-cron --wait`): one line per record, one record in full, and waiting for a task to end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GitfuncError } from '../errors.js';
import { FINISHED_STATUSES, type TaskRecordView } from '../model/task-record.js';
import { requestData, type ServerTarget } from './server-client.js';

/** The `--poll-ms` lines of `--help`, with the command's default. */
export function pollMsFlag(defaultMs: number, what: string): string {
  return `  --poll-ms N      ${what} (default: ${defaultMs})`;
}

/** The value of `--poll-ms`: a whole number of milliseconds. */
export function readPollMs(text: string | undefined): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1) throw new GitfuncError('CLIENT_USAGE', '--poll-ms needs a whole number of milliseconds');
  return ms;
}

function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

/** One record on one line: id, trigger time, status, origin, API or job, duration, and a failure's error. */
export function recordLine(r: TaskRecordView): string {
  const ms = r.startTime !== undefined && r.endTime !== undefined ? `${r.endTime - r.startTime}ms` : '-';
  const error = r.exceptionType === undefined ? '' : `  ${r.exceptionType}: ${(r.exceptionText ?? '').split('\n')[0]}`;
  return `${r.id}  ${when(r.triggerTime)}  ${r.status.padEnd(9)} ${r.origin.padEnd(9)} ${r.originId}  ${ms}${error}`;
}

/** One record in full, as `gitfunc tasks ID` prints it: its result, print output and traceback. */
export function recordDetail(record: TaskRecordView): string {
  const lines = [
    `id:        ${record.id}`,
    `status:    ${record.status}`,
    `function:  ${record.funcId} (${record.origin} ${record.originId})`,
    `commit:    ${record.commit}`,
    `triggered: ${when(record.triggerTime)}  started: ${when(record.startTime)}  ended: ${when(record.endTime)}`,
    `kwargs:    ${JSON.stringify(record.kwargs)}`,
  ];
  if (record.returnValue !== undefined) lines.push(`result:    ${JSON.stringify(record.returnValue)}`);
  if (record.exceptionType !== undefined) lines.push(`error:     ${record.exceptionType}: ${record.exceptionText ?? ''}`);
  if (record.printLogs) lines.push('print output:', record.printLogs.trimEnd());
  if (record.traceback) lines.push('traceback:', record.traceback.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** `GET /api/v1/tasks/ID`. */
export async function fetchTask(target: ServerTarget, id: string): Promise<TaskRecordView> {
  return (await requestData(target, 'GET', `/api/v1/tasks/${encodeURIComponent(id)}`)) as TaskRecordView;
}

/** Polls the task until it ends. */
export async function waitForTask(target: ServerTarget, id: string, pollMs: number): Promise<TaskRecordView> {
  for (;;) {
    const record = await fetchTask(target, id);
    if (FINISHED_STATUSES.includes(record.status)) return record;
    await sleep(pollMs);
  }
}
