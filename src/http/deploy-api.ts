import type { Polka, Request } from 'polka';
import type { DeployEntry } from '../model/deploy.js';
import type { Reloader } from '../revision/reloader.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { DeployHistory } from '../tasks/deploy-history.js';
import { type AdminCheck, adminRoute } from './admin-route.js';
import { ApiError, ApiErrors } from './api-error.js';
import { readRequestBody } from './request-body.js';

export interface DeployApiDeps {
  check: AdminCheck;
  holder: RevisionHolder;
  history: DeployHistory;
  /** Entries kept: `GET /api/v1/deploys` shows at most this many. */
  historyKeep: number;
  reloader: Pick<Reloader, 'rollback' | 'unpin' | 'pin'>;
  /**
   * Set when the server shares Redis with other replicas: a pin is one server's own, so a
   * rollback would leave the replicas serving different commits; it is refused with this.
   */
  refuseRollback?: boolean;
}

function refuseWithReplicas(deps: DeployApiDeps): void {
  if (deps.refuseRollback === true) {
    throw new ApiError(
      ApiErrors.rollbackWithReplicas,
      'Rollback and unpin act on one server, and this one shares Redis with other replicas: revert the commit in git and push it instead',
    );
  }
}

/** A rollback's body is one small JSON object. */
const BODY_LIMIT = 4096;
const COMMIT_PREFIX = /^[0-9a-f]{4,40}$|^local-[0-9a-f]{1,16}$/i;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `{"commit": "..."}`: a commit id or a prefix of at least 4 hex digits. */
async function rollbackCommit(req: Request): Promise<string> {
  const body = await readRequestBody(req, BODY_LIMIT);
  const commit = body.kind === 'json' && typeof body.value === 'object' && body.value !== null ? (body.value as { commit?: unknown }).commit : undefined;
  if (typeof commit !== 'string' || !COMMIT_PREFIX.test(commit)) {
    throw new ApiError(ApiErrors.badRequest, 'The body must be JSON {"commit": "<commit id, or a prefix of at least 4 hex digits>"}');
  }
  return commit;
}

/**
 * `GET /api/v1/deploys`: the deploy history, newest first, with the served commit and the
 * pin; `POST /api/v1/rollback`: serve a commit of the history again and pin it;
 * `POST /api/v1/unpin`: end the pin and serve the head again. All admin only.
 */
export function registerDeployApi(app: Polka, deps: DeployApiDeps): void {
  const pinView = () => {
    const pin = deps.reloader.pin;
    return pin === undefined ? null : { commit: pin.commit, at: iso(pin.at), headAtPin: pin.headAtPin };
  };
  app.get(
    '/api/v1/deploys',
    adminRoute(deps.check, async () => {
      const served = deps.holder.current?.commit ?? null;
      const entries = await deps.history.list(deps.historyKeep);
      // The entry that put the served commit in place: the newest that served it.
      const current = entries.find((entry) => entry.result === 'served' && entry.commit === served);
      return {
        served,
        pinned: pinView(),
        deploys: entries.map((entry: DeployEntry) => ({ ...entry, at: iso(entry.at), current: entry === current })),
      };
    }),
  );
  app.post(
    '/api/v1/rollback',
    adminRoute(deps.check, async (req) => {
      const prefix = await rollbackCommit(req);
      refuseWithReplicas(deps);
      const answer = await deps.reloader.rollback(prefix);
      if (answer.target.kind === 'unknown') {
        throw new ApiError(ApiErrors.notFound, `No commit starting with '${prefix}' was served within the deploy history`);
      }
      if (answer.target.kind === 'ambiguous') {
        throw new ApiError(ApiErrors.badRequest, `'${prefix}' names several served commits: give more digits`, { commits: answer.target.commits });
      }
      return { commit: answer.target.commit, outcome: 'outcome' in answer ? answer.outcome : null, pinned: pinView() };
    }),
  );
  app.post(
    '/api/v1/unpin',
    adminRoute(deps.check, async (req) => {
      req.resume(); // no body is read
      refuseWithReplicas(deps);
      return { unpinned: await deps.reloader.unpin() };
    }),
  );
}
