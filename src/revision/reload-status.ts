import { formatProblem, type GitfuncError, type Problem } from '../errors.js';
import type { ReloadSource } from './reload-trigger.js';

/** What one reload did. `served` is the only outcome that changed what is served. */
export type ReloadOutcome =
  | { result: 'served'; commit: string; previousCommit: string | null; ms: number }
  /** The fetched head is already served. */
  | { result: 'unchanged'; commit: string }
  /** A rollback pinned the served commit and the head is the one it saw: nothing was built. */
  | { result: 'pinned'; commit: string; pinnedCommit: string }
  /** The fetched head failed before; only a manual reload builds it again. */
  | { result: 'knownFailed'; commit: string }
  /** The head did not build: the previous revision is still served. */
  | { result: 'failed'; commit: string; errors: Problem[] }
  | { result: 'fetchFailed'; error: GitfuncError }
  /** The server stopped before the reload ran. */
  | { result: 'stopped' };

/** A commit that did not build, with every error found in it. */
export interface FailedCommit {
  commit: string;
  /** ISO time of the build. */
  at: string;
  source: ReloadSource;
  errors: Problem[];
}

/** The reload pipeline as `GET /api/v1/status` shows it (`reload`). */
export interface ReloadStatus {
  /** The branch, tag or commit id followed. */
  ref: string;
  state: 'idle' | 'fetching' | 'building';
  /** The commit being built right now. */
  buildingCommit: string | null;
  /** ISO time the last fetch ended (success or not). */
  lastFetchAt: string | null;
  lastFetchedCommit: string | null;
  /** Why the last fetch failed; null once a fetch succeeds again. */
  lastFetchError: { code: string; message: string } | null;
  lastRequest: { source: ReloadSource; at: string; commitHint: string | null } | null;
  lastFailed: FailedCommit | null;
  /** The last good commit remembered in the data dir: served at once after a restart. */
  lastGood: { commit: string; servedAt: string } | null;
  /** Revisions built since the start (one per new commit, however many requests asked). */
  builds: number;
  /** 0: polling is off. */
  pollSeconds: number;
  /** The commit a rollback pinned (ISO time), until a new push or an unpin. */
  pinned: { commit: string; at: string; headAtPin: string | null } | null;
}

/** One line saying what a reload did, for a pusher (the push remote's `remote:` lines). */
export function describeOutcome(outcome: ReloadOutcome): string {
  switch (outcome.result) {
    case 'served':
      return `gitfunc: served ${outcome.commit} (${outcome.ms} ms)`;
    case 'unchanged':
      return `gitfunc: served ${outcome.commit} (already)`;
    case 'knownFailed':
      return `gitfunc: ${outcome.commit} failed before: not served`;
    case 'pinned':
      return `gitfunc: ${outcome.pinnedCommit} is pinned by a rollback: ${outcome.commit} not served`;
    case 'failed':
      return `gitfunc: ${outcome.commit} did not build: not served (${outcome.errors.map(formatProblem).join('; ')})`;
    case 'fetchFailed':
      return `gitfunc: reading the pushed commit failed: ${outcome.error.message}`;
    case 'stopped':
      return 'gitfunc: the server is stopping: not served';
  }
}
