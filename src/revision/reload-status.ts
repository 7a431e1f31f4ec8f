import type { GitfuncError, Problem } from '../errors.js';
import type { ReloadSource } from './reload-trigger.js';

/** What one reload did. `served` is the only outcome that changed what is served. */
export type ReloadOutcome =
  | { result: 'served'; commit: string; previousCommit: string | null; ms: number }
  /** The fetched head is already served. */
  | { result: 'unchanged'; commit: string }
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
}
