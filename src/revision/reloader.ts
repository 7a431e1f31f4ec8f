import { join } from 'node:path';
import { GitfuncError, type Problem, RevisionInvalidError } from '../errors.js';
import { fetchRevision, type FetchedRevision, type RepoSourceOptions } from '../git/index.js';
import { pruneRevisionDirs } from '../git/prune-revisions.js';
import type { Logger } from '../log.js';
import { prunePackages } from '../packages/index.js';
import type { BuildResult } from './build-revision.js';
import { type LastGood, readLastGood, writeLastGood } from './last-good.js';
import type { FailedCommit, ReloadOutcome, ReloadStatus } from './reload-status.js';
import type { ReloadRequest, ReloadSource, ReloadTrigger } from './reload-trigger.js';
import type { RevisionHolder } from './revision-holder.js';
import type { Revision } from './revision.js';
import { logScriptFailures } from './script-failures.js';

export type { ReloadOutcome, ReloadStatus } from './reload-status.js';

export interface ReloaderDeps {
  /** Where to fetch from; `dataDir` also holds the last-good record. */
  source: RepoSourceOptions;
  /** Seconds between fetches of the ref without any request; 0 turns polling off. */
  pollSeconds: number;
  holder: RevisionHolder;
  /** Manifest checked and every script imported in the build worker (see buildRevision). */
  build(commit: string, dir: string): Promise<BuildResult>;
  /**
   * Loads a built revision into the workers before it is swapped in; `everyWorker` only while
   * nothing is served yet (a reload must not make idle workers wait for busy ones).
   */
  warm(revision: Revision, live: string[], everyWorker: boolean): Promise<void>;
  /** Called right after a swap (cron schedules follow the served revision). */
  onServed(revision: Revision): void;
  /** Told what every reload did (the metrics count them); absent: nobody counts. */
  onReloaded?(outcome: ReloadOutcome): void;
  logger: Logger;
}

/** Revision directories kept besides those in use and the last good one. */
const KEEP_RECENT_REVISIONS = 3;
/** Failed commits remembered (each is not rebuilt by polling or webhooks). */
const FAILED_REMEMBERED = 20;
const COMMIT_ID = /^[0-9a-f]{40}$/i;

/** Requests that arrived while a reload ran, merged into the one reload that follows. */
interface PendingReload {
  sources: Set<ReloadSource>;
  commitHint?: string;
  waiters: Array<(outcome: ReloadOutcome) => void>;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * Fetches the configured ref and, when its commit is new and has not failed before, builds it
 * (manifest, scripts imported in the build worker), warms it into the serving workers and
 * swaps it in: calls already running finish on the old revision, new calls go to the new one.
 * One reload runs at a time; requests arriving meanwhile become one more reload of the newest
 * head, so a storm of webhooks costs one build. A broken commit is never served: the last good
 * one stays, and is remembered in the data dir for the next start.
 */
export class Reloader implements ReloadTrigger {
  private pending: PendingReload | undefined;
  private running = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly failed = new Map<string, FailedCommit>();
  private state: ReloadStatus['state'] = 'idle';
  private buildingCommit: string | undefined;
  private lastFetchAt: number | undefined;
  private lastFetchedCommit: string | undefined;
  private lastFetchError: GitfuncError | undefined;
  private lastRequest: { source: ReloadSource; at: number; commitHint?: string } | undefined;
  private lastFailed: FailedCommit | undefined;
  private lastGood: LastGood | undefined;
  private builds = 0;
  /** How long the served revision took to fetch, build and warm, in ms. */
  private servedLoadMs: number | undefined;
  /** The installed packages folder of each revision built and not pruned yet (absent: none). */
  private readonly packagesDirs = new Map<string, string | undefined>();

  constructor(private readonly deps: ReloaderDeps) {}

  /** Polling applies to branches and tags; a commit id never moves. */
  get pollSeconds(): number {
    return COMMIT_ID.test(this.deps.source.ref) ? 0 : this.deps.pollSeconds;
  }

  /** Starts a reload soon (see the class comment); never throws. */
  request(request: ReloadRequest): void {
    this.enqueue(request);
  }

  /** Like `request`, resolving with what the reload that covers this request did. */
  reloadNow(request: ReloadRequest): Promise<ReloadOutcome> {
    return new Promise((resolve) => this.enqueue(request, resolve));
  }

  /**
   * Serves a first revision: the last good commit from the data dir at once when there is one
   * (then the head is fetched in the background), else the fetched head. Throws when nothing
   * can be served: the fetch failed, or the head does not build.
   */
  async start(): Promise<void> {
    const remembered = await readLastGood(this.deps.source.dataDir, this.deps.source);
    if (remembered !== undefined) {
      this.lastGood = remembered;
      // Requests arriving meanwhile (an early webhook) wait, merged, for the first revision.
      this.running = true;
      let outcome: ReloadOutcome;
      try {
        outcome = await this.buildAndServe(remembered.commit, remembered.dir, 'start');
        this.deps.onReloaded?.(outcome);
      } finally {
        this.running = false;
      }
      if (outcome.result === 'served') {
        this.deps.logger.info({ commit: remembered.commit }, 'serving the last good commit from the data dir; fetching the head');
        this.request({ source: 'start' });
        this.startPolling();
        return;
      }
      this.deps.logger.warn({ commit: remembered.commit }, 'the last good commit no longer builds: fetching the head');
    }
    const outcome = await this.reloadNow({ source: 'start' });
    if (outcome.result === 'fetchFailed') throw outcome.error;
    if (outcome.result === 'failed') throw new RevisionInvalidError(outcome.errors);
    if (outcome.result !== 'served' && outcome.result !== 'unchanged') {
      throw new GitfuncError('RELOAD_STOPPED', 'the server stopped before a revision was served', {});
    }
    this.startPolling();
  }

  /** The reload pipeline for `GET /api/v1/status`. */
  status(): ReloadStatus {
    const hint = this.lastRequest?.commitHint;
    return {
      ref: this.deps.source.ref,
      state: this.state,
      buildingCommit: this.buildingCommit ?? null,
      lastFetchAt: iso(this.lastFetchAt),
      lastFetchedCommit: this.lastFetchedCommit ?? null,
      lastFetchError: this.lastFetchError === undefined ? null : { code: this.lastFetchError.code, message: this.lastFetchError.message },
      lastRequest: this.lastRequest === undefined ? null : { source: this.lastRequest.source, at: iso(this.lastRequest.at)!, commitHint: hint ?? null },
      lastFailed: this.lastFailed ?? null,
      lastGood: this.lastGood === undefined ? null : { commit: this.lastGood.commit, servedAt: iso(this.lastGood.servedAt)! },
      builds: this.builds,
      pollSeconds: this.pollSeconds,
    };
  }

  /** Fetch, build and warm time of the served revision, in ms. */
  get loadMs(): number | undefined {
    return this.servedLoadMs;
  }

  /** Stops polling; a reload in progress ends at its next step, waiting callers get `stopped`. */
  close(): void {
    this.closed = true;
    clearInterval(this.pollTimer);
    const waiters = this.pending?.waiters ?? [];
    this.pending = undefined;
    for (const resolve of waiters) resolve({ result: 'stopped' });
  }

  private startPolling(): void {
    const seconds = this.pollSeconds;
    if (seconds <= 0 || this.closed || this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => this.request({ source: 'poll' }), seconds * 1000).unref();
  }

  private enqueue(request: ReloadRequest, waiter?: (outcome: ReloadOutcome) => void): void {
    if (this.closed) {
      waiter?.({ result: 'stopped' });
      return;
    }
    this.lastRequest = { source: request.source, at: Date.now(), ...(request.commitHint ? { commitHint: request.commitHint } : {}) };
    this.pending ??= { sources: new Set(), waiters: [] };
    this.pending.sources.add(request.source);
    if (request.commitHint) this.pending.commitHint = request.commitHint;
    if (waiter) this.pending.waiters.push(waiter);
    if (this.running) return;
    this.running = true;
    // Requests of the same turn (a burst of webhooks) join this reload rather than the next.
    setImmediate(() => void this.drain());
  }

  /** Runs reloads one at a time until no request is left. */
  private async drain(): Promise<void> {
    while (this.pending !== undefined && !this.closed) {
      const next = this.pending;
      this.pending = undefined;
      const outcome = await this.reload(next);
      this.deps.onReloaded?.(outcome);
      for (const resolve of next.waiters) resolve(outcome);
    }
    this.running = false;
  }

  /** One reload: fetch, then build and serve the head if it is new. Never throws. */
  private async reload(request: PendingReload): Promise<ReloadOutcome> {
    const source = request.sources.has('manual') ? 'manual' : [...request.sources][0]!;
    const started = performance.now();
    this.state = 'fetching';
    let fetched: FetchedRevision;
    try {
      fetched = await fetchRevision(this.deps.source);
    } catch (error) {
      this.state = 'idle';
      this.lastFetchAt = Date.now();
      this.lastFetchError = error instanceof GitfuncError ? error : new GitfuncError('GIT_FETCH_FAILED', String(error), {});
      this.deps.logger.warn({ err: this.lastFetchError, source }, 'fetching the head failed: still serving the current revision');
      return { result: 'fetchFailed', error: this.lastFetchError };
    }
    this.lastFetchAt = Date.now();
    this.lastFetchError = undefined;
    this.lastFetchedCommit = fetched.commit;
    this.state = 'idle';
    const { commit } = fetched;
    if (request.commitHint !== undefined && request.commitHint !== commit) {
      this.deps.logger.info({ hint: request.commitHint, commit, source }, 'the fetched head is not the commit announced: serving the fetched one');
    }
    if (this.closed) return { result: 'stopped' };
    const served = this.deps.holder.current;
    if (commit === served?.commit) return { result: 'unchanged', commit };
    // Polls and repeated webhooks do not rebuild a broken head again and again; an operator
    // may, and so may a start with nothing else to serve.
    if (this.failed.has(commit) && source !== 'manual' && served !== undefined) return { result: 'knownFailed', commit };
    return this.buildAndServe(commit, fetched.dir, source, started);
  }

  /** Builds, warms and swaps in one commit; on any error the served revision stays. */
  private async buildAndServe(commit: string, dir: string, source: ReloadSource, started = performance.now()): Promise<ReloadOutcome> {
    this.state = 'building';
    this.buildingCommit = commit;
    this.builds++;
    try {
      const built = await this.deps.build(commit, dir);
      if (built.revision === undefined) return this.fail(commit, source, built.problems);
      if (this.closed) return { result: 'stopped' };
      const revision = built.revision;
      this.packagesDirs.set(commit, revision.ref.packagesDir);
      const { holder } = this.deps;
      holder.pin(commit);
      try {
        await this.deps.warm(revision, holder.live(), holder.current === undefined);
      } finally {
        holder.unpin(commit);
      }
      if (this.closed) return { result: 'stopped' };
      const previousCommit = holder.current?.commit ?? null;
      holder.swap(revision);
      this.afterSwap(revision);
      this.failed.delete(commit);
      const ms = Math.round(performance.now() - started);
      this.servedLoadMs = ms;
      this.deps.logger.info({ commit, previousCommit, source, ms, warnings: built.problems.length }, 'revision served');
      logScriptFailures(this.deps.logger, commit, revision.scriptFailures, revision.unscheduledCronJobs);
      await this.remember(commit, dir);
      return { result: 'served', commit, previousCommit, ms };
    } catch (error) {
      this.deps.logger.error({ err: error, commit }, 'building the revision failed');
      const message = `building the revision failed: ${error instanceof Error ? error.message : String(error)}`;
      return this.fail(commit, source, [{ file: '*', line: 1, col: 1, severity: 'error', message }]);
    } finally {
      this.state = 'idle';
      this.buildingCommit = undefined;
    }
  }

  /** The revision is served whatever happens here: a failure is logged, never turned into a failed build. */
  private afterSwap(revision: Revision): void {
    try {
      this.deps.onServed(revision);
    } catch (error) {
      this.deps.logger.error({ err: error, commit: revision.commit }, 'updating the cron schedules failed');
    }
  }

  private fail(commit: string, source: ReloadSource, problems: Problem[]): ReloadOutcome {
    const errors = problems.filter((problem) => problem.severity === 'error');
    const failure: FailedCommit = { commit, at: new Date().toISOString(), source, errors };
    this.failed.delete(commit);
    this.failed.set(commit, failure);
    if (this.failed.size > FAILED_REMEMBERED) this.failed.delete(this.failed.keys().next().value!);
    this.lastFailed = failure;
    this.deps.logger.error({ commit, source, problems: errors }, 'revision failed: still serving the current revision');
    return { result: 'failed', commit, errors };
  }

  /** Removes the installed packages of revisions no longer kept (each revision's own set, CONTRACT section 11). */
  private async prunePackages(keepCommits: ReadonlySet<string>): Promise<void> {
    for (const commit of this.packagesDirs.keys()) if (!keepCommits.has(commit)) this.packagesDirs.delete(commit);
    const keepSites = new Set([...this.packagesDirs.values()].filter((dir) => dir !== undefined));
    const removed = await prunePackages(join(this.deps.source.dataDir, 'packages'), keepSites);
    if (removed.length > 0) this.deps.logger.info({ removed }, 'installed packages of old revisions removed');
  }

  /** Records the served commit as last good and removes revision directories no longer needed. */
  private async remember(commit: string, dir: string): Promise<void> {
    const { dataDir } = this.deps.source;
    try {
      this.lastGood = await writeLastGood(dataDir, this.deps.source, commit, dir);
      const keepCommits = new Set([...this.deps.holder.live(), commit]);
      const removed = await pruneRevisionDirs(join(dataDir, 'revisions'), { keepCommits, keepRecent: KEEP_RECENT_REVISIONS });
      if (removed.length > 0) this.deps.logger.info({ removed }, 'old revision directories removed');
      await this.prunePackages(keepCommits);
    } catch (error) {
      // The commit is served already; only the next restart's head start is affected.
      this.deps.logger.warn({ err: error, commit }, 'recording the last good commit failed');
    }
  }
}
