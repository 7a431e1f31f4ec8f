import { join } from 'node:path';
import { GitfuncError, type Problem, RevisionInvalidError } from '../errors.js';
import { fetchGivenRevision, fetchRevision, type FetchedRevision, type RepoSourceOptions } from '../git/index.js';
import { pruneRevisionDirs } from '../git/prune-revisions.js';
import type { Logger } from '../log.js';
import type { DeployPin } from '../model/deploy.js';
import { prunePackages } from '../packages/index.js';
import type { DeployHistory } from '../tasks/deploy-history.js';
import type { BuildResult } from './build-revision.js';
import { DeployRecorder } from './deploy-recorder.js';
import { type LastGood, readLastGood, writeLastGood } from './last-good.js';
import type { FailedCommit, ReloadOutcome, ReloadStatus } from './reload-status.js';
import type { ReloadRequest, ReloadSource, ReloadTrigger } from './reload-trigger.js';
import type { RevisionHolder } from './revision-holder.js';
import type { Revision } from './revision.js';
import { findRollbackTarget, type RollbackTarget } from './rollback-target.js';
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
  /** Every reload attempt is recorded here, and the rollback pin kept (both survive a restart). */
  history: DeployHistory;
  /** Entries the deploy history keeps. */
  historyKeep: number;
  logger: Logger;
}

/** What a rollback did: the commit its prefix named, and when found, the reload's outcome. */
export type RollbackAnswer = { target: Exclude<RollbackTarget, { kind: 'found' }> } | { target: Extract<RollbackTarget, { kind: 'found' }>; outcome: ReloadOutcome };

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
  /** The commit a rollback pinned, until a new push or an unpin. */
  private pinned: DeployPin | undefined;
  /** Reloads and rollbacks run one after the other: each waits for this chain. */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly recorder: DeployRecorder;
  /** The installed packages folder of each revision built and not pruned yet (absent: none). */
  private readonly packagesDirs = new Map<string, string | undefined>();

  constructor(private readonly deps: ReloaderDeps) {
    this.recorder = new DeployRecorder(deps.history, deps.historyKeep, deps.logger);
  }

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
    this.pinned = await this.deps.history.pin();
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
      await this.recorder.record('start', outcome);
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
      pinned: this.pinned === undefined ? null : { commit: this.pinned.commit, at: iso(this.pinned.at)!, headAtPin: this.pinned.headAtPin },
    };
  }

  /** Fetch, build and warm time of the served revision, in ms. */
  get loadMs(): number | undefined {
    return this.servedLoadMs;
  }

  /** The commit a rollback pinned, if any. */
  get pin(): DeployPin | undefined {
    return this.pinned;
  }

  /**
   * Serves again a commit the deploy history shows as served (`prefix`: its id or a unique
   * prefix of it), fetched again if its directory is gone, and pins it: reloads then leave it
   * served while the ref's head stays the one seen now. A new head (a new push) ends the pin
   * and is served; so does `unpin`. Runs in turn with reloads.
   */
  rollback(prefix: string): Promise<RollbackAnswer> {
    return this.inTurn(async () => {
      const target = findRollbackTarget(await this.deps.history.list(this.deps.historyKeep), prefix);
      if (target.kind !== 'found') return { target };
      const outcome = this.closed ? ({ result: 'stopped' } as const) : await this.rollbackTo(target.commit);
      await this.recorder.record('rollback', outcome);
      return { target, outcome };
    });
  }

  /** Ends the pin, then reloads the head (source `unpin`). False when nothing was pinned. */
  async unpin(): Promise<boolean> {
    if (this.pinned === undefined) return false;
    await this.setPin(undefined);
    this.deps.logger.info({}, 'rollback pin removed: serving the head again');
    this.request({ source: 'unpin' });
    return true;
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
    setImmediate(() => void this.inTurn(() => this.drain()));
  }

  /** Runs reloads one at a time until no request is left. */
  private async drain(): Promise<void> {
    while (this.pending !== undefined && !this.closed) {
      const next = this.pending;
      this.pending = undefined;
      const outcome = await this.reload(next);
      this.deps.onReloaded?.(outcome);
      await this.recorder.record(sourceOf(next), outcome);
      for (const resolve of next.waiters) resolve(outcome);
    }
    this.running = false;
  }

  /** One reload: fetch, then build and serve the head if it is new. Never throws. */
  private async reload(request: PendingReload): Promise<ReloadOutcome> {
    const source = sourceOf(request);
    const started = performance.now();
    const fetched = await this.fetchHead(source);
    if (fetched instanceof GitfuncError) return { result: 'fetchFailed', error: fetched };
    const { commit } = fetched;
    if (request.commitHint !== undefined && request.commitHint !== commit) {
      this.deps.logger.info({ hint: request.commitHint, commit, source }, 'the fetched head is not the commit announced: serving the fetched one');
    }
    if (this.closed) return { result: 'stopped' };
    const served = this.deps.holder.current;
    if (commit === served?.commit) return { result: 'unchanged', commit };
    // With nothing served (the pinned commit's directory gone at a start) the head is served, ending the pin.
    if (this.pinned !== undefined && served !== undefined) {
      if (commit === this.pinned.headAtPin) return { result: 'pinned', commit, pinnedCommit: this.pinned.commit };
      this.deps.logger.info({ commit, pinned: this.pinned.commit, source }, 'a new head was pushed since the rollback: building it ends the pin');
    }
    // Polls and repeated webhooks do not rebuild a broken head again and again; an operator
    // may, and so may a start with nothing else to serve.
    if (this.failed.has(commit) && source !== 'manual' && served !== undefined) return { result: 'knownFailed', commit };
    const outcome = await this.buildAndServe(commit, fetched.dir, source, started);
    if (outcome.result === 'served' && this.pinned !== undefined) await this.setPin(undefined);
    return outcome;
  }

  /** Fetches the ref's head, keeping the fetch state `status()` shows; a failure is returned, not thrown. */
  private async fetchHead(source: ReloadSource): Promise<FetchedRevision | GitfuncError> {
    this.state = 'fetching';
    try {
      const fetched = await fetchRevision(this.deps.source);
      this.lastFetchError = undefined;
      this.lastFetchedCommit = fetched.commit;
      return fetched;
    } catch (error) {
      this.lastFetchError = error instanceof GitfuncError ? error : new GitfuncError('GIT_FETCH_FAILED', String(error), {});
      this.deps.logger.warn({ err: this.lastFetchError, source }, 'fetching the head failed: still serving the current revision');
      return this.lastFetchError;
    } finally {
      this.state = 'idle';
      this.lastFetchAt = Date.now();
    }
  }

  /** Builds and serves `commit` (see rollback); pins it once it is served. */
  private async rollbackTo(commit: string): Promise<ReloadOutcome> {
    const started = performance.now();
    // The head now: a different head later is a new push, which ends the pin.
    const head = await this.fetchHead('rollback');
    const headAtPin = head instanceof GitfuncError ? (this.lastFetchedCommit ?? null) : head.commit;
    let outcome: ReloadOutcome;
    if (commit === this.deps.holder.current?.commit) {
      outcome = { result: 'unchanged', commit };
    } else {
      let dir: string;
      try {
        dir = (await fetchGivenRevision(this.deps.source, commit)).dir;
      } catch (error) {
        const fetchError = error instanceof GitfuncError ? error : new GitfuncError('GIT_FETCH_FAILED', String(error), {});
        this.deps.logger.warn({ err: fetchError, commit }, 'fetching the commit to roll back to failed');
        return { result: 'fetchFailed', error: fetchError };
      }
      outcome = await this.buildAndServe(commit, dir, 'rollback', started);
    }
    if (outcome.result === 'served' || outcome.result === 'unchanged') {
      await this.setPin({ commit, at: Date.now(), headAtPin });
      this.deps.logger.info({ commit, headAtPin }, 'rolled back: the commit is pinned until a new push or an unpin');
    }
    return outcome;
  }

  private async setPin(pin: DeployPin | undefined): Promise<void> {
    this.pinned = pin;
    await this.deps.history.setPin(pin);
  }

  /** Runs `work` once every reload or rollback before it has ended. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work);
    this.turn = result.catch(() => undefined);
    return result;
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

/** The source a merged reload is recorded with: `manual` wins (it also rebuilds a failed head). */
function sourceOf(request: PendingReload): ReloadSource {
  return request.sources.has('manual') ? 'manual' : [...request.sources][0]!;
}
