import { type CachedResult, type ResultCache, resultCacheKey } from '../cache/result-cache.js';
import { GitfuncError } from '../errors.js';
import type { CallResult, TimedOut } from '../model/call-result.js';
import type { Invocation } from '../model/invocation.js';
import type { TaskRecord } from '../model/task-record.js';
import { checkResponse, type PreparedResponse, prepareResponse } from '../response/prepare-response.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import type { CallClient } from '../runtime/pool.js';
import type { RecordWriter } from '../tasks/record-writer.js';
import type { UploadFolders } from '../uploads/upload-folders.js';
import { recordOfCall, recordWhenEnded } from './call-records.js';
import type { Invoker } from './invoker.js';
import type { OutcomeLog } from './outcome-log.js';

/** A sync API's `maxConcurrency` is reached: the call is refused at once, never queued. */
export class ConcurrencyLimitReached extends GitfuncError {
  constructor(apiId: string, max: number) {
    super('API_CONCURRENCY_LIMIT', `API '${apiId}' already runs its maximum of ${max} concurrent calls; retry shortly`, { maxConcurrency: max });
    this.name = 'ConcurrencyLimitReached';
  }
}

/** A call's result that is sent as it is (not a response the function built). */
export type ResultToSend = Exclude<CallResult, { kind: 'response' }>;

/** What a sync call answers: a result to send as it is, or a response the function asked for. */
export type SyncAnswer =
  | { kind: 'result'; result: ResultToSend; cached: boolean }
  | { kind: 'response'; prepared: PreparedResponse; cached: boolean };

export interface SyncCallDeps {
  invoker: Invoker;
  /** Keeps a revision live while a run outlives its caller's wait (`api_timeout`). */
  holder: RevisionHolder;
  records: RecordWriter;
  /** Results of APIs whose function sets `cache_result`. */
  resultCache: ResultCache;
  uploads: UploadFolders;
  /** Every call's end is counted; a failed one logged at warn with its exception (the HTTP line logs every call). */
  outcomes: OutcomeLog;
}

/** A result `cache_result` may keep: a success that is not a file (files may change or go). */
function cacheable(result: CallResult, prepared: PreparedResponse | undefined): CachedResult | undefined {
  if (result.kind === 'json' || result.kind === 'text') return { kind: result.kind, body: result.body };
  if (result.kind === 'response' && prepared?.file === undefined) return { kind: 'response', body: result.body };
  return undefined;
}

/**
 * The life of a sync call, from a resolved Invocation to its answer: the `cache_result` cache,
 * the API's `maxConcurrency`, the run on the pool, the function's response checked, the record
 * and the call's uploads. HTTP only reads the call and writes the answer.
 */
export class SyncCalls {
  /** Calls whose caller was answered at its `api_timeout` while the run goes on: their uploads stay. */
  private readonly runningOn = new Set<string>();

  constructor(private readonly deps: SyncCallDeps) {}

  /**
   * Answers `call` on `revision` (acquired by the caller) from the cache, or by running it.
   * `client` is the caller's socket: a call whose caller left before it started is dropped.
   * The call's uploads are gone once this resolves, unless the answer is a response (it may
   * stream one of them): then `end` removes them once it is sent.
   * @throws ConcurrencyLimitReached
   */
  async answer(revision: Revision, call: Invocation, triggerTime: number, client: CallClient | undefined): Promise<SyncAnswer> {
    // Only calls of an API whose function sets cache_result (without uploads) look here.
    const cacheKey = call.cacheResultSeconds !== undefined && call.uploadDir === undefined ? resultCacheKey(revision.commit, call) : undefined;
    const cached = cacheKey === undefined ? undefined : await this.deps.resultCache.get(cacheKey);
    if (cached !== undefined) return this.fromCache(cached, revision.dir);
    const limit = call.concurrency;
    if (limit !== undefined && !limit.tryEnter()) throw new ConcurrencyLimitReached(call.originId, limit.max);
    if (call.waitSeconds !== undefined) return this.answerWithin(call.waitSeconds, revision, call, triggerTime, client, cacheKey);
    const result = await this.deps.invoker.run(revision, call, 'sync', client);
    this.leaveLimit(call, result);
    return this.finish(revision, call, triggerTime, result, cacheKey);
  }

  /** Frees the call's `maxConcurrency` place: a timed-out call holds its worker until Python stops, so only then. */
  private leaveLimit(call: Invocation, result: CallResult): void {
    const limit = call.concurrency;
    if (limit === undefined) return;
    if (result.kind === 'timeout') void result.ended.then(() => limit.leave());
    else limit.leave();
  }

  /** A call's result, once it ran: its response checked, its record, the cache, its uploads. */
  private async finish(revision: Revision, call: Invocation, triggerTime: number, result: CallResult, cacheKey: string | undefined): Promise<SyncAnswer> {
    const checked =
      result.kind === 'response' ? await checkResponse(result, { revisionDir: revision.dir, uploadDir: call.uploadDir }) : { result, prepared: undefined };
    this.record(call, revision, triggerTime, checked.result);
    if (cacheKey !== undefined) {
      const keep = cacheable(checked.result, checked.prepared);
      if (keep !== undefined) void this.deps.resultCache.set(cacheKey, keep, call.cacheResultSeconds! * 1000);
    }
    if (checked.prepared !== undefined) return { kind: 'response', prepared: checked.prepared, cached: false };
    // A sync call's uploads live as long as the call: gone before the caller hears back.
    if (call.uploadDir !== undefined) await this.end(call);
    return { kind: 'result', result: checked.result, cached: false };
  }

  /**
   * A call whose caller waits `waitSeconds`, less than the run may take (`api_timeout` with
   * `timeout`, CONTRACT section 12): past the wait the caller is answered 599.2 while the run
   * goes on, up to its own timeout; then it is recorded as it ended and its uploads removed.
   * Its revision stays live until then, and once the caller is answered the run no longer
   * depends on the caller's connection (a call still queued is not dropped when it closes).
   */
  private async answerWithin(
    waitSeconds: number,
    revision: Revision,
    call: Invocation,
    triggerTime: number,
    client: CallClient | undefined,
    cacheKey: string | undefined,
  ): Promise<SyncAnswer> {
    let answered = false;
    const caller: CallClient | undefined = client && {
      get destroyed() {
        return !answered && client.destroyed;
      },
    };
    const run = this.deps.invoker.run(revision, call, 'sync', caller);
    const result = await settledWithin(run, waitSeconds * 1000);
    if (result !== undefined) {
      this.leaveLimit(call, result);
      return this.finish(revision, call, triggerTime, result, cacheKey);
    }
    answered = true;
    this.deps.holder.retain(revision);
    this.runningOn.add(call.taskId);
    void run.then(async (late) => {
      this.leaveLimit(call, late);
      this.record(call, revision, triggerTime, late);
      this.runningOn.delete(call.taskId);
      this.deps.holder.release(revision);
      await this.end(call);
    });
    // The caller's wait passed, not the run's timeout: the run's own end is recorded above.
    const waited: TimedOut = { kind: 'timeout', at: Date.now(), ended: Promise.resolve(undefined) };
    return { kind: 'result', result: waited, cached: false };
  }

  /** Removes the call's uploads, if it has any left and its run has ended; safe to call again. */
  end(call: Invocation): Promise<void> {
    if (call.uploadDir === undefined || this.runningOn.has(call.taskId)) return Promise.resolve();
    return this.deps.uploads.remove(call.taskId);
  }

  /** A cached answer: the function does not run, so there is no task and no record. */
  private async fromCache(cached: CachedResult, revisionDir: string): Promise<SyncAnswer> {
    if (cached.kind !== 'response') return { kind: 'result', result: { kind: cached.kind, body: cached.body, log: null }, cached: true };
    return { kind: 'response', prepared: await prepareResponse(cached.body, { revisionDir }), cached: true };
  }

  /**
   * Records a call that ran, whatever happens to the answer (the client may be gone already).
   * A call refused as busy, or dropped because its client hung up first, never ran: no record.
   * A timed-out one is recorded once its worker stopped, with the output printed until then.
   */
  private record(call: Invocation, revision: Revision, triggerTime: number, result: CallResult): void {
    const { commit, mask } = revision;
    if (result.kind === 'timeout') void recordWhenEnded(call, commit, triggerTime, result, mask).then((record) => this.add(record));
    else if (result.kind !== 'busy' && result.kind !== 'abandoned') this.add(recordOfCall(call, commit, triggerTime, result, undefined, mask));
  }

  /** Writes a sync call's record and reports its outcome. */
  private add(record: TaskRecord): void {
    this.deps.records.add(record);
    this.deps.outcomes.ended(record);
  }
}

/** `promise`'s value, or undefined when it has not settled within `ms` (it never rejects here). */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
