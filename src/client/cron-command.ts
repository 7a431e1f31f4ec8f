/** `gitfunc run-cron ID [--wait]`: runs a cron job of a running server now. */
import { GitfuncError } from '../errors.js';
import type { CommandOutput } from './output.js';
import { requestData, type ServerTarget, TARGET_FLAGS } from './server-client.js';
import { pollMsFlag, readPollMs, recordDetail, waitForTask } from './task-view.js';

const POLL_MS = 200;

export const RUN_CRON_USAGE = `Usage: gitfunc run-cron ID [--wait [--poll-ms N]] [--url URL] [--token TOKEN]

Runs the served revision's cron job ID now (POST /api/v1/cron/ID) and prints its task id.
Exits 1 when there is no such job (or its script failed to import).

  --wait           poll the task until it ends, then print it as \`gitfunc tasks ID\` does
                   (result, print output, traceback); exits 1 unless it succeeded
${pollMsFlag(POLL_MS, 'with --wait: milliseconds between polls')}
${TARGET_FLAGS}`;

/** Runs `gitfunc run-cron`; resolves to the exit code. */
export async function runCronCommand(args: readonly string[], target: ServerTarget, out: CommandOutput): Promise<number> {
  const positional: string[] = [];
  let wait = false;
  let pollMs = POLL_MS;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--wait') wait = true;
    else if (arg === '--poll-ms') pollMs = readPollMs(args[(i += 1)]);
    else if (arg.startsWith('--')) throw new GitfuncError('CLIENT_USAGE', `unknown flag '${arg}' (see gitfunc run-cron --help)`);
    else positional.push(arg);
  }
  const [jobId, ...extra] = positional;
  if (jobId === undefined || extra.length > 0) throw new GitfuncError('CLIENT_USAGE', 'name one cron job: gitfunc run-cron ID [--wait]');
  const { id } = (await requestData(target, 'POST', `/api/v1/cron/${encodeURIComponent(jobId)}`)) as { id: string };
  if (!wait) {
    out.stdout(`${id}\n`);
    return 0;
  }
  const record = await waitForTask(target, id, pollMs);
  out.stdout(recordDetail(record));
  return record.status === 'success' ? 0 : 1;
}
