import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GitfuncError } from './errors.js';
import { type HeldLock, tryLockFile } from './lock-file.js';

/** A data dir held by this process; `release` lets the next process take it. */
export type DataDirLock = HeldLock;

const LOCK_FILE = 'gitfunc.lock';

/**
 * Locks `dataDir` to this process with a lock file holding its pid: two servers sharing one
 * data dir would fetch, prune and run the durable queue over each other. A lock left by a
 * process that no longer exists (killed, crashed) is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  const attempt = tryLockFile(file);
  if ('held' in attempt) return attempt.held;
  if (attempt.holder === undefined) {
    throw new GitfuncError('DATA_DIR_LOCKED', `data dir ${dataDir}: another process keeps taking its lock file ${file}`, { dataDir });
  }
  throw new GitfuncError(
    'DATA_DIR_LOCKED',
    `data dir ${dataDir} is in use by another gitfunc process (pid ${attempt.holder}); give each server its own data dir (--data-dir)`,
    { dataDir, pid: attempt.holder },
  );
}
