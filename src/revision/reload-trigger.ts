/** Who asked for a reload; `watch` is `gitfunc dev` seeing a file of the served folder change. */
export type ReloadSource = 'start' | 'webhook' | 'push' | 'poll' | 'manual' | 'watch';
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
