import { GitfuncError } from '../errors.js';
import type { TreeEntry } from './tree-entry.js';

// Same bound as Linux's MAXSYMLINKS: deeper chains are loops or attacks.
const MAX_HOPS = 40;

/**
 * Refuse any symlink whose target, resolved like the kernel would (following other symlinks in the
 * same tree), leaves the revision root. A purely textual check is not enough: with `a -> .`,
 * `b -> a/../x` looks inside but resolves to the parent of the root.
 */
export function checkSymlinks(entries: readonly TreeEntry[]): void {
  const links = new Map<string, string>();
  for (const entry of entries) if (entry.kind === 'symlink') links.set(entry.path, entry.target);

  const outside: string[] = [];
  for (const [path, target] of links) {
    if (resolveInside(parentParts(path), target, links, 0) === null) outside.push(path);
  }
  if (outside.length > 0) {
    throw new GitfuncError('GIT_SYMLINK_OUTSIDE', `symlinks point outside the served folder: ${outside.join(', ')}`, {
      files: outside,
    });
  }
}

function parentParts(path: string): string[] {
  return path.split('/').slice(0, -1);
}

/** The target's path components below the root, or null if it leaves the root (or loops). */
function resolveInside(start: string[], target: string, links: Map<string, string>, hops: number): string[] | null {
  if (target.startsWith('/') || hops > MAX_HOPS) return null;
  let stack = [...start];
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return null;
      stack.pop();
      continue;
    }
    stack.push(part);
    const next = links.get(stack.join('/'));
    if (next !== undefined) {
      const resolved = resolveInside(stack.slice(0, -1), next, links, hops + 1);
      if (resolved === null) return null;
      stack = resolved;
    }
  }
  return stack;
}
