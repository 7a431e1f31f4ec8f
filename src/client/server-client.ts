/**
 * The HTTP side of the `gitfunc` commands that talk to a running server (`call`, `status`,
 * `tasks`, `reload`, `run-cron`): where the server is, its admin token, one request and its DFF body.
 */
import { GitfuncError } from '../errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8088';

/** The `--help` lines of the flags every command of the client reads. */
export const TARGET_FLAGS = `  --url URL        the server (env GITFUNC_URL; default: ${DEFAULT_URL})\n  --token TOKEN    its admin token (env GITFUNC_ADMIN_TOKEN)`;

/** Where the server is and how to prove admin rights; flags win over the environment. */
export interface ServerTarget {
  url: string;
  token?: string;
}

/** A DFF body as every gitfunc route answers: `ok`, `error` (the DFF number), `message`, `data`. */
export interface DffBody {
  ok: boolean;
  error: number;
  reason?: string;
  message: string;
  data?: unknown;
  detail?: unknown;
}

export interface ServerAnswer {
  status: number;
  /** The body as sent: a sync call's result is the function's own body, not a DFF one. */
  text: string;
  /** The `X-Task-Id` header of a call. */
  taskId?: string;
  /** The server's clock when it answered (its `Date` header, to the second), epoch ms. */
  date?: number;
}

/** `--url`, `--token`, then GITFUNC_URL and GITFUNC_ADMIN_TOKEN; the rest of the arguments stay. */
export function readTarget(args: readonly string[], env: NodeJS.ProcessEnv): { target: ServerTarget; rest: string[] } {
  let url = env.GITFUNC_URL ?? '';
  let token = env.GITFUNC_ADMIN_TOKEN ?? '';
  const rest: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--url' || flag === '--token') {
      const value = inline ?? args[(i += 1)];
      if (value === undefined) throw new GitfuncError('CLIENT_USAGE', `${flag} needs a value`);
      if (flag === '--url') url = value;
      else token = value;
    } else {
      rest.push(arg);
    }
  }
  return { target: { url: (url || DEFAULT_URL).replace(/\/+$/, ''), ...(token === '' ? {} : { token }) }, rest };
}

/** One request to the server; any DFF body comes back, an error one included (the caller decides). */
export async function requestServer(target: ServerTarget, method: 'GET' | 'POST', path: string, json?: unknown): Promise<ServerAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new GitfuncError('CLIENT_UNREACHABLE', `cannot reach the server at ${target.url}: ${cause}`, { url: target.url });
  }
  const taskId = response.headers.get('x-task-id');
  const date = Date.parse(response.headers.get('date') ?? '');
  return { status: response.status, text: await response.text(), ...(taskId === null ? {} : { taskId }), ...(Number.isNaN(date) ? {} : { date }) };
}

/** The answer's DFF body; CLIENT_ANSWER_INVALID when it is not one (a proxy's page, another server). */
export function dffBody(answer: ServerAnswer): DffBody {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || typeof (body as DffBody).ok !== 'boolean') {
    throw new GitfuncError('CLIENT_ANSWER_INVALID', `the server answered ${answer.status} without a gitfunc JSON body: ${answer.text.slice(0, 200)}`, {
      status: answer.status,
    });
  }
  return body as DffBody;
}

/** The `data` of an admin route's answer; CLIENT_REFUSED with the server's error when it failed. */
export function answerData(answer: ServerAnswer): unknown {
  const body = dffBody(answer);
  if (!body.ok) throw new GitfuncError('CLIENT_REFUSED', describeFailure(body), { error: body.error });
  return body.data;
}

/** One admin request and its `data` (see answerData). */
export async function requestData(target: ServerTarget, method: 'GET' | 'POST', path: string): Promise<unknown> {
  return answerData(await requestServer(target, method, path));
}

/** A failed answer as one line: `error reason: message`. */
export function describeFailure(body: DffBody): string {
  return `${body.error}${body.reason === undefined ? '' : ` ${body.reason}`}: ${body.message}`;
}
