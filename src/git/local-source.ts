import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { GitfuncError } from '../errors.js';
import { buildRevisionDir, writeTreeEntries } from './revision-dir.js';
import { checkEntryName, childPath, type TreeEntry } from './tree-entry.js';

// Never part of the functions: VCS metadata, JS dependencies and Python bytecode caches.
const SKIPPED_NAMES = new Set(['.git', 'node_modules', '__pycache__']);

/** A file or folder name never copied from a local directory (its contents neither). */
export function isSkippedName(name: string): boolean {
  return SKIPPED_NAMES.has(name);
}

/** The absolute directory when `url` names an existing local directory rather than a URL; null otherwise. */
export async function localDirectoryOf(url: string): Promise<string | null> {
  if (url.includes('://')) return null;
  const dir = resolve(url);
  try {
    return (await stat(dir)).isDirectory() ? dir : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Copy `path` of a local directory into a new revision named 'local-' + 16 hex of a content hash,
 * so unchanged files give the same id (and reuse the same directory) on every run.
 */
export async function copyLocalRevision(sourceDir: string, path: string, revisionsDir: string): Promise<{ commit: string; dir: string }> {
  const served = path === '' ? sourceDir : join(sourceDir, path);
  const servedStat = await stat(served).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw err;
  });
  if (!servedStat?.isDirectory()) {
    throw new GitfuncError('GIT_PATH_NOT_FOUND', `folder ${JSON.stringify(path)} does not exist in ${sourceDir}`, {
      url: sourceDir,
      path,
    });
  }
  const entries = await listLocalTree(served);
  let commit = '';
  const dir = await buildRevisionDir(revisionsDir, async (tmpDir) => {
    const digest = await writeTreeEntries(tmpDir, entries);
    commit = `local-${digest.slice(0, 16)}`;
    return commit;
  });
  return { commit, dir };
}

/** Every directory, file and symlink below `root` in a stable (sorted) order, skipping SKIPPED_NAMES. */
async function listLocalTree(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const walk = async (prefix: string): Promise<void> => {
    const dirents = await readdir(join(root, prefix), { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of dirents) {
      if (isSkippedName(dirent.name)) continue;
      checkEntryName(prefix, dirent.name);
      const path = childPath(prefix, dirent.name);
      const full = join(root, path);
      if (dirent.isDirectory()) {
        entries.push({ kind: 'dir', path });
        await walk(path);
      } else if (dirent.isFile()) {
        const { mode } = await stat(full);
        entries.push({ kind: 'file', path, executable: (mode & 0o111) !== 0, read: () => readFile(full) });
      } else if (dirent.isSymbolicLink()) {
        entries.push({ kind: 'symlink', path, target: relativeLinkTarget(root, full, await readlink(full)) });
      }
      // Sockets, FIFOs and devices cannot be part of a functions repository; they are left out.
    }
  };
  await walk('');
  return entries;
}

/** An absolute link target inside the served folder becomes relative, so it still works once copied. */
function relativeLinkTarget(root: string, linkPath: string, target: string): string {
  if (!isAbsolute(target)) return target;
  if (target !== root && !target.startsWith(root + sep)) return target; // checkSymlinks will refuse it
  return relative(dirname(linkPath), target) || '.';
}
