import { isAbsolute } from 'node:path';
import { GitfuncError } from '../errors.js';

/** Where to fetch functions from, and where gitfunc keeps its data. */
export interface RepoSourceOptions {
  /** http(s) URL of a git repo, OR a local directory path (absolute or relative to cwd), e.g. './functions.example' */
  url: string;
  /** branch, tag (lightweight or annotated), or a full 40-hex commit id; for a local directory ignored */
  ref: string;
  /** '' = repo root; else a subfolder to serve (monorepos), e.g. 'services/funcs' */
  path: string;
  /** http auth token (sent via isomorphic-git onAuth) */
  token?: string;
  /** default 'x-access-token' (GitHub/Gitea accept any user + token as password; GitLab PATs too) */
  username?: string;
  /** gitfunc's data directory (absolute) */
  dataDir: string;
}

/** One fetched commit, written out as an immutable directory. */
export interface FetchedRevision {
  /** 40-hex commit id; for a local directory 'local-' + first 16 hex of a sha256 over the files (path + content) */
  commit: string;
  /** absolute path of an immutable directory holding the files of `path` at that commit (the subfolder's content at its root) */
  dir: string;
  /** the source URL with any userinfo removed, so it can be logged */
  url: string;
  ref: string;
  /** the served subfolder, normalised ('' = root) */
  path: string;
}

/** Options after checking: defaults filled in, `path` normalised. */
export interface ResolvedSourceOptions extends Required<Omit<RepoSourceOptions, 'token'>> {
  token: string | undefined;
}

export const SOURCE_DEFAULTS = Object.freeze({
  username: 'x-access-token',
  // A fetch that receives no byte for this long is treated as unreachable instead of hanging the fetch queue.
  idleTimeoutMs: 60_000,
  // Older `.tmp-*` revision dirs can only be leftovers of a crashed fetch.
  staleTmpAgeMs: 10 * 60_000,
});

/** Normalise a served subfolder: '' for the root, else 'a/b' without './', duplicate or trailing slashes. */
export function normalizeServedPath(path: string): string {
  const parts = path.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..') || /^[\\/]/.test(path)) {
    throw new GitfuncError('GIT_PATH_INVALID', `path must be a relative subfolder without '..': ${JSON.stringify(path)}`, {
      path,
    });
  }
  return parts.join('/');
}

/** Check the caller's options once, so the rest of src/git can trust them. */
export function resolveSourceOptions(opts: RepoSourceOptions): ResolvedSourceOptions {
  if (typeof opts.url !== 'string' || opts.url.trim() === '') {
    throw new GitfuncError('GIT_URL_UNSUPPORTED', 'a repository URL or local directory is required', {});
  }
  if (typeof opts.dataDir !== 'string' || !isAbsolute(opts.dataDir)) {
    throw new GitfuncError('GIT_DATA_DIR_INVALID', `dataDir must be an absolute path: ${JSON.stringify(opts.dataDir)}`, {
      dataDir: opts.dataDir,
    });
  }
  return {
    url: opts.url.trim(),
    // An empty ref means "whatever the remote's HEAD points at", like `git clone` without -b.
    ref: (opts.ref ?? '').trim() || 'HEAD',
    path: normalizeServedPath(opts.path ?? ''),
    token: opts.token || undefined,
    username: opts.username || SOURCE_DEFAULTS.username,
    dataDir: opts.dataDir,
  };
}

/**
 * Directory name of a revision: the commit, plus the served subfolder when there is one.
 * '/' becomes '_' for readability; '%' and '_' are percent-escaped first so 'a/b' and 'a_b' never share a directory.
 */
export function revisionDirName(commit: string, path: string): string {
  if (path === '') return commit;
  const escaped = path.replace(/%/g, '%25').replace(/_/g, '%5F').replace(/\//g, '_');
  return `${commit}--${escaped}`;
}
