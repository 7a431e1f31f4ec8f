import type { ReloadSource } from '../model/deploy.js';

export type { ReloadSource } from '../model/deploy.js';
/** A request to fetch the configured ref and serve it if it changed. */
export interface ReloadRequest {
  source: ReloadSource;
  /** A commit id the sender claims is the new head: only a hint, always fetched and verified. */
  commitHint?: string;
}
/** Starts a reload soon; never throws, never waits for the build. */
export interface ReloadTrigger {
  request(request: ReloadRequest): void;
}
