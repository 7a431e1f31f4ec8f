import type { DeployEntry } from '../model/deploy.js';

/** Which served commit a rollback's commit (a full id or a prefix of one) names. */
export type RollbackTarget =
  | { kind: 'found'; commit: string }
  /** No commit served in the history starts with it. */
  | { kind: 'unknown' }
  /** Several served commits start with it. */
  | { kind: 'ambiguous'; commits: string[] };

/** Finds the one commit of the history that was served and starts with `prefix` (case-insensitive). */
export function findRollbackTarget(history: readonly DeployEntry[], prefix: string): RollbackTarget {
  const wanted = prefix.toLowerCase();
  const commits = new Set(
    history.filter((entry) => entry.result === 'served' && entry.commit?.startsWith(wanted)).map((entry) => entry.commit!),
  );
  if (commits.size === 0) return { kind: 'unknown' };
  if (commits.size > 1) return { kind: 'ambiguous', commits: [...commits] };
  return { kind: 'found', commit: [...commits][0]! };
}
