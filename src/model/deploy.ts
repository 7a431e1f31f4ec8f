/** Deploy history: every reload attempt and rollback, and the pin a rollback sets. */
import type { Problem } from '../errors.js';

/** Why a reload ran: who asked for it. */
export type ReloadSource = 'start' | 'webhook' | 'push' | 'poll' | 'manual' | 'rollback' | 'unpin';

/**
 * What a reload attempt did: `served` (the commit is now served), `unchanged` (already
 * served), `knownFailed` (failed before: not built again), `failed` (did not build),
 * `fetchFailed`, `pinned` (skipped: a rollback pins the served commit).
 */
export type DeployResult = 'served' | 'unchanged' | 'knownFailed' | 'failed' | 'fetchFailed' | 'pinned';

/** One reload attempt, as the deploy history keeps it. */
export interface DeployEntry {
  /** Increasing: the newest entry has the highest. */
  id: number;
  /** Epoch ms the attempt ended. */
  at: number;
  trigger: ReloadSource;
  result: DeployResult;
  /** The commit served, built or fetched (null when the fetch failed). */
  commit: string | null;
  /** The commit served before, for `served`. */
  previousCommit: string | null;
  /** Fetch, build and warm time of a served commit. */
  ms: number | null;
  /** A failed build's errors, each with its file:line:col. */
  errors: Problem[];
  /** Why the fetch failed. */
  fetchError: { code: string; message: string } | null;
}

/** A commit a rollback pinned: polls, webhooks and pushes of the same head do not replace it. */
export interface DeployPin {
  commit: string;
  /** Epoch ms of the rollback. */
  at: number;
  /** The ref's head when the pin was set: a different head is a new push, which ends the pin. */
  headAtPin: string | null;
}
