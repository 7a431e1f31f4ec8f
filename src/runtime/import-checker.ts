import type { Logger } from 'pino';
import { WorkerPool } from './pool.js';
import type { SnapshotSource } from './snapshot/interpreter.cjs';
import type { InspectOutcome, RevisionRef } from './worker-protocol.cjs';

/** Settings of the build worker. */
export interface ImportCheckerOptions {
  /** How long an interrupted import may take to stop before its worker is terminated. */
  timeoutGraceMs: number;
  /** The interpreter snapshot its worker starts from (see snapshot/). */
  snapshot?: SnapshotSource;
}

/** A Pyodide error text that means the interpreter's memory is exhausted (it never shrinks). */
const OUT_OF_MEMORY = /^MemoryError\b|out of memory/i;

/**
 * Imports a revision's scripts in a worker of its own, apart from the serving workers, so a
 * script that loops, sleeps or allocates without end at module level never stalls a call.
 * A stuck import has its worker terminated (and replaced) by the pool; a worker that died or
 * ran out of memory is replaced here, so the next build starts from a clean interpreter.
 */
export class ImportChecker {
  private pool: WorkerPool;
  private closed = false;

  constructor(
    private readonly options: ImportCheckerOptions,
    private readonly logger: Logger,
  ) {
    this.pool = this.newPool();
  }

  /** Every script of `revision` imported within `deadlineMs`: functions found and import problems. */
  async inspect(revision: RevisionRef, deadlineMs: number): Promise<InspectOutcome> {
    let outcome: InspectOutcome;
    try {
      // Only this revision stays loaded: the build worker keeps nothing between builds.
      outcome = await this.pool.inspect(revision, [revision.id], deadlineMs);
    } catch (error) {
      this.logger.warn({ err: error, commit: revision.id }, 'the import check worker died: replacing it');
      this.replace();
      const message = `importing the scripts killed the import check worker (out of memory?): ${error instanceof Error ? error.message : String(error)}`;
      return { catalog: [], undecorated: [], scriptIds: [], problems: [{ file: '*.py', line: 1, col: 1, message }], interrupted: true };
    }
    if (outcome.problems.some((problem) => OUT_OF_MEMORY.test(problem.message))) {
      this.logger.warn({ commit: revision.id }, 'an import ran out of memory: replacing the import check worker');
      this.replace();
    }
    return outcome;
  }

  /** Stops the build worker. */
  close(): Promise<void> {
    this.closed = true;
    return this.pool.close();
  }

  private newPool(): WorkerPool {
    return new WorkerPool({ workers: 1, timeoutGraceMs: this.options.timeoutGraceMs, maxQueue: 1, snapshot: this.options.snapshot }, this.logger);
  }

  private replace(): void {
    if (this.closed) return;
    const old = this.pool;
    this.pool = this.newPool();
    void old.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the old import check worker failed'));
  }
}
