import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { redactUrl } from '../config/index.js';
import { isDirectory } from '../git/revision-dir.js';

/** What the last good commit was fetched from: a record of another source is never served. */
export interface LastGoodSource {
  url: string;
  ref: string;
  path: string;
}

/** The last commit that built and was served, as remembered in the data dir. */
export interface LastGood extends LastGoodSource {
  commit: string;
  /** Name of its directory under `<dataDir>/revisions`. */
  dirName: string;
  /** Epoch ms when it was first served. */
  servedAt: number;
}

const FILE = 'last-good.json';

function sameSource(record: LastGoodSource, source: LastGoodSource): boolean {
  return record.url === redactUrl(source.url) && record.ref === source.ref && record.path === source.path;
}

/**
 * The last good commit of `source` with its directory, if one was recorded and its directory
 * is still there; undefined otherwise (a missing or unreadable record is not an error: the
 * server then fetches as on a first start).
 */
export async function readLastGood(dataDir: string, source: LastGoodSource): Promise<(LastGood & { dir: string }) | undefined> {
  let record: LastGood;
  try {
    record = JSON.parse(await readFile(join(dataDir, FILE), 'utf8')) as LastGood;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof record.commit !== 'string' || typeof record.dirName !== 'string' || !sameSource(record, source)) return undefined;
  // Only a plain name: the record must never point outside the revisions folder.
  if (basename(record.dirName) !== record.dirName) return undefined;
  const dir = join(dataDir, 'revisions', record.dirName);
  return (await isDirectory(dir)) ? { ...record, dir } : undefined;
}

/** Records `commit` as the last good one; written whole (temp file + rename), so a crash keeps the previous record. */
export async function writeLastGood(dataDir: string, source: LastGoodSource, commit: string, dir: string): Promise<LastGood> {
  const record: LastGood = { url: redactUrl(source.url), ref: source.ref, path: source.path, commit, dirName: basename(dir), servedAt: Date.now() };
  const tmp = join(dataDir, `${FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, join(dataDir, FILE));
  return record;
}
