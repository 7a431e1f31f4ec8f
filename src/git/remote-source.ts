import { join } from 'node:path';
import { GitfuncError } from '../errors.js';
import { listCommitTree } from './commit-tree.js';
import { fetchCommit } from './fetch-commit.js';
import type { ResolvedSourceOptions } from './options.js';
import { revisionDirName } from './options.js';
import { buildRevisionDir, isDirectory, writeTreeEntries } from './revision-dir.js';

/** Fetch the commit `opts.ref` names and make sure its revision directory exists. */
export async function fetchRemoteRevision(
  opts: ResolvedSourceOptions,
  revisionsDir: string,
  idleTimeoutMs: number,
): Promise<{ commit: string; dir: string }> {
  const gitdir = join(opts.dataDir, 'git');
  const commit = await fetchCommit({ gitdir, url: opts.url, ref: opts.ref, token: opts.token, username: opts.username, idleTimeoutMs });
  return writeCommitRevision(gitdir, commit, opts.path, revisionsDir);
}

/** Make sure the revision directory of `commit` (a commit already in `gitdir`) exists. */
export async function writeCommitRevision(gitdir: string, commit: string, path: string, revisionsDir: string): Promise<{ commit: string; dir: string }> {
  const name = revisionDirName(commit, path);
  const existing = join(revisionsDir, name);
  // Same commit and folder means same content: a published revision is reused without reading the tree again.
  if (await isDirectory(existing)) return { commit, dir: existing };

  const { entries, lfsPointers } = await listCommitTree(gitdir, commit, path);
  const dir = await buildRevisionDir(revisionsDir, async (tmpDir) => {
    await writeTreeEntries(tmpDir, entries);
    if (lfsPointers.length > 0) {
      const files = [...lfsPointers].sort();
      throw new GitfuncError(
        'GIT_LFS_UNSUPPORTED',
        `Git LFS is not supported; these files are LFS pointers, not content: ${files.join(', ')}`,
        { commit, files },
      );
    }
    return name;
  });
  return { commit, dir };
}
