import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { tryLockFile } from '../../lock-file.js';
// Default imports: named imports of a CommonJS module depend on the loader detecting them.
import interpreter from './interpreter.cjs';
import type { SnapshotSource } from './interpreter.cjs';
import format from './snapshot-format.cjs';
import zeroPages from './zero-pages.cjs';
import { snapshotKey } from './snapshot-key.js';

const { SNAPSHOT_READY, SNAPSHOT_UNUSABLE } = interpreter;
const BUILD_ENTRY = new URL('./build-entry.cjs', import.meta.url);
/** A build lock older than this is left over (its holder's pid may live on in another process). */
const BUILD_LOCK_STALE_MS = 180_000;
const BUILD_LOCK_POLL_MS = 200;

/** Settings of the snapshot cache. */
export interface SnapshotCacheOptions {
  enabled: boolean;
  /** Absolute directory holding snapshot files (shared by every server pointed at it). */
  dir: string;
}

/**
 * The interpreter snapshot every worker starts from: found in the cache dir and verified, or
 * built there in a thread of its own while the server already listens. Workers wait on
 * `source.state` and load Pyodide normally when the snapshot ends up unusable.
 */
export class InterpreterSnapshot {
  /** For the worker pools' workerData; undefined when snapshots are off. */
  readonly source: SnapshotSource | undefined;
  /** Settles once the snapshot is ready or given up on; never rejects. */
  private settled: Promise<void> = Promise.resolve();
  private builder: Worker | undefined;
  private closed = false;

  constructor(options: SnapshotCacheOptions, private readonly logger: Logger) {
    this.source = options.enabled ? this.sourceIn(options.dir) : undefined;
  }

  /**
   * Verifies the snapshot file, or builds it in the background when there is none. Called
   * once the workers are created: a found file is read and verified at once (~0.2 s,
   * synchronously) while their threads boot and compile Pyodide's code, so they hardly wait.
   */
  prepare(): void {
    if (this.source !== undefined) this.settled = this.settle(this.source);
  }

  /** Stops a build still running (its temp file is never renamed into place). */
  async close(): Promise<void> {
    this.closed = true;
    await this.builder?.terminate();
    await this.settled;
  }

  private sourceIn(dir: string): SnapshotSource | undefined {
    try {
      const { key, buildId, fileName } = snapshotKey();
      const file = path.join(dir, fileName);
      const size = fileSize(file);
      return { file, key, buildId, state: new SharedArrayBuffer(4), ...(size === undefined ? {} : { shared: zeroPages.sharedPagedMemory(size) }) };
    } catch (error) {
      this.logger.warn({ err: error }, 'interpreter snapshot off: workers load Pyodide normally');
      return undefined;
    }
  }

  private async settle(source: SnapshotSource): Promise<void> {
    let state = SNAPSHOT_UNUSABLE;
    try {
      state = await this.findOrBuild(source);
    } catch (error) {
      if (!this.closed) this.logger.warn({ err: error, file: source.file }, 'interpreter snapshot not built: workers load Pyodide normally');
    } finally {
      const cell = new Int32Array(source.state);
      Atomics.store(cell, 0, state);
      Atomics.notify(cell, 0);
    }
  }

  private async findOrBuild(source: SnapshotSource): Promise<number> {
    mkdirSync(path.dirname(source.file), { recursive: true });
    if (!existsSync(source.file)) await this.buildOnce(source);
    if (this.closed) return SNAPSHOT_UNUSABLE;
    // Into the memory the workers share, when they share it; memory of its own otherwise.
    const file = zeroPages.readFilePages(source.file, source.shared);
    if (file === undefined) {
      this.logger.warn({ file: source.file }, 'interpreter snapshot replaced while starting: workers load Pyodide normally');
      return SNAPSHOT_UNUSABLE;
    }
    try {
      format.openSnapshot(file, source, true);
    } catch (error) {
      if (!(error instanceof format.SnapshotUnusableError)) throw error;
      // Removed so the next start builds a sound one; this start must not wait for that.
      rmSync(source.file, { force: true });
      this.logger.warn({ file: source.file, reason: error.message }, 'interpreter snapshot unusable (removed): workers load Pyodide normally');
      return SNAPSHOT_UNUSABLE;
    }
    this.logger.info({ file: source.file }, 'workers start from the interpreter snapshot');
    return SNAPSHOT_READY;
  }

  /** Builds the snapshot unless another process is building it (a lock file), then waits for that one. */
  private async buildOnce(source: SnapshotSource): Promise<void> {
    for (;;) {
      if (this.closed || existsSync(source.file)) return;
      const attempt = tryLockFile(`${source.file}.lock`, BUILD_LOCK_STALE_MS);
      if (!('held' in attempt)) {
        await sleep(BUILD_LOCK_POLL_MS);
        continue;
      }
      try {
        if (!existsSync(source.file)) await this.build(source);
      } finally {
        attempt.held.release();
      }
      return;
    }
  }

  private async build(source: SnapshotSource): Promise<void> {
    const startedAt = Date.now();
    this.logger.info({ file: source.file }, 'building the interpreter snapshot');
    // env {}: the build runs no user code, and needs none of the server's environment.
    const builder = new Worker(BUILD_ENTRY, { workerData: { file: source.file, key: source.key }, env: {} });
    this.builder = builder;
    try {
      const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
        builder.once('message', resolve);
        builder.once('error', reject);
        builder.once('exit', (code) => reject(new Error(`snapshot builder exited (${code}) before it finished`)));
      });
      if (!outcome.ok) throw new Error(outcome.error);
    } finally {
      this.builder = undefined;
      await builder.terminate();
    }
    this.logger.info({ file: source.file, ms: Date.now() - startedAt }, 'interpreter snapshot built');
  }
}

function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined; // not built yet: workers read it once it is
  }
}
