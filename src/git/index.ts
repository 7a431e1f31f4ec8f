import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GitfuncError } from '../errors.js';
import { isBareRepository, readLocalGitRevision } from './local-git-source.js';
import { copyLocalRevision, localDirectoryOf } from './local-source.js';
import {
  resolveSourceOptions,
  revisionDirName,
  SOURCE_DEFAULTS,
  type FetchedRevision,
  type RepoSourceOptions,
  type ResolvedSourceOptions,
} from './options.js';
import { redactUrl, scrubSecrets, urlPassword } from './redact.js';
import { fetchRemoteRevision } from './remote-source.js';
import { isDirectory, removeStaleTmpDirs } from './revision-dir.js';
import { serialized } from './serialize.js';

export type { FetchedRevision, RepoSourceOptions } from './options.js';

/** Fetch `ref` of a git repository (or copy a local directory) into an immutable revision directory under `dataDir`. */
export async function fetchRevision(opts: RepoSourceOptions): Promise<FetchedRevision> {
  const resolved = resolveSourceOptions(opts);
  return serialized(resolve(resolved.dataDir), async () => {
    try {
      return await fetchSerialized(resolved);
    } catch (err) {
      throw asGitfuncError(err, resolved);
    }
  });
}

const COMMIT_ID = /^[0-9a-f]{40}$/i;

/**
 * The revision directory of one given commit of the source (a rollback): the one an earlier
 * fetch left under `dataDir` when it is still there, else fetched by its id from the git
 * repository. A local folder's commits (`local-...`) cannot be fetched again once pruned.
 */
export async function fetchGivenRevision(opts: RepoSourceOptions, commit: string): Promise<FetchedRevision> {
  const resolved = resolveSourceOptions(opts);
  const url = redactUrl(resolved.url);
  const revisionsDir = join(resolved.dataDir, 'revisions');
  // A git commit's folder is named by commit and path; a local folder's copy by its commit alone.
  for (const name of [revisionDirName(commit, resolved.path), commit]) {
    const dir = join(revisionsDir, name);
    if (await isDirectory(dir)) return { commit, dir, url, ref: resolved.ref, path: resolved.path };
  }
  if (!COMMIT_ID.test(commit)) {
    throw new GitfuncError('GIT_REF_NOT_FOUND', `commit ${commit} of a local folder is no longer kept in the data dir`, { url, ref: commit });
  }
  const fetched = await fetchRevision({ ...opts, ref: commit });
  if (fetched.commit !== commit.toLowerCase()) {
    throw new GitfuncError('GIT_REF_NOT_FOUND', `commit ${commit} could not be read from ${url}`, { url, ref: commit });
  }
  return fetched;
}

/** The body of fetchRevision, run while no other fetch uses the same data directory. */
async function fetchSerialized(opts: ResolvedSourceOptions): Promise<FetchedRevision> {
  const revisionsDir = join(opts.dataDir, 'revisions');
  await mkdir(revisionsDir, { recursive: true });
  await removeStaleTmpDirs(revisionsDir, SOURCE_DEFAULTS.staleTmpAgeMs);

  const url = redactUrl(opts.url);
  const localDir = await localDirectoryOf(opts.url);
  if (!localDir && !/^https?:\/\//i.test(opts.url)) {
    throw new GitfuncError('GIT_URL_UNSUPPORTED', `${url} is neither an http(s) git URL nor an existing local directory`, { url });
  }
  const { commit, dir } = !localDir
    ? await fetchRemoteRevision(opts, revisionsDir, SOURCE_DEFAULTS.idleTimeoutMs)
    : (await isBareRepository(localDir))
      ? await readLocalGitRevision(opts, localDir, revisionsDir)
      : await copyLocalRevision(localDir, opts.path, revisionsDir);
  return { commit, dir, url, ref: opts.ref, path: opts.path };
}

/** Callers switch on `code`: anything unexpected (a full disk, a corrupt pack) still arrives as a GitfuncError. */
function asGitfuncError(err: unknown, opts: ResolvedSourceOptions): GitfuncError {
  if (err instanceof GitfuncError) return err;
  const url = redactUrl(opts.url);
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'unknown';
  const message = scrubSecrets(err instanceof Error ? err.message : String(err), [opts.token, urlPassword(opts.url)]);
  return new GitfuncError('GIT_FETCH_FAILED', `fetching ${JSON.stringify(opts.ref)} from ${url} failed: ${message}`, {
    url,
    ref: opts.ref,
    cause: code,
  });
}
