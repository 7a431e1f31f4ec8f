/**
 * `gitfunc call API [k=v ...]`: one call of a running server's API, its result on stdout and
 * its task id on stderr, so `$(gitfunc call ...)` holds the result alone.
 */
import { GitfuncError } from '../errors.js';
import { describeFailure, dffBody, requestServer, type ServerTarget, TARGET_FLAGS } from './server-client.js';
import type { CommandOutput } from './output.js';
import { pollMsFlag, readPollMs, waitForTask } from './task-view.js';
import type { TaskRecordView } from '../model/task-record.js';

const POLL_MS = 200;

export const CALL_USAGE = `Usage: gitfunc call API [NAME=VALUE ...] [--async [--wait]] [--url URL] [--token TOKEN]

Calls API on a running server: POST /api/v1/al/API with the NAME=VALUE pairs as kwargs (a VALUE
that parses as JSON is sent as that JSON: n=3 is a number, s='"3"' a string; else as text).
The result goes to stdout, the task id to stderr. A failed call prints the error's DFF number,
reason and message (and the script's traceback) to stderr and exits 1.

  --async          call an async API (POST /api/v1/bat/API); prints the task id
  --wait           with --async: poll the task until it ends, then print its print output
                   (stderr) and its result (stdout, JSON); exits 1 unless it succeeded
                   (needs the admin token)
${pollMsFlag(POLL_MS, 'with --wait: milliseconds between polls')}
${TARGET_FLAGS}`;

/** A kwarg's value: its JSON when it parses, else the text itself. */
export function kwargValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `k=v` pairs as kwargs; CLIENT_USAGE for a pair without `=`. */
export function parseKwargs(pairs: readonly string[]): Record<string, unknown> {
  const kwargs: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new GitfuncError('CLIENT_USAGE', `'${pair}' is not NAME=VALUE`);
    kwargs[pair.slice(0, at)] = kwargValue(pair.slice(at + 1));
  }
  return kwargs;
}

interface CallArgs {
  api: string;
  kwargs: Record<string, unknown>;
  async: boolean;
  wait: boolean;
  pollMs: number;
}

function parseCallArgs(args: readonly string[]): CallArgs {
  const positional: string[] = [];
  let isAsync = false;
  let wait = false;
  let pollMs = POLL_MS;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--async') isAsync = true;
    else if (arg === '--wait') wait = true;
    else if (arg === '--poll-ms') pollMs = readPollMs(args[(i += 1)]);
    else if (arg.startsWith('--')) throw new GitfuncError('CLIENT_USAGE', `unknown flag '${arg}' (see gitfunc call --help)`);
    else positional.push(arg);
  }
  const [api, ...pairs] = positional;
  if (api === undefined) throw new GitfuncError('CLIENT_USAGE', 'name the API to call: gitfunc call API [NAME=VALUE ...]');
  if (wait && !isAsync) throw new GitfuncError('CLIENT_USAGE', '--wait goes with --async');
  return { api, kwargs: parseKwargs(pairs), async: isAsync, wait, pollMs };
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Runs `gitfunc call`; resolves to the exit code. */
export async function callCommand(args: readonly string[], target: ServerTarget, out: CommandOutput): Promise<number> {
  const call = parseCallArgs(args);
  const route = call.async ? 'bat' : 'al';
  const answer = await requestServer(target, 'POST', `/api/v1/${route}/${encodeURIComponent(call.api)}`, { kwargs: call.kwargs });
  if (answer.taskId !== undefined) out.stderr(`task ${answer.taskId}\n`);
  if (answer.status >= 400) {
    const body = dffBody(answer);
    const traceback = (body.detail as { traceback?: unknown } | undefined)?.traceback;
    out.stderr(`${describeFailure(body)}\n${typeof traceback === 'string' ? withNewline(traceback) : ''}`);
    return 1;
  }
  if (!call.async) {
    out.stdout(withNewline(answer.text));
    return 0;
  }
  const { id } = dffBody(answer).data as { id: string };
  if (!call.wait) {
    out.stdout(`${id}\n`);
    return 0;
  }
  return printEndedTask(await waitForTask(target, id, call.pollMs), out);
}

function printEndedTask(record: TaskRecordView, out: CommandOutput): number {
  if (record.printLogs) out.stderr(withNewline(record.printLogs));
  if (record.status === 'success') {
    out.stdout(`${JSON.stringify(record.returnValue ?? null)}\n`);
    return 0;
  }
  const what = record.exceptionType === undefined ? '' : `: ${record.exceptionType}: ${record.exceptionText ?? ''}`;
  out.stderr(`task ${record.status}${what}\n${record.traceback === undefined ? '' : withNewline(record.traceback)}`);
  return 1;
}
