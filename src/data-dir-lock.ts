import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitfuncError } from './errors.js';

/** A data dir held by this process; `release` lets the next process take it. */
export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'gitfunc.lock';

/** True while a process with this id exists (EPERM: it exists, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a lock file, or undefined when the file is gone or holds no pid. */
function lockHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Locks `dataDir` to this process with a lock file holding its pid: two servers sharing one
 * data dir would fetch, prune and run the durable queue over each other. A lock left by a
 * process that no longer exists (killed, crashed) is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  const own = String(process.pid);
  // Two attempts: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${own}\n`, { flag: 'wx' });
      return { release: () => releaseLock(file, own) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = lockHolder(file);
    if (holder !== undefined && processAlive(holder)) {
      throw new GitfuncError(
        'DATA_DIR_LOCKED',
        `data dir ${dataDir} is in use by another gitfunc process (pid ${holder}); give each server its own data dir (--data-dir)`,
        { dataDir, pid: holder },
      );
    }
    unlinkSync(file);
  }
  throw new GitfuncError('DATA_DIR_LOCKED', `data dir ${dataDir}: another process keeps taking its lock file ${file}`, { dataDir });
}

/** Removes the lock file if it is still this process's. */
function releaseLock(file: string, own: string): void {
  if (String(lockHolder(file)) === own) unlinkSync(file);
}
