import type { ServerResponse } from 'node:http';
import { dirname, basename } from 'node:path';
import type { Polka, Request } from 'polka';
import { basicCredentials } from '../access/api-auth.js';
import type { Logger } from '../log.js';
import { minimalGitEnv, runHttpBackend } from '../push-remote/git-http-backend.js';
import type { LazyPushCheck } from '../push-remote/push-check-server.js';
import { ensurePushRepo, pushedCommit } from '../push-remote/push-repo.js';
import type { ReloadTrigger } from '../revision/reload-trigger.js';
import { matchesSecret, secretDigest } from '../secret-compare.js';
import { ApiError, ApiErrors } from './api-error.js';
import { sendApiError, startScope } from './respond.js';

export interface PushRemoteDeps {
  /** URL path of the remote, e.g. `/repo.git`. */
  path: string;
  /** The HTTP Basic password; any user name is accepted. */
  token: string;
  /** The bare repository pushes go to (`<dataDir>/push-repo.git`). */
  repoDir: string;
  /** repo.ref: a push that moves it asks for a reload. */
  servedRef: string;
  /** git's receive.maxInputSize. */
  maxPushBytes: number;
  trigger: ReloadTrigger;
  logger: Logger;
  /**
   * When present, a push that moves the served ref is built first and refused when it does not
   * build (git's pre-receive hook), then served before git answers (post-receive).
   */
  check?: LazyPushCheck;
}

type GitService = 'git-upload-pack' | 'git-receive-pack';

const SERVICES: readonly string[] = ['git-upload-pack', 'git-receive-pack'];

/**
 * gitfunc as a git remote over smart HTTP: `git push http://deploy:<token>@host/repo.git main`
 * stores the push in the bare repository, and a push that moves the served ref asks for a
 * reload (source 'push') once git-receive-pack has finished. `git clone`/`fetch` work with the
 * same token. Only the three smart-HTTP endpoints exist: git's dumb protocol (raw object files)
 * is not served.
 */
export function registerPushRemote(app: Polka, deps: PushRemoteDeps): void {
  const checkToken = createBasicCheck(deps.token);
  // Created on first use; a failed creation is retried by the next request.
  let created: Promise<void> | undefined;
  const repoReady = (): Promise<void> => {
    created ??= ensurePushRepo(deps.repoDir, deps.servedRef).catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    return created;
  };

  const serve = (service: GitService | 'info/refs') => async (req: Request, res: ServerResponse) => {
    const scope = startScope(req);
    try {
      const user = checkToken(req);
      const query = new URL(req.url ?? '/', 'http://gitfunc').searchParams;
      const named = service === 'info/refs' ? query.get('service') ?? '' : service;
      if (!SERVICES.includes(named)) {
        throw new ApiError(ApiErrors.notFound, 'Only git smart HTTP is served here (info/refs?service=git-upload-pack or git-receive-pack)');
      }
      await repoReady();
      const checks = service === 'git-receive-pack' ? await deps.check?.server() : undefined;
      const before = service === 'git-receive-pack' ? await pushedCommit(deps.repoDir, deps.servedRef) : undefined;
      const result = await runHttpBackend(req, res, {
        projectRoot: dirname(deps.repoDir),
        pathInfo: `/${basename(deps.repoDir)}/${service}`,
        query: service === 'info/refs' ? `service=${named}` : '',
        remoteUser: user,
        config: {
          'http.receivepack': 'true',
          'receive.maxInputSize': String(deps.maxPushBytes),
          // Objects are checked as they arrive: a corrupt or malicious pack is refused, not stored.
          'receive.fsckObjects': 'true',
          // The push check's hooks; only gitfunc's, never ones stored in the repository.
          ...(checks !== undefined ? { 'core.hooksPath': checks.hooksDir } : {}),
        },
        baseEnv: { ...minimalGitEnv(), ...checks?.hookEnv },
      });
      if (service === 'git-receive-pack') await afterReceivePack(deps, user, before, result.exitCode, result.stderr);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // git asks without credentials first and retries with them after the 401: that probe is not news.
      const level = req.headers.authorization === undefined ? 'debug' : 'warn';
      deps.logger[level]({ pushRemote: { service, refused: error.reason }, traceId: scope.traceId }, 'push remote refused');
      sendApiError(res, scope, error);
    }
  };

  app.get(`${deps.path}/info/refs`, serve('info/refs'));
  app.post(`${deps.path}/git-upload-pack`, serve('git-upload-pack'));
  app.post(`${deps.path}/git-receive-pack`, serve('git-receive-pack'));
}

/** Logs a push and, when it moved the served ref, asks for a reload with the new commit as a hint. */
async function afterReceivePack(
  deps: PushRemoteDeps,
  user: string,
  before: string | undefined,
  exitCode: number | null,
  stderr: string,
): Promise<void> {
  if (exitCode !== 0) {
    deps.logger.warn({ pushRemote: { user, exitCode, git: stderr.trim().slice(0, 500) } }, 'push failed in git-receive-pack');
    return;
  }
  let after: string | undefined;
  try {
    after = await pushedCommit(deps.repoDir, deps.servedRef);
  } catch (error) {
    // The push is stored and answered; only the reload is missed (a later push or webhook catches up).
    deps.logger.error({ err: error, pushRemote: { user } }, 'push stored, but reading the served ref failed');
    return;
  }
  if (after === undefined || after === before) {
    deps.logger.info({ pushRemote: { user, ref: deps.servedRef, changed: false } }, 'push stored; served ref unchanged');
    return;
  }
  deps.logger.info({ pushRemote: { user, ref: deps.servedRef, changed: true, commit: after } }, 'push stored; reload requested');
  deps.trigger.request({ source: 'push', commitHint: after });
}

/**
 * HTTP Basic with the push token as password (any user name, e.g. `deploy`); returns the user
 * name. The token is compared in constant time (secret-compare.ts).
 */
function createBasicCheck(token: string): (req: Request) => string {
  const expected = secretDigest(token);
  return (req) => {
    const decoded = basicCredentials(req.headers.authorization) ?? '';
    const colon = decoded.indexOf(':');
    if (colon < 0 || !matchesSecret(decoded.slice(colon + 1), expected)) {
      throw new ApiError(ApiErrors.authFailed, 'The push remote needs HTTP Basic auth with the push token as password', {}, {
        'WWW-Authenticate': 'Basic realm="gitfunc", charset="UTF-8"',
      });
    }
    return decoded.slice(0, colon) || 'deploy';
  };
}
