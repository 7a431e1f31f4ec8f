/**
 * Installs a wheel the way pip lays it out (PEP 427): its files unzipped into the site folder,
 * `<name>-<version>.data/purelib|platlib/` moved to the top, the rest of `.data/` (scripts,
 * headers) left out: a function imports, it runs no console script.
 *
 * yauzl reads the zip: streaming (a large wheel is never whole in memory, inflate runs in
 * Node's zlib off the event loop), and it refuses absolute paths and `..` in entry names;
 * the target of every entry is checked again here before anything is written (zip-slip).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Entry, ZipFile } from 'yauzl';
import { GitfuncError, loadDriver } from '../errors.js';

/** Together a wheel's files may not unpack to more than this (a zip bomb stops here). */
const UNPACKED_MAX_BYTES = 2 * 1024 * 1024 * 1024;

/** Unzips the wheel at `wheelFile` into `siteDir`; `label` names the wheel in errors. */
export async function unpackWheel(wheelFile: string, siteDir: string, label: string): Promise<void> {
  const invalid = (reason: string): GitfuncError => new GitfuncError('PACKAGE_WHEEL_INVALID', `${label} cannot be installed: ${reason}`, {});
  // Imported at the first wheel to unpack: most revisions pin no package, and it cost every start's imports.
  const { default: yauzl } = await loadDriver('yauzl (unpacking wheels)', () => import('yauzl'));
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(wheelFile, { lazyEntries: true, strictFileNames: true });
  } catch (error) {
    throw invalid(`not a readable zip (${error instanceof Error ? error.message : String(error)})`);
  }
  const root = path.resolve(siteDir);
  let unpacked = 0;
  try {
    for (let entry = await nextEntry(zip); entry !== undefined; entry = await nextEntry(zip)) {
      if (entry.fileName.endsWith('/')) continue;
      const relative = installedPath(entry.fileName);
      if (relative === undefined) continue;
      const target = path.resolve(root, relative);
      if (!target.startsWith(`${root}${path.sep}`)) throw invalid(`'${entry.fileName}' points outside its folder`);
      unpacked += entry.uncompressedSize;
      if (unpacked > UNPACKED_MAX_BYTES) throw invalid(`it unpacks to more than ${UNPACKED_MAX_BYTES} bytes`);
      await mkdir(path.dirname(target), { recursive: true });
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target, { flags: 'wx', mode: 0o444 }));
    }
  } catch (error) {
    if (error instanceof GitfuncError) throw error;
    throw invalid(error instanceof Error ? error.message : String(error));
  } finally {
    zip.close();
  }
}

/** Where an entry goes, relative to the site folder; undefined for `.data/` parts that are not installed. */
function installedPath(fileName: string): string | undefined {
  const data = /^[^/]+\.data\/([^/]+)\/(.+)$/.exec(fileName);
  if (data === null) return fileName;
  return data[1] === 'purelib' || data[1] === 'platlib' ? data[2] : undefined;
}

/** The next entry of a lazily read zip, undefined at the end; yauzl's own errors (bad names) reject. */
function nextEntry(zip: ZipFile): Promise<Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: Entry): void => {
      cleanup();
      resolve(entry);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}
