/**
 * bench/base-tree: the commit bench/sync-api compares the working tree with, checked out in a
 * temporary git worktree that shares this tree's node_modules (installing is slow and the
 * registry may be unreachable) when package-lock.json is the same in both.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A resolved base commit and why it was chosen. */
export interface BaseChoice {
  commit: string;
  /** How the commit was picked, for the report: `BENCH_BASE=…`, `merge-base of HEAD and main`… */
  reason: string;
  subject: string;
}

/** A base commit checked out in a temporary worktree; `remove()` deletes it. */
export interface BaseTree {
  dir: string;
  /** Where its node_modules come from, for the report. */
  dependencies: string;
  remove(): void;
}

function git(root: string, args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function commitOf(root: string, commitish: string): string | undefined {
  const result = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${commitish}^{commit}`], {
    cwd: root,
    encoding: 'utf8',
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function pick(root: string, requested: string | undefined): { commit: string; reason: string } {
  if (requested) {
    const commit = commitOf(root, requested);
    if (!commit) throw new Error(`BENCH_BASE=${requested} is not a commit of this repository`);
    return { commit, reason: `BENCH_BASE=${requested}` };
  }
  const head = commitOf(root, 'HEAD')!;
  // Uncommitted work on the server is what "before" means most often: compare it with HEAD.
  if (git(root, ['status', '--porcelain', '--', 'src']) !== '') {
    return { commit: head, reason: 'HEAD, since src/ has uncommitted changes' };
  }
  // A branch is compared with the point where it left main (origin/main when there is a remote).
  const mainRef = ['origin/main', 'main'].find((ref) => commitOf(root, ref));
  if (mainRef) {
    const forkPoint = git(root, ['merge-base', 'HEAD', mainRef]);
    if (forkPoint !== head) return { commit: forkPoint, reason: `merge-base of HEAD and ${mainRef}` };
  }
  const parent = commitOf(root, 'HEAD~1');
  if (!parent) throw new Error('no base commit: HEAD has no parent; set BENCH_BASE');
  return { commit: parent, reason: 'HEAD~1' };
}

/**
 * The commit to compare with: `requested` (BENCH_BASE, any commit-ish) when given; else HEAD when
 * src/ has uncommitted changes; else the merge-base of HEAD with origin/main (or main) when HEAD
 * is past it; else HEAD~1.
 */
export function chooseBase(root: string, requested: string | undefined): BaseChoice {
  const { commit, reason } = pick(root, requested);
  return { commit, reason, subject: git(root, ['log', '-1', '--format=%s', commit]) };
}

function sameLockfile(root: string, commit: string): boolean {
  const lockAtBase = spawnSync('git', ['show', `${commit}:package-lock.json`], { cwd: root, encoding: 'utf8' });
  return lockAtBase.status === 0 && lockAtBase.stdout === readFileSync(path.join(root, 'package-lock.json'), 'utf8');
}

/**
 * Checks `commit` out with `git worktree add --detach` in a new temporary directory. Its
 * node_modules is a symlink to `root`'s when package-lock.json is the same; otherwise, with
 * `install` (BENCH_BASE_INSTALL=1), `npm ci --ignore-scripts` runs there and better-sqlite3's
 * addon is copied from `root` (or compiled when the versions differ). Returns the reason instead when the
 * base cannot be run.
 */
export function checkOutBase(root: string, commit: string, install: boolean): BaseTree | { skipped: string } {
  const sameDependencies = sameLockfile(root, commit);
  if (!sameDependencies && !install) {
    return {
      skipped:
        'package-lock.json differs between base and head, so the base cannot share node_modules; ' +
        'BENCH_BASE_INSTALL=1 runs npm ci --ignore-scripts in the base tree instead (better-sqlite3\'s addon is copied)',
    };
  }
  const parent = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-base-'));
  const dir = path.join(parent, 'tree');
  const linkedModules = path.join(dir, 'node_modules');
  const remove = (): void => {
    // Unlink the shared node_modules first, so no removal below can ever reach into it.
    if (sameDependencies) rmSync(linkedModules, { force: true });
    const removed = spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, encoding: 'utf8' });
    if (removed.status !== 0) {
      process.stderr.write(`git worktree remove ${dir} failed (${removed.stderr.trim()}); deleting it and pruning\n`);
      rmSync(dir, { recursive: true, force: true });
      spawnSync('git', ['worktree', 'prune'], { cwd: root });
    }
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    git(root, ['worktree', 'add', '--detach', dir, commit]);
  } catch (error) {
    rmSync(parent, { recursive: true, force: true });
    throw error;
  }
  if (sameDependencies) {
    try {
      symlinkSync(path.join(root, 'node_modules'), linkedModules, 'dir');
    } catch (error) {
      remove();
      throw error;
    }
    return { dir, dependencies: `node_modules shared with the working tree (same package-lock.json)`, remove };
  }
  process.stderr.write(`package-lock.json differs between base and head: npm ci --ignore-scripts in ${dir}\n`);
  const installed = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 2, 2] });
  if (installed.status !== 0) {
    remove();
    return { skipped: `package-lock.json differs between base and head and npm ci failed there (exit ${installed.status})` };
  }
  const addon = provideSqliteAddon(root, dir);
  if ('failed' in addon) {
    remove();
    return { skipped: `package-lock.json differs between base and head and ${addon.failed}` };
  }
  return { dir, dependencies: `own node_modules (package-lock.json differs: npm ci --ignore-scripts, ${addon.how})`, remove };
}

const SQLITE_ADDON = path.join('node_modules', 'better-sqlite3', 'build', 'Release');

function betterSqliteVersion(tree: string): string | undefined {
  const manifest = path.join(tree, 'node_modules', 'better-sqlite3', 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/**
 * `npm ci --ignore-scripts` leaves better-sqlite3 without its compiled addon: copy the working
 * tree's when both have the same version (compiling takes minutes), else compile it there.
 */
function provideSqliteAddon(root: string, dir: string): { how: string } | { failed: string } {
  const version = betterSqliteVersion(dir);
  if (version === undefined) return { how: 'no better-sqlite3' };
  if (version === betterSqliteVersion(root) && existsSync(path.join(root, SQLITE_ADDON))) {
    cpSync(path.join(root, SQLITE_ADDON), path.join(dir, SQLITE_ADDON), { recursive: true });
    return { how: `better-sqlite3 ${version} addon copied from the working tree` };
  }
  process.stderr.write(`better-sqlite3 ${version} differs from the working tree's: npm rebuild better-sqlite3 in ${dir}\n`);
  const rebuilt = spawnSync('npm', ['rebuild', 'better-sqlite3'], { cwd: dir, stdio: ['ignore', 2, 2] });
  if (rebuilt.status !== 0) return { failed: `npm rebuild better-sqlite3 failed there (exit ${rebuilt.status})` };
  return { how: `better-sqlite3 ${version} compiled there` };
}

/** The working tree's side of the comparison: HEAD's short id and subject, and whether src/ has changes. */
export function describeHead(root: string): string {
  const head = git(root, ['log', '-1', '--format=%h %s']);
  const changed = git(root, ['status', '--porcelain', '--', 'src']) !== '';
  return `working tree at ${head}${changed ? ' + uncommitted changes in src/' : ''}`;
}
