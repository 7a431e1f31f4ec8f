import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, symlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import pLimit from 'p-limit';
import { GitfuncError } from '../errors.js';
import { checkSymlinks } from './symlinks.js';
import type { TreeEntry } from './tree-entry.js';

const TMP_PREFIX = '.tmp-';
// Enough to overlap disk latency (each file is fsynced) without opening hundreds of files at once.
const WRITE_CONCURRENCY = 8;

/**
 * Build a revision in a fresh `<revisionsDir>/.tmp-*` directory and move it into place under the
 * name `build` returns. Only a complete directory is ever renamed, so a crash leaves at most a tmp
 * dir (removed later by removeStaleTmpDirs), never a half-written revision.
 */
export async function buildRevisionDir(revisionsDir: string, build: (tmpDir: string) => Promise<string>): Promise<string> {
  const tmpDir = join(revisionsDir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
  await mkdir(tmpDir);
  try {
    const finalDir = join(revisionsDir, await build(tmpDir));
    await publishRevisionDir(tmpDir, finalDir);
    return finalDir;
  } finally {
    // After a successful rename this is a no-op; after a failure it removes the partial tree.
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** Rename the complete tmp dir to its final name, or keep the existing one: same name means same content. */
async function publishRevisionDir(tmpDir: string, finalDir: string): Promise<void> {
  try {
    await rename(tmpDir, finalDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    return;
  }
  await fsyncPath(resolve(finalDir, '..'));
}

/** True when `dir` exists as a directory (a published revision can be reused as is). */
export async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await lstat(dir)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Write `entries` below `root` and return a sha256 over every file and symlink (kind, path, mode, content),
 * independent of write order. Symlinks are checked first and created last, so no file is ever
 * written through a link.
 */
export async function writeTreeEntries(root: string, entries: readonly TreeEntry[]): Promise<string> {
  checkSymlinks(entries);
  const digests: string[] = new Array<string>(entries.length).fill('');
  for (const entry of entries) {
    if (entry.kind === 'dir') await mkdir(insideRoot(root, entry.path), { recursive: true });
  }
  const limit = pLimit(WRITE_CONCURRENCY);
  let failure: unknown;
  const writeFile = async (entry: TreeEntry, index: number): Promise<void> => {
    if (entry.kind !== 'file' || failure !== undefined) return; // after a failure, start no more writes
    const content = await entry.read();
    await writeFileDurably(root, entry.path, content, entry.executable ? 0o755 : 0o644);
    digests[index] = `file\0${entry.path}\0${entry.executable ? '755' : '644'}\0${sha256(content)}\n`;
  };
  const keepFirstFailure = (err: unknown): void => {
    failure ??= err;
  };
  // Every started write settles before this returns: the caller may remove `root` next.
  await limit.map(entries, (entry, index) => writeFile(entry, index).catch(keepFirstFailure));
  if (failure !== undefined) throw failure;
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== 'symlink') continue;
    await symlink(entry.target, insideRoot(root, entry.path));
    digests[index] = `symlink\0${entry.path}\0${sha256(Buffer.from(entry.target))}\n`;
  }
  return sha256(Buffer.from(digests.join('')));
}

/** Remove `.tmp-*` dirs older than `maxAgeMs`: leftovers of a crashed or killed fetch. */
export async function removeStaleTmpDirs(revisionsDir: string, maxAgeMs: number): Promise<void> {
  const names = await readdir(revisionsDir);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const path = join(revisionsDir, name);
    const stat = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null; // removed meanwhile by another process
      throw err;
    });
    if (stat && now - stat.mtimeMs > maxAgeMs) await rm(path, { recursive: true, force: true });
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Resolve a tree path below root, refusing anything that would land outside (defence in depth). */
function insideRoot(root: string, path: string): string {
  const full = resolve(root, path);
  if (!full.startsWith(root + sep)) {
    throw new GitfuncError('GIT_TREE_INVALID', `path escapes the revision directory: ${JSON.stringify(path)}`, { path });
  }
  return full;
}

/** Create a new file (never overwrite: a duplicate name in a tree is an error) and fsync it before the rename publishes it. */
async function writeFileDurably(root: string, path: string, content: Uint8Array, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(insideRoot(root, path), 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new GitfuncError('GIT_TREE_INVALID', `duplicate path in tree: ${JSON.stringify(path)}`, { path });
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory so a rename inside it survives a power cut. */
async function fsyncPath(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
