/**
 * Where wheels are looked for, in order (CONTRACT section 11): the repository's `wheels/`, the
 * server's wheelhouse folders, the PEP 503 index, the local Pyodide distribution. Each source
 * lists the files it has of one project; the resolver picks among them.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GitfuncError } from '../errors.js';
import { normalizedName } from '../model/package-pin.js';
import { httpGet } from './http-get.js';
import { INDEX_IDLE_MS, indexFiles, redactedUrl } from './simple-index.js';

/** A file of the project a source has. */
export interface SourceFile {
  fileName: string;
  /** The sha256 the source states (index link, Pyodide's lock file), checked once read. */
  sha256?: string;
  read(): Promise<Buffer>;
}

/** One place wheels come from. */
export interface WheelSource {
  /** How messages name it: `wheels/ in the repository`, `the package index http://...`. */
  label: string;
  /** Every file the source has of the project (any version, wheels and sdists). */
  files(normalizedName: string): Promise<SourceFile[]>;
}

/** Wheels are capped: anything larger is not a package a function should load. */
const WHEEL_MAX_BYTES = 512 * 1024 * 1024;

/** The sources of one build, in the order they are asked. */
export function wheelSources(options: {
  revisionDir: string;
  wheelhouse: readonly string[];
  index?: string;
  pyodidePackages?: string;
}): WheelSource[] {
  const sources = [folderSource(path.join(options.revisionDir, 'wheels'), 'wheels/ in the repository')];
  for (const folder of options.wheelhouse) sources.push(folderSource(folder, `the wheelhouse ${folder}`));
  if (options.index !== undefined) sources.push(indexSource(options.index));
  if (options.pyodidePackages !== undefined) sources.push(pyodideSource(options.pyodidePackages));
  return sources;
}

/** A folder of wheel files (the repository's `wheels/`, a wheelhouse); a missing folder has none. */
function folderSource(folder: string, label: string): WheelSource {
  let listing: Promise<string[]> | undefined;
  return {
    label,
    async files(name) {
      listing ??= readdir(folder).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw new GitfuncError('PACKAGE_SOURCE_FAILED', `${label} could not be read: ${err.code ?? String(err)}`, {});
      });
      return (await listing)
        .filter((fileName) => projectOf(fileName) === name)
        .map((fileName) => ({ fileName, read: () => readFile(path.join(folder, fileName)) }));
    },
  };
}

function indexSource(index: string): WheelSource {
  return {
    label: `the package index ${redactedUrl(index)}`,
    async files(name) {
      return (await indexFiles(index, name)).map((file) => ({
        fileName: file.fileName,
        ...(file.sha256 !== undefined ? { sha256: file.sha256 } : {}),
        read: async () => {
          const got = await httpGet(file.url, { maxBytes: WHEEL_MAX_BYTES, idleMs: INDEX_IDLE_MS });
          if (got === undefined) throw new GitfuncError('PACKAGE_SOURCE_FAILED', `${redactedUrl(file.url)} could not be read: HTTP 404`, {});
          return got.body;
        },
      }));
    },
  };
}

interface PyodideLock {
  packages: Record<string, { name: string; file_name: string; sha256: string }>;
}

/** A local copy of the Pyodide distribution: `pyodide-lock.json` names each package's file and sha256. */
function pyodideSource(folder: string): WheelSource {
  const label = `the Pyodide packages ${folder}`;
  let lock: Promise<PyodideLock> | undefined;
  return {
    label,
    async files(name) {
      lock ??= readFile(path.join(folder, 'pyodide-lock.json'), 'utf8').then(
        (text) => JSON.parse(text) as PyodideLock,
        (err: NodeJS.ErrnoException) => {
          throw new GitfuncError('PACKAGE_SOURCE_FAILED', `${label}: pyodide-lock.json could not be read (${err.code ?? String(err)})`, {});
        },
      );
      return Object.values((await lock).packages)
        .filter((entry) => normalizedName(entry.name) === name)
        .map((entry) => ({ fileName: entry.file_name, sha256: entry.sha256.toLowerCase(), read: () => readFile(path.join(folder, entry.file_name)) }));
    },
  };
}

/** The normalised project name a wheel's or sdist's file name starts with; undefined for other files. */
export function projectOf(fileName: string): string | undefined {
  if (fileName.endsWith('.whl')) return normalizedName(fileName.split('-', 1)[0]!);
  const sdist = /^(.+)-[^-]+\.(?:tar\.gz|zip|tar\.bz2|tgz)$/.exec(fileName);
  return sdist === null ? undefined : normalizedName(sdist[1]!);
}
