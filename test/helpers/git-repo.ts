import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Environment for every git CLI call: a fixed identity, and no user or system config that could sign or hook. */
export const GIT_TEST_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'gitfunc test',
  GIT_AUTHOR_EMAIL: 'test@gitfunc.invalid',
  GIT_COMMITTER_NAME: 'gitfunc test',
  GIT_COMMITTER_EMAIL: 'test@gitfunc.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

// Work repos outlive single tests (servers publish from them), so they are removed when the process exits.
const createdDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of createdDirs) rmSync(dir, { recursive: true, force: true });
});

/** Run the git CLI in `cwd` and return its trimmed stdout; rejects with git's stderr on failure. */
export async function runGit(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: GIT_TEST_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Write (text or bytes) or delete (null) files below `dir`, creating parent folders. */
async function applyFiles(dir: string, files: Record<string, string | Buffer | null>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    if (content === null) {
      await rm(file, { force: true });
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
  }
}

/** Create a non-bare work repo at a fresh temp dir with the given files committed on branch 'main'; returns helpers. Uses the git CLI (git is installed) with a fixed author via env. */
export async function createWorkRepo(files: Record<string, string | Buffer>): Promise<{
  dir: string;
  commit(files: Record<string, string | Buffer | null>, message?: string): Promise<string>;
  head(): Promise<string>;
  tag(name: string, annotated?: boolean): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'gitfunc-work-'));
  createdDirs.add(dir);
  await runGit(dir, ['init', '--quiet', '--initial-branch=main']);

  const head = (): Promise<string> => runGit(dir, ['rev-parse', 'HEAD']);
  const commit = async (changes: Record<string, string | Buffer | null>, message = 'update'): Promise<string> => {
    await applyFiles(dir, changes);
    await runGit(dir, ['add', '--all']);
    // --allow-empty: a test may commit the same content twice and still expect a new commit id.
    await runGit(dir, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message]);
    return head();
  };
  const tag = async (name: string, annotated = false): Promise<void> => {
    await runGit(dir, annotated ? ['tag', '--annotate', '-m', `tag ${name}`, name] : ['tag', name]);
  };

  await commit(files, 'initial');
  return { dir, commit, head, tag };
}
