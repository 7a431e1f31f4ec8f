/** The bare repository in the data dir that `git push` to gitfunc writes into. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { minimalGitEnv } from './git-http-backend.js';

const execFileAsync = promisify(execFile);

/**
 * Creates the bare repository on first use (`git init --bare`), its HEAD naming the served
 * branch so a clone checks that out. Safe to call again: an existing one is left as it is.
 */
export async function ensurePushRepo(dir: string, servedRef: string): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  const name = servedRef.replace(/^refs\/heads\//, '');
  const branch = /^(?!HEAD$)(?!refs\/)(?![0-9a-f]{40}$)[A-Za-z0-9._/-]+$/.test(name) ? name : undefined;
  await execFileAsync('git', ['init', '--quiet', '--bare', ...(branch !== undefined ? [`--initial-branch=${branch}`] : []), dir], {
    env: minimalGitEnv(),
  });
}

/** The commit `ref` names in the bare repository, or undefined while nothing was pushed to it. */
export async function pushedCommit(dir: string, ref: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
      cwd: dir,
      env: { ...minimalGitEnv(), GIT_DIR: dir },
    });
    return stdout.trim() || undefined;
  } catch (error) {
    // --quiet: exit 1 and no output just means the ref does not exist (yet).
    if ((error as { code?: unknown }).code === 1) return undefined;
    throw error;
  }
}
