import type { Logger } from 'pino';
import { GitfuncError, ImportCheckError } from '../errors.js';
import { WorkerPool } from './pool.js';
import type { SnapshotSource } from './snapshot/interpreter.cjs';
import type { InspectOutcome } from './worker-protocol.cjs';
// Default import: named imports of a CommonJS module depend on the loader detecting them.
import workerProtocol from './worker-protocol.cjs';
import type { RevisionRef } from '../model/revision-ref.js';

/** Settings of the build worker. */
export interface ImportCheckerOptions {
  /** How long an interrupted import may take to stop before its worker is terminated. */
  timeoutGraceMs: number;
  /** The interpreter snapshot its worker starts from (see snapshot/). */
  snapshot?: SnapshotSource;
  /**
   * The serving pool, when the checker belongs to a server: the first check (the revision a
   * server starts with) runs there, as nothing is served yet and that revision is the one its
   * workers are about to load anyway.
   */
  firstCheckOn?: WorkerPool;
}

/** A Pyodide error text that means the interpreter's memory is exhausted (it never shrinks). */
const OUT_OF_MEMORY = /^MemoryError\b|out of memory/i;

/** True when an import problem's `message` says the interpreter ran out of memory. */
export function isOutOfMemory(message: string): boolean {
  return OUT_OF_MEMORY.test(message);
}

/**
 * Imports a revision's scripts in a worker of its own, apart from the serving workers, so a
 * script that loops, sleeps or allocates without end at module level never stalls a call, and
 * a reloaded commit that fails its check never runs in an interpreter that serves. A stuck
 * import has its worker terminated (and replaced) by the pool; a worker that died or ran out
 * of memory is replaced here, so the next build starts from a clean interpreter.
 * The worker starts on the first check that needs it: a server that never reloads (most test
 * servers, a server pinned to a commit) never holds a second interpreter. A server's first
 * check runs on a serving worker instead (see `firstCheckOn`).
 */
export class ImportChecker {
  /** The checker's own worker; undefined until a check needs it. */
  private pool: WorkerPool | undefined;
  /** The next check is the server's first, to run on `firstCheckOn`. */
  private firstCheckPending: boolean;
  private closed = false;

  constructor(
    private readonly options: ImportCheckerOptions,
    private readonly logger: Logger,
  ) {
    this.firstCheckPending = options.firstCheckOn !== undefined;
  }

  /** Every script of `revision` imported within `deadlineMs`: functions found and import problems. */
  async inspect(revision: RevisionRef, deadlineMs: number): Promise<InspectOutcome> {
    if (this.closed) return workerProtocol.importCheckCut(new ImportCheckError('IMPORT_CHECK_CANCELLED', 'the import check did not run: the server is stopping').toJSON());
    if (this.firstCheckPending) {
      this.firstCheckPending = false;
      return this.firstCheck(revision, deadlineMs);
    }
    // The deadline counts from when the import starts, so this worker's start is not counted.
    this.pool ??= this.newPool();
    let outcome: InspectOutcome;
    try {
      // Only this revision stays loaded: the build worker keeps nothing between builds.
      outcome = await this.pool.inspect(revision, [revision.id], deadlineMs);
    } catch (error) {
      this.logger.warn({ err: error, commit: revision.id }, 'the import check worker died: replacing it');
      this.replace();
      return workerDied(error, 'the import check worker');
    }
    if (outcome.problems.some((problem) => isOutOfMemory(problem.message))) {
      this.logger.warn({ commit: revision.id }, 'an import ran out of memory: replacing the import check worker');
      this.replace();
    }
    return outcome;
  }

  /** Starts the worker now rather than at the first check: for a caller sure to check soon. */
  startWorker(): void {
    if (!this.closed) this.pool ??= this.newPool();
  }

  /** Stops the build worker. */
  close(): Promise<void> {
    this.closed = true;
    return this.pool?.close() ?? Promise.resolve();
  }

  /**
   * The start's check, on a serving worker: nothing is served yet, and the revision it loads
   * there is the one the server is about to serve (so loading it into that worker is done too).
   */
  private async firstCheck(revision: RevisionRef, deadlineMs: number): Promise<InspectOutcome> {
    try {
      return await this.options.firstCheckOn!.inspect(revision, [revision.id], deadlineMs);
    } catch (error) {
      this.logger.warn({ err: error, commit: revision.id }, 'a serving worker died importing the scripts: it is replaced');
      return workerDied(error, 'a serving worker');
    }
  }

  private newPool(): WorkerPool {
    const serving = this.options.firstCheckOn;
    return new WorkerPool(
      {
        workers: 1,
        timeoutGraceMs: this.options.timeoutGraceMs,
        maxQueue: 1,
        snapshot: this.options.snapshot,
        // A script's import reaches DFF.CACHE and the network as its calls do.
        ...(serving === undefined ? {} : { bridge: serving.bridge, caBundle: serving.caBundle }),
      },
      this.logger,
    );
  }

  /** Closes the worker after a failure; the next check starts a fresh one. */
  private replace(): void {
    if (this.closed) return; // close() stops it
    const old = this.pool;
    this.pool = undefined;
    void old?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the old import check worker failed'));
  }
}

function workerDied(error: unknown, whose: string): InspectOutcome {
  const cause = error instanceof GitfuncError ? error.code : 'unknown';
  const message = `importing the scripts killed ${whose} (out of memory?): ${error instanceof Error ? error.message : String(error)}`;
  return workerProtocol.importCheckCut(new ImportCheckError('IMPORT_CHECK_WORKER_DIED', message, { cause }).toJSON());
}
