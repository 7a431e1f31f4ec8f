import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

/** A lock file this process holds; `release` lets the next process take it. */
export interface HeldLock {
  release(): void;
}

/** What `tryLockFile` found: the lock taken, or the pid of the live process holding it (undefined: it kept changing hands). */
export type LockAttempt = { held: HeldLock } | { holder: number | undefined };

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

function lockAgeMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0; // released meanwhile: the next attempt takes it
    throw error;
  }
}

/**
 * Tries to take `file` for this process: created exclusively, holding the pid. A lock left by a
 * process that no longer exists (killed, crashed) is taken over at once; with `staleAfterMs`,
 * so is a lock older than that (its pid may have been reused).
 *
 * Not proper-lockfile: its locks go stale by age only (an mtime refreshed on a timer), so a
 * server restarted right after `kill -9` found its own data dir locked for the whole stale
 * period (measured: 10.1 s at the default, 2.5 s at the 2 s minimum). The pid check needs the
 * holders on one host, as the data dir's SQLite does anyway.
 */
export function tryLockFile(file: string, staleAfterMs = Number.POSITIVE_INFINITY): LockAttempt {
  const own = String(process.pid);
  // Two attempts: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${own}\n`, { flag: 'wx' });
      return { held: { release: () => releaseLock(file, own) } };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = lockHolder(file);
    if (holder !== undefined && processAlive(holder) && lockAgeMs(file) <= staleAfterMs) return { holder };
    rmSync(file, { force: true });
  }
  return { holder: undefined };
}

/** Removes the lock file if it is still this process's. */
function releaseLock(file: string, own: string): void {
  if (String(lockHolder(file)) === own) rmSync(file, { force: true });
}
