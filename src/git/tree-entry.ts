import { GitfuncError } from '../errors.js';

/** One item of a revision to write, with a POSIX path relative to the revision root. */
export type TreeEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; executable: boolean; read(): Promise<Uint8Array> }
  | { kind: 'symlink'; path: string; target: string };

/** Join a parent path and a child name into a revision-relative path. */
export function childPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/**
 * Refuse names that would escape or confuse the revision directory. Git's tree parser accepts any
 * bytes, so a crafted repository could otherwise name an entry '..' or 'a/b'.
 */
export function checkEntryName(parent: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw new GitfuncError('GIT_TREE_INVALID', `unsafe file name ${JSON.stringify(name)} in ${JSON.stringify(parent || '/')}`, {
      path: parent,
      name,
    });
  }
}
