import path from 'node:path';
import type { Problem } from '../errors.js';
import type { Logger } from '../log.js';
import type { PackageOptions } from '../packages/index.js';
import { buildRevision } from '../revision/build-revision.js';
import { ImportChecker } from '../runtime/import-checker.js';
import { InterpreterSnapshot, type SnapshotCacheOptions } from '../runtime/snapshot/snapshot-cache.js';

export interface CheckOptions {
  envAllow: readonly string[];
  processEnv: NodeJS.ProcessEnv;
  syncTimeoutMaxSeconds: number;
  importSeconds: number;
  /** The interpreter snapshot the check's worker starts from, as a server's workers do. */
  snapshot: SnapshotCacheOptions;
  /** Pinned packages are resolved and installed as the server does (its cache in the data dir). */
  packages: PackageOptions;
  logger: Logger;
}

/**
 * Validates a functions repository on disk as the server would load it (manifest, env,
 * every script imported in Pyodide, every named function), in check mode: unset secrets warn.
 */
export async function checkRepository(dir: string, options: CheckOptions): Promise<Problem[]> {
  // Restoring the snapshot takes ~0.5 s where loading Pyodide takes 3-6 s; a missing one is
  // built first, as `gitfunc serve` does, so the next check (or server) restores it.
  const snapshot = new InterpreterSnapshot(options.snapshot, options.logger);
  // A generous grace: an interrupted import is reported at its line, which beats a terminated
  // worker's bare message, and a check is not in a hurry (a busy CI machine stops it slowly).
  const inspector = new ImportChecker({ timeoutGraceMs: 5000, snapshot: snapshot.source }, options.logger);
  // The worker's thread boots while the snapshot file is verified (see InterpreterSnapshot.prepare).
  inspector.startWorker();
  snapshot.prepare();
  try {
    const { problems } = await buildRevision('check', path.resolve(dir), {
      inspector,
      envAllow: options.envAllow,
      processEnv: options.processEnv,
      mode: 'check',
      syncTimeoutMaxSeconds: options.syncTimeoutMaxSeconds,
      importSeconds: options.importSeconds,
      packages: options.packages,
    });
    return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  } finally {
    await Promise.all([inspector.close(), snapshot.close()]);
  }
}
