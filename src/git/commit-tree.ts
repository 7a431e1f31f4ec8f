import * as fs from 'node:fs';
import * as git from 'isomorphic-git';
import { GitfuncError } from '../errors.js';
import { checkEntryName, childPath, type TreeEntry } from './tree-entry.js';

const LFS_POINTER_PREFIX = Buffer.from('version https://git-lfs.github.com/spec/v1');

/** The files of one commit's served folder, ready for writeTreeEntries. */
export interface CommitTree {
  entries: TreeEntry[];
  /** filled in while the file entries are read: paths whose blob is a Git LFS pointer, not the real file */
  lfsPointers: string[];
}

/**
 * List the tree of `commit` below `path` (the subfolder becomes the root) by walking tree objects.
 * Submodules are refused up front; LFS pointers can only be seen in blob content, so the file
 * readers record them and the caller checks after reading.
 */
export async function listCommitTree(gitdir: string, commit: string, path: string): Promise<CommitTree> {
  // isomorphic-git's object cache: without it every readTree/readBlob re-opens and re-indexes the packs.
  const cache = {};
  const rootOid = await servedTreeOid(gitdir, commit, path, cache);
  const entries: TreeEntry[] = [];
  const submodules: string[] = [];
  const lfsPointers: string[] = [];

  const walk = async (treeOid: string, prefix: string): Promise<void> => {
    const { tree } = await git.readTree({ fs, gitdir, oid: treeOid, cache });
    const names = new Set<string>();
    for (const item of tree) {
      checkEntryName(prefix, item.path);
      const entryPath = childPath(prefix, item.path);
      // A crafted tree can repeat a name; git itself would refuse to check it out.
      if (names.has(item.path)) {
        throw new GitfuncError('GIT_TREE_INVALID', `duplicate name ${JSON.stringify(entryPath)} in tree`, { path: entryPath });
      }
      names.add(item.path);
      if (item.type === 'commit') {
        submodules.push(entryPath);
      } else if (item.type === 'tree') {
        entries.push({ kind: 'dir', path: entryPath });
        await walk(item.oid, entryPath);
      } else if (item.mode === '120000') {
        const { blob } = await git.readBlob({ fs, gitdir, oid: item.oid, cache });
        entries.push({ kind: 'symlink', path: entryPath, target: Buffer.from(blob).toString('utf8') });
      } else {
        if (item.path === '.gitmodules') submodules.push(entryPath);
        const oid = item.oid;
        entries.push({
          kind: 'file',
          path: entryPath,
          executable: item.mode === '100755',
          read: async () => {
            const { blob } = await git.readBlob({ fs, gitdir, oid, cache });
            if (isLfsPointer(blob)) lfsPointers.push(entryPath);
            return blob;
          },
        });
      }
    }
  };
  try {
    await walk(rootOid, '');
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) {
      throw new GitfuncError('GIT_FETCH_FAILED', `commit ${commit} is incomplete in the local git cache: ${err.message}`, {
        commit,
      });
    }
    throw err;
  }

  if (submodules.length > 0) {
    throw new GitfuncError(
      'GIT_SUBMODULES_UNSUPPORTED',
      `git submodules are not supported; found: ${submodules.join(', ')}. Vendor the code into the repository instead`,
      { commit, files: submodules },
    );
  }
  return { entries, lfsPointers };
}

/** The tree object of the served folder; GIT_PATH_NOT_FOUND when it is missing or a file. */
async function servedTreeOid(gitdir: string, commit: string, path: string, cache: object): Promise<string> {
  try {
    const { oid } = await git.readTree({ fs, gitdir, oid: commit, filepath: path === '' ? undefined : path, cache });
    return oid;
  } catch (err) {
    if (path !== '' && (err instanceof git.Errors.NotFoundError || err instanceof git.Errors.ObjectTypeError)) {
      throw new GitfuncError('GIT_PATH_NOT_FOUND', `folder ${JSON.stringify(path)} does not exist in commit ${commit}`, {
        commit,
        path,
      });
    }
    throw err;
  }
}

/** True when a blob is a Git LFS pointer file rather than real content. */
export function isLfsPointer(blob: Uint8Array): boolean {
  return blob.length >= LFS_POINTER_PREFIX.length && Buffer.from(blob.buffer, blob.byteOffset, LFS_POINTER_PREFIX.length).equals(LFS_POINTER_PREFIX);
}
