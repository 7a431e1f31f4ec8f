/**
 * `gitfunc dev`: notices edits in the served folder. fs.watch reports each file write, often
 * several times per save; a burst of events within `debounceMs` becomes one change, so one
 * save costs one reload.
 */
import { type Dirent, type FSWatcher, readdirSync, watch } from 'node:fs';
import path from 'node:path';
import { isSkippedName } from '../git/local-source.js';
import type { Logger } from '../log.js';

export interface FolderWatchOptions {
  /** Quiet time after the last event before the change is reported. */
  debounceMs: number;
  /** Absolute folders inside the watched one whose changes are not edits (gitfunc's own data dir). */
  ignoredDirs: readonly string[];
  logger: Logger;
}

/** Editors' swap, backup and lock files (vim, emacs, JetBrains, VS Code's atomic saves): never part of an edit. */
const EDITOR_TEMP_FILE = /(^\.#)|(^#.*#$)|(~$)|(\.sw[a-p]$)|(^4913$)|(\.tmp$)|(___jb_(tmp|old)___$)/;

/** Whether a changed path (relative to the watched folder) can change what is served. */
export function isServedChange(relativePath: string): boolean {
  const parts = relativePath.split(/[\\/]/);
  if (parts.some(isSkippedName)) return false;
  return !EDITOR_TEMP_FILE.test(parts[parts.length - 1] ?? '');
}

/** A running watch; `close` stops it and drops a change not reported yet. */
export interface FolderWatch {
  close(): void;
}

/**
 * Calls `onChange` with the changed paths (relative to `dir`) once edits under `dir` have settled.
 * Each folder has its own watch: Node 20's recursive mode on Linux watches each file's inode,
 * so it misses every edit after a save that replaces the file (vim, sed -i, most IDEs). A
 * folder's watch sees its entries by name whatever inode they have; folders created or removed
 * are picked up when a change is reported.
 */
export function watchFolder(dir: string, onChange: (paths: string[]) => void, options: FolderWatchOptions): FolderWatch {
  const ignored = options.ignoredDirs.map((ignoredDir) => path.relative(dir, ignoredDir)).filter((rel) => rel !== '' && !rel.startsWith('..'));
  const isIgnored = (relativePath: string): boolean =>
    !isServedChange(relativePath) || ignored.some((rel) => relativePath === rel || relativePath.startsWith(rel + path.sep));
  const watchers = new Map<string, FSWatcher>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const onEvent = (folder: string, filename: string | null): void => {
    // Some platforms omit the name; the change is still reported, as the folder itself.
    const relativePath = filename === null ? folder || '.' : path.join(folder, filename);
    if (closed || isIgnored(relativePath)) return;
    changed.add(relativePath);
    clearTimeout(timer);
    timer = setTimeout(report, options.debounceMs);
  };
  const unwatch = (folder: string): void => {
    watchers.get(folder)?.close();
    watchers.delete(folder);
  };
  const watchOne = (folder: string): void => {
    let watcher: FSWatcher;
    try {
      watcher = watch(path.join(dir, folder), (_event, filename) => onEvent(folder, filename));
    } catch (error) {
      // Removed between listing and watching: the next report drops it anyway.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    // A removed folder's watch ends with an error on some systems; its parent reports the removal.
    watcher.on('error', () => unwatch(folder));
    watchers.set(folder, watcher);
  };
  /** Watches every folder there is now, and stops watching those gone. */
  const syncWatchers = (): void => {
    const present = new Set(listFolders(dir, isIgnored));
    for (const folder of present) if (!watchers.has(folder)) watchOne(folder);
    for (const folder of [...watchers.keys()]) if (!present.has(folder)) unwatch(folder);
  };
  const report = (): void => {
    timer = undefined;
    const paths = [...changed].sort();
    changed.clear();
    try {
      syncWatchers();
    } catch (error) {
      options.logger.warn({ err: error, dir }, 'watching a new folder failed: its edits may be missed');
    }
    onChange(paths);
  };

  syncWatchers();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      for (const folder of [...watchers.keys()]) unwatch(folder);
    },
  };
}

/** `dir` itself ('') and every folder below it, relative to it, leaving out ignored ones and symlinks. */
function listFolders(dir: string, isIgnored: (relativePath: string) => boolean): string[] {
  const folders = [''];
  for (let index = 0; index < folders.length; index++) {
    const folder = folders[index]!;
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(dir, folder), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw error;
    }
    for (const entry of entries) {
      const relativePath = path.join(folder, entry.name);
      if (entry.isDirectory() && !isIgnored(relativePath)) folders.push(relativePath);
    }
  }
  return folders;
}
