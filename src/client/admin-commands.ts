/** `gitfunc status`, `gitfunc reload` and `gitfunc tasks [ID | --follow]`: the admin routes, for people. */
import { GitfuncError } from '../errors.js';
import { deployStatusLines } from './deploy-commands.js';
import { FOLLOW_POLL_MS, followTasks } from './follow-tasks.js';
import type { CommandOutput } from './output.js';
import { requestData, type ServerTarget, TARGET_FLAGS } from './server-client.js';
import { fetchTask, pollMsFlag, readPollMs, recordDetail, recordLine } from './task-view.js';
import type { TaskRecordView } from '../model/task-record.js';

export const STATUS_USAGE = `Usage: gitfunc status [--url URL] [--token TOKEN]\n\nWhat a running server serves (GET /api/v1/status): its commit, workers, queue and failed scripts;
and a rollback's pin with the newest deploys (GET /api/v1/deploys).\n\n${TARGET_FLAGS}`;
export const RELOAD_USAGE = `Usage: gitfunc reload [--url URL] [--token TOKEN]\n\nFetches the server's ref and serves its commit (POST /api/v1/reload?wait=1); prints the outcome,\nexits 1 when the commit failed to build or fetch.\n\n${TARGET_FLAGS}`;
export const TASKS_USAGE = `Usage: gitfunc tasks [ID | --follow [--poll-ms N]] [--url URL] [--token TOKEN]

The 20 newest task records (GET /api/v1/task-records), one a line: id, trigger time, status,
origin, API or cron job id, duration, and a failed run's error; or with ID one record with its
result, print output and traceback (GET /api/v1/tasks/ID).

  --follow, -f     print a line for every record that ends from now on, until interrupted
                   (Ctrl-C exits 0); records the server trims before a poll are not seen
${pollMsFlag(FOLLOW_POLL_MS, 'with --follow: milliseconds between polls')}
${TARGET_FLAGS}`;

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
  lines.push(...(await deployStatusLines(target)));
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

/** Runs `gitfunc tasks`; with `--follow`, until the signal `untilStopped()` gives aborts. */
export async function tasksCommand(args: readonly string[], target: ServerTarget, out: CommandOutput, untilStopped: () => AbortSignal): Promise<number> {
  const positional: string[] = [];
  let follow = false;
  let pollMs = FOLLOW_POLL_MS;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--follow' || arg === '-f') follow = true;
    else if (arg === '--poll-ms') pollMs = readPollMs(args[(i += 1)]);
    else if (arg.startsWith('--')) throw new GitfuncError('CLIENT_USAGE', `unknown flag '${arg}' (see gitfunc tasks --help)`);
    else positional.push(arg);
  }
  const [id, ...extra] = positional;
  if (extra.length > 0 || (follow && id !== undefined)) throw new GitfuncError('CLIENT_USAGE', 'gitfunc tasks [ID | --follow]');
  if (follow) return followTasks(target, pollMs, out, untilStopped());
  if (id === undefined) {
    const page = (await requestData(target, 'GET', '/api/v1/task-records')) as { records: TaskRecordView[] };
    for (const record of page.records) out.stdout(`${recordLine(record)}\n`);
    return 0;
  }
  out.stdout(recordDetail(await fetchTask(target, id)));
  return 0;
}
