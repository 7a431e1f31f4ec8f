import * as fs from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as git from 'isomorphic-git';
import { refNotFound } from './fetch-errors.js';
import { peelToCommit } from './fetch-commit.js';
import type { ResolvedSourceOptions } from './options.js';
import { writeCommitRevision } from './remote-source.js';

const COMMIT_ID = /^[0-9a-f]{40}$/i;

/** True when `dir` is a bare git repository (HEAD, objects/ and refs/ at its top), such as the push remote's. */
export async function isBareRepository(dir: string): Promise<boolean> {
  const kinds = await Promise.all(
    ['HEAD', 'objects', 'refs'].map((name) => stat(join(dir, name)).then((s) => (s.isDirectory() ? 'dir' : 'file'), () => 'none')),
  );
  return kinds[0] === 'file' && kinds[1] === 'dir' && kinds[2] === 'dir';
}

/**
 * Read `opts.ref` straight from a local bare repository (nothing to fetch) into its revision
 * directory. GIT_REF_NOT_FOUND while nothing was pushed to that ref yet.
 */
export async function readLocalGitRevision(opts: ResolvedSourceOptions, gitdir: string, revisionsDir: string): Promise<{ commit: string; dir: string }> {
  let oid: string;
  try {
    oid = COMMIT_ID.test(opts.ref) ? opts.ref.toLowerCase() : await git.resolveRef({ fs, gitdir, ref: opts.ref });
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) throw refNotFound(gitdir, opts.ref);
    throw err;
  }
  const commit = await peelToCommit(gitdir, oid, opts.ref);
  if (commit === null) throw refNotFound(gitdir, opts.ref);
  return writeCommitRevision(gitdir, commit, opts.path, revisionsDir);
}
