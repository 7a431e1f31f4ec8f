import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Which revision directories survive a prune. */
export interface PruneOptions {
  /** Commits still served, used by a call, or remembered as last good. */
  keepCommits: ReadonlySet<string>;
  /** The newest directories kept besides those (a quick way back). */
  keepRecent: number;
}

/** The commit a revision directory belongs to: its name, or the part before `--<path>`. */
function commitOf(name: string): string {
  return name.split('--', 1)[0]!;
}

/**
 * Removes old revision directories under `revisionsDir`, keeping those of `keepCommits` and the
 * `keepRecent` newest; `.tmp-*` directories are left to removeStaleTmpDirs. Returns the names removed.
 */
export async function pruneRevisionDirs(revisionsDir: string, options: PruneOptions): Promise<string[]> {
  const names = (await readdir(revisionsDir)).filter((name) => !name.startsWith('.'));
  const dated = await Promise.all(names.map(async (name) => ({ name, mtimeMs: (await lstat(join(revisionsDir, name))).mtimeMs })));
  dated.sort((a, b) => b.mtimeMs - a.mtimeMs);
  const removed: string[] = [];
  for (const [index, { name }] of dated.entries()) {
    if (index < options.keepRecent || options.keepCommits.has(commitOf(name))) continue;
    await rm(join(revisionsDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
