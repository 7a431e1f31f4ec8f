/** `gitfunc rollback COMMIT`, `gitfunc unpin`, and the deploy lines of `gitfunc status`. */
import { GitfuncError } from '../errors.js';
import type { CommandOutput } from './output.js';
import { answerData, requestData, requestServer, type ServerTarget, TARGET_FLAGS } from './server-client.js';

export const ROLLBACK_USAGE = `Usage: gitfunc rollback COMMIT [--url URL] [--token TOKEN]

Serves again a commit the deploy history shows as served (its id, or a unique prefix of at least
4 hex digits) and pins it (POST /api/v1/rollback): polls, webhooks and reloads leave it served
until a new commit is pushed to the served ref or \`gitfunc unpin\` runs. Exits 1 when the commit
failed to fetch or build.

${TARGET_FLAGS}`;
export const UNPIN_USAGE = `Usage: gitfunc unpin [--url URL] [--token TOKEN]

Ends a rollback's pin (POST /api/v1/unpin): the server fetches its ref and serves the head again.

${TARGET_FLAGS}`;

/** Deploys `gitfunc status` lists. */
const STATUS_DEPLOYS = 5;

interface DeployView {
  at: string;
  trigger: string;
  result: string;
  commit: string | null;
  current: boolean;
  errors: { file: string; line: number; col: number; message: string }[];
  fetchError: { message: string } | null;
}

interface DeploysView {
  served: string | null;
  pinned: { commit: string; at: string } | null;
  deploys: DeployView[];
}

/** One deploy as a line: when, why, what happened, the commit; its errors on the lines below. */
function deployLines(deploy: DeployView): string[] {
  const commit = deploy.commit === null ? '' : ` ${deploy.commit.slice(0, 12)}`;
  const lines = [`  ${deploy.at}  ${deploy.trigger.padEnd(8)} ${deploy.result}${commit}${deploy.current ? '  (served)' : ''}`];
  for (const error of deploy.errors) lines.push(`      ${error.file}:${error.line}:${error.col} ${error.message}`);
  if (deploy.fetchError !== null) lines.push(`      ${deploy.fetchError.message}`);
  return lines;
}

/** The pin and the newest deploys, as `gitfunc status` shows them. */
export async function deployStatusLines(target: ServerTarget): Promise<string[]> {
  const view = (await requestData(target, 'GET', '/api/v1/deploys')) as DeploysView;
  const lines = [`pinned:    ${view.pinned === null ? 'no' : `${view.pinned.commit} (rolled back ${view.pinned.at}; until a new push or gitfunc unpin)`}`];
  lines.push(`deploys:   ${view.deploys.length === 0 ? 'none' : `the newest ${Math.min(STATUS_DEPLOYS, view.deploys.length)}`}`);
  for (const deploy of view.deploys.slice(0, STATUS_DEPLOYS)) lines.push(...deployLines(deploy));
  return lines;
}

export async function rollbackCommand(args: readonly string[], target: ServerTarget, out: CommandOutput): Promise<number> {
  if (args.length !== 1 || args[0]!.startsWith('-')) throw new GitfuncError('CLIENT_USAGE', 'gitfunc rollback COMMIT (see gitfunc rollback --help)');
  const answer = answerData(await requestServer(target, 'POST', '/api/v1/rollback', { commit: args[0] })) as {
    commit: string;
    outcome: { result: string; errors?: { file: string; line: number; col: number; message: string }[]; error?: { message?: string } };
    pinned: { commit: string } | null;
  };
  const { outcome } = answer;
  out.stdout(`${outcome.result} ${answer.commit}${answer.pinned === null ? '' : ' (pinned)'}\n`);
  for (const error of outcome.errors ?? []) out.stdout(`  ${error.file}:${error.line}:${error.col} ${error.message}\n`);
  if (outcome.error?.message !== undefined) out.stdout(`  ${outcome.error.message}\n`);
  return outcome.result === 'served' || outcome.result === 'unchanged' ? 0 : 1;
}

export async function unpinCommand(target: ServerTarget, out: CommandOutput): Promise<number> {
  const answer = (await requestData(target, 'POST', '/api/v1/unpin')) as { unpinned: boolean };
  out.stdout(answer.unpinned ? 'unpinned: the head is fetched and served\n' : 'nothing was pinned\n');
  return 0;
}
