/**
 * The refs a verified push payload says it moved. Only a hint: gitfunc always fetches the
 * configured ref itself, so nothing here is trusted beyond "which ref, which commit, maybe".
 */
import type { ProviderName } from './providers.js';

export interface PushedRef {
  /** Full ref name, e.g. 'refs/heads/main'. */
  ref: string;
  /** The new commit id when the payload gives a well-formed one. */
  after?: string;
  /** The push deleted the ref. */
  deleted: boolean;
}

const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ZERO_ID = /^0+$/;

/** The refs of a push payload; empty when it names none. */
export function pushedRefs(provider: ProviderName, payload: unknown): PushedRef[] {
  if (!isObject(payload)) return [];
  return provider === 'bitbucket' ? bitbucketRefs(payload) : [githubStyleRef(payload.ref, payload.after)].filter(isPushedRef);
}

/** GitHub, GitLab, Gitea/Forgejo and the generic sender: `{"ref": "refs/heads/main", "after": "<sha>"}`. */
function githubStyleRef(ref: unknown, after: unknown): PushedRef | undefined {
  if (typeof ref !== 'string' || ref === '') return undefined;
  const id = typeof after === 'string' ? after.toLowerCase() : '';
  if (ZERO_ID.test(id)) return { ref, deleted: true };
  return COMMIT_ID.test(id) ? { ref, after: id, deleted: false } : { ref, deleted: false };
}

/** Bitbucket Cloud (`push.changes[].new`) and Data Center (`changes[].ref`, `toHash`). */
function bitbucketRefs(payload: Record<string, unknown>): PushedRef[] {
  const refs: PushedRef[] = [];
  const cloudChanges = isObject(payload.push) ? payload.push.changes : undefined;
  for (const change of Array.isArray(cloudChanges) ? cloudChanges : []) {
    if (!isObject(change)) continue;
    const target = isObject(change.new) ? change.new : isObject(change.old) ? change.old : undefined;
    if (target === undefined || typeof target.name !== 'string') continue;
    const ref = `${target.type === 'tag' ? 'refs/tags' : 'refs/heads'}/${target.name}`;
    if (!isObject(change.new)) {
      refs.push({ ref, deleted: true });
      continue;
    }
    const pushed = githubStyleRef(ref, isObject(target.target) ? target.target.hash : undefined);
    if (pushed) refs.push(pushed);
  }
  for (const change of Array.isArray(payload.changes) ? payload.changes : []) {
    if (!isObject(change) || !isObject(change.ref)) continue;
    const pushed = githubStyleRef(change.ref.id, change.type === 'DELETE' ? '0' : change.toHash);
    if (pushed) refs.push(pushed);
  }
  return refs;
}

/**
 * Whether a push to `pushed` can change what is served for `served` (the repo.ref setting):
 * a branch or tag name matches its full ref, 'HEAD' (the remote's default branch) matches any
 * push, and a pinned commit id never moves.
 */
export function pushTargetsServedRef(pushed: string, served: string): boolean {
  if (/^[0-9a-f]{40}$/i.test(served)) return false;
  if (served === 'HEAD') return true;
  if (served.startsWith('refs/')) return pushed === served;
  return pushed === `refs/heads/${served}` || pushed === `refs/tags/${served}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPushedRef(value: PushedRef | undefined): value is PushedRef {
  return value !== undefined;
}
