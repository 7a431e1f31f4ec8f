import * as fs from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as git from 'isomorphic-git';
import type { AuthCallback, AuthFailureCallback, TagObject } from 'isomorphic-git';
import { GitfuncError } from '../errors.js';
import { refNotFound, toFetchError, type FetchErrorContext } from './fetch-errors.js';
import { createIdleTimeoutHttpClient } from './http-client.js';
import { urlPassword } from './redact.js';

export interface FetchCommitOptions {
  gitdir: string;
  url: string;
  ref: string;
  token: string | undefined;
  username: string;
  idleTimeoutMs: number;
}

const COMMIT_ID = /^[0-9a-f]{40}$/i;
// git's own INFINITE_DEPTH: "deepen" by this much un-shallows everything, like `git fetch --unshallow`.
const INFINITE_DEPTH = 0x7fffffff;
// isomorphic-git has no gc, so each fetch adds a pack. The gitdir is only a shallow cache: past this many
// packs it is cheaper to start over than to keep scanning them all on every object lookup.
const MAX_PACKS = 50;
// Refs are written under refs/remotes/origin/; the URL is passed on each fetch and never stored,
// because it may carry credentials and may change between runs.
const FETCH_REFSPEC = '+refs/heads/*:refs/remotes/origin/*';

/** Fetch `ref` from the remote into the persistent bare `gitdir` and return the commit it names (tags peeled). */
export async function fetchCommit(opts: FetchCommitOptions): Promise<string> {
  await openGitdir(opts.gitdir);
  const http = createIdleTimeoutHttpClient(opts.idleTimeoutMs);
  const ctx: FetchErrorContext = {
    url: opts.url,
    ref: opts.ref,
    secrets: [opts.token, urlPassword(opts.url)],
    get timedOut() {
      return http.timedOut;
    },
    idleTimeoutMs: opts.idleTimeoutMs,
  };
  const base = {
    fs,
    http,
    gitdir: opts.gitdir,
    url: opts.url,
    singleBranch: true,
    tags: false,
    ...authCallbacks(opts.token, opts.username),
  };
  const fetch = async (extra: Partial<Parameters<typeof git.fetch>[0]>): Promise<git.FetchResult> => {
    let result: git.FetchResult;
    try {
      result = await git.fetch({ ...base, ...extra });
    } catch (err) {
      throw toFetchError(err, ctx);
    }
    // isomorphic-git can read a body cut short by the timeout as a complete (empty) answer.
    if (http.timedOut) throw toFetchError(new Error('timed out'), ctx);
    return result;
  };

  if (COMMIT_ID.test(opts.ref)) return fetchCommitById(opts, opts.ref.toLowerCase(), fetch);

  const result = await fetch({ ref: opts.ref, depth: 1 });
  const commit = result.fetchHead ? await peelToCommit(opts.gitdir, result.fetchHead, opts.ref) : null;
  if (!commit) throw refNotFound(opts.url, opts.ref);
  return commit;
}

/**
 * A commit id is not an advertised ref. Most servers (git http-backend, GitHub, GitLab, Gitea) still
 * hand out a reachable commit when asked for it directly, shallowly; when one does not (it answers
 * without the object), fall back to fetching every branch and tag in full and looking for it there.
 */
async function fetchCommitById(
  opts: FetchCommitOptions,
  oid: string,
  fetch: (extra: Partial<Parameters<typeof git.fetch>[0]>) => Promise<git.FetchResult>,
): Promise<string> {
  try {
    await fetch({ ref: oid, depth: 1 });
  } catch (err) {
    // Auth and network failures will not improve with a bigger fetch; anything else might.
    if (!(err instanceof GitfuncError) || !['GIT_FETCH_FAILED', 'GIT_REF_NOT_FOUND'].includes(err.code)) throw err;
  }
  const direct = await peelToCommit(opts.gitdir, oid, opts.ref);
  if (direct) return direct;

  // Unshallow: earlier depth-1 fetches left shallow boundaries the old commit may sit behind.
  // `ref: oid` only keeps isomorphic-git from resolving a default ref (a remote without HEAD would fail).
  await fetch({ ref: oid, singleBranch: false, tags: true, depth: INFINITE_DEPTH });
  const found = await peelToCommit(opts.gitdir, oid, opts.ref);
  if (!found) throw refNotFound(opts.url, opts.ref);
  return found;
}

/** Follow annotated tags down to the commit; null when the object is not in the gitdir at all. */
export async function peelToCommit(gitdir: string, oid: string, ref: string): Promise<string | null> {
  // Tags of tags are legal; ten levels is far beyond anything real and stops a malicious cycle.
  for (let depth = 0; depth < 10; depth++) {
    let object: Awaited<ReturnType<typeof git.readObject>>;
    try {
      object = await git.readObject({ fs, gitdir, oid });
    } catch (err) {
      if (err instanceof git.Errors.NotFoundError) return null;
      throw err;
    }
    if (object.type === 'commit') return oid;
    if (object.type !== 'tag') break;
    oid = (object.object as TagObject).object;
  }
  throw new GitfuncError('GIT_REF_NOT_FOUND', `ref ${JSON.stringify(ref)} does not point to a commit`, { ref });
}

/** Create the bare gitdir on first use; start it over when it has accumulated too many packs. */
async function openGitdir(gitdir: string): Promise<void> {
  const packs = await readdir(join(gitdir, 'objects', 'pack')).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (packs.filter((name) => name.endsWith('.pack')).length > MAX_PACKS) {
    await rm(gitdir, { recursive: true, force: true });
  }
  await mkdir(gitdir, { recursive: true });
  await git.init({ fs, gitdir, bare: true });
  if ((await git.getConfig({ fs, gitdir, path: 'remote.origin.fetch' })) === undefined) {
    await git.setConfig({ fs, gitdir, path: 'remote.origin.fetch', value: FETCH_REFSPEC });
  }
}

/** onAuth answers the server's first 401 with the token; onAuthFailure cancels so a wrong token is not retried forever. */
function authCallbacks(token: string | undefined, username: string): { onAuth?: AuthCallback; onAuthFailure?: AuthFailureCallback } {
  if (!token) return {};
  return {
    onAuth: () => ({ username, password: token }),
    onAuthFailure: () => ({ cancel: true }),
  };
}
