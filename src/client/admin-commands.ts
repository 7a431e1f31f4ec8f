/** `gitfunc status`, `gitfunc reload` and `gitfunc tasks [ID]`: the admin routes, for people. */
import type { TaskRecord } from '../model/task-record.js';
import type { CommandOutput } from './output.js';
import { requestData, type ServerTarget, TARGET_FLAGS } from './server-client.js';

export const STATUS_USAGE = `Usage: gitfunc status [--url URL] [--token TOKEN]\n\nWhat a running server serves (GET /api/v1/status): its commit, workers, queue and failed scripts.\n\n${TARGET_FLAGS}`;
export const RELOAD_USAGE = `Usage: gitfunc reload [--url URL] [--token TOKEN]\n\nFetches the server's ref and serves its commit (POST /api/v1/reload?wait=1); prints the outcome,\nexits 1 when the commit failed to build or fetch.\n\n${TARGET_FLAGS}`;
export const TASKS_USAGE = `Usage: gitfunc tasks [ID] [--url URL] [--token TOKEN]\n\nThe 20 newest task records (GET /api/v1/task-records), or with ID one record with its print\noutput and traceback (GET /api/v1/tasks/ID).\n\n${TARGET_FLAGS}`;

interface StatusView {
  phase: string;
  ready: boolean;
  revision: { commit: string; loadedAt: string | null; failedScripts: { script: string; file: string; line?: number; error: string }[] } | null;
  syncAPIs: unknown[];
  asyncAPIs: unknown[];
  cronJobs: unknown[];
  queue: { asyncWaiting: number; asyncTasks: number; cronRuns: number };
  pool: { workers: number; backgroundSlots: number };
}

export async function statusCommand(target: ServerTarget, out: CommandOutput): Promise<number> {
  const status = (await requestData(target, 'GET', '/api/v1/status')) as StatusView;
  const revision = status.revision;
  const lines = [
    `phase:     ${status.phase}${status.ready ? '' : ' (not ready)'}`,
    `commit:    ${revision === null ? '(none served)' : `${revision.commit} loaded ${revision.loadedAt ?? '?'}`}`,
    `apis:      ${status.syncAPIs.length} sync, ${status.asyncAPIs.length} async, ${status.cronJobs.length} cron jobs`,
    `workers:   ${status.pool.workers} (${status.pool.backgroundSlots} for background work)`,
    `queue:     ${status.queue.asyncWaiting} async waiting, ${status.queue.asyncTasks} async and ${status.queue.cronRuns} cron running`,
  ];
  const failed = revision?.failedScripts ?? [];
  lines.push(`failed scripts: ${failed.length === 0 ? 'none' : ''}`);
  for (const script of failed) lines.push(`  ${script.file}${script.line === undefined ? '' : `:${script.line}`} ${script.script}: ${script.error}`);
  out.stdout(`${lines.join('\n')}\n`);
  return 0;
}

export async function reloadCommand(target: ServerTarget, out: CommandOutput): Promise<number> {
  const outcome = (await requestData(target, 'POST', '/api/v1/reload?wait=1')) as { result: string; commit?: string; errors?: { message: string }[]; error?: { message?: string } };
  out.stdout(`${outcome.result}${outcome.commit === undefined ? '' : ` ${outcome.commit}`}\n`);
  for (const problem of outcome.errors ?? []) out.stdout(`  ${problem.message}\n`);
  if (outcome.error?.message !== undefined) out.stdout(`  ${outcome.error.message}\n`);
  return outcome.result === 'failed' || outcome.result === 'fetchFailed' ? 1 : 0;
}

function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

export async function tasksCommand(args: readonly string[], target: ServerTarget, out: CommandOutput): Promise<number> {
  const [id] = args;
  if (id === undefined) {
    const page = (await requestData(target, 'GET', '/api/v1/task-records')) as { records: TaskRecord[] };
    for (const r of page.records) {
      const ms = r.startTime !== undefined && r.endTime !== undefined ? `${r.endTime - r.startTime}ms` : '-';
      out.stdout(`${r.id}  ${when(r.triggerTime)}  ${r.status.padEnd(9)} ${r.origin.padEnd(9)} ${r.originId}  ${ms}\n`);
    }
    return 0;
  }
  const record = (await requestData(target, 'GET', `/api/v1/tasks/${encodeURIComponent(id)}`)) as TaskRecord & { returnValue?: unknown };
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
  out.stdout(`${lines.join('\n')}\n`);
  return 0;
}
