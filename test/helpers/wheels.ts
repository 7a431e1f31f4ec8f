/**
 * Real wheels for tests, and a PEP 503 simple index serving them on 127.0.0.1.
 *
 *   const wheels = await buildDebianWheels(['requests', 'urllib3', 'idna', 'certifi', 'charset-normalizer', 'six']);
 *   const index = await startPackageIndex(wheels);   // GITFUNC_PACKAGE_INDEX=index.url
 *   ... `packages: [requests==2.28.1, ...]` (pinsOf(wheels) gives the lines) ...
 *   await index.close();
 *
 * `buildDebianWheels` turns Debian's pure-Python packages (apt: python3-requests, -urllib3,
 * -idna, -certifi, -charset-normalizer, -six, -pymysql, -redis, -pg8000; .ci/run installs them)
 * into `py3-none-any` wheels: the package's files under /usr/lib/python3/dist-packages (found
 * with `dpkg -L python3-<name>`, __pycache__ and Debian's egg-info left out) plus
 * `<name>-<version>.dist-info/` with METADATA, WHEEL and RECORD. They are built once per
 * machine into ${TMPDIR:-/tmp}/gitfunc-test-wheels-v1/ and reused by every test file.
 * `buildWheel` makes a small wheel from given files (two versions of a package, another
 * platform's tag).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { zipFile } from './zip-file.js';

/** A wheel file on disk. */
export interface BuiltWheel {
  /** The project name as pinned, e.g. `charset-normalizer`. */
  name: string;
  version: string;
  /** Absolute path of the .whl file. */
  file: string;
  /** Its file name, e.g. `requests-2.28.1-py3-none-any.whl`. */
  fileName: string;
  sha256: string;
}

export const WHEEL_CACHE = path.join(os.tmpdir(), 'gitfunc-test-wheels-v1');
const DIST_PACKAGES = '/usr/lib/python3/dist-packages/';

/** `name==version` for each wheel, as the manifest's `packages` lists them. */
export function pinsOf(wheels: readonly BuiltWheel[]): string[] {
  return wheels.map((w) => `${w.name}==${w.version}`);
}

/** Wheels of Debian's python3-<name> packages (see the file comment); built once, then read from the cache. */
export function buildDebianWheels(names: readonly string[]): BuiltWheel[] {
  return names.map((name) => {
    const files = debianFiles(name);
    const version = debianVersion(name, files);
    const fileName = `${name.replace(/-/g, '_')}-${version}-py3-none-any.whl`;
    const file = path.join(WHEEL_CACHE, fileName);
    if (!existsSync(file)) {
      const entries: [string, Buffer][] = files
        .filter((f) => !f.includes('/__pycache__/') && !/\.(egg|dist)-info(\/|$)/.test(f))
        .map((f) => [f.slice(DIST_PACKAGES.length), readFileSync(f)]);
      writeAtomically(file, wheelBytes(name, version, entries, 'py3-none-any'));
    }
    return described(name, version, file);
  });
}

/** A wheel of `files` (path in the wheel -> content), written into `dir`; `tag` defaults to py3-none-any. */
export function buildWheel(
  dir: string,
  name: string,
  version: string,
  files: Record<string, string>,
  tag = 'py3-none-any',
): BuiltWheel {
  const file = path.join(dir, `${name.replace(/-/g, '_')}-${version}-${tag}.whl`);
  mkdirSync(dir, { recursive: true });
  const entries = Object.entries(files).map(([f, content]): [string, Buffer] => [f, Buffer.from(content)]);
  writeFileSync(file, wheelBytes(name, version, entries, tag));
  return described(name, version, file);
}

function described(name: string, version: string, file: string): BuiltWheel {
  const bytes = readFileSync(file);
  return { name, version, file, fileName: path.basename(file), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The files python3-<name> installs under dist-packages (symlinks read through: Debian's certifi links its CA file). */
function debianFiles(name: string): string[] {
  const listed = execFileSync('dpkg', ['-L', `python3-${name}`], { encoding: 'utf8' }).split('\n');
  return listed.filter((f) => f.startsWith(DIST_PACKAGES) && existsSync(f) && statSync(f).isFile());
}

/** The upstream version: from Debian's egg-info/dist-info folder name, else dpkg's version without its Debian parts. */
function debianVersion(name: string, files: string[]): string {
  for (const f of files) {
    const info = /\/[^/]+-([^-/]+)\.(?:egg|dist)-info\//.exec(f) ?? /\/[^/]+-([^-/]+)\.egg-info$/.exec(f);
    if (info !== null) return info[1]!;
  }
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', `python3-${name}`], { encoding: 'utf8' });
  return version.replace(/^\d+:/, '').replace(/[+~-].*$/, '');
}

function wheelBytes(name: string, version: string, entries: [string, Buffer][], tag: string): Buffer {
  const distInfo = `${name.replace(/-/g, '_')}-${version}.dist-info`;
  const metadata = `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
  const wheel = `Wheel-Version: 1.0\nGenerator: gitfunc-tests\nRoot-Is-Purelib: ${tag.endsWith('-any') ? 'true' : 'false'}\nTag: ${tag}\n`;
  const all: [string, Buffer][] = [...entries, [`${distInfo}/METADATA`, Buffer.from(metadata)], [`${distInfo}/WHEEL`, Buffer.from(wheel)]];
  const record = all.map(([f, data]) => `${f},sha256=${createHash('sha256').update(data).digest('base64url')},${data.length}`);
  record.push(`${distInfo}/RECORD,,`);
  all.push([`${distInfo}/RECORD`, Buffer.from(`${record.join('\n')}\n`)]);
  return zipFile(all);
}

function writeAtomically(file: string, bytes: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file); // test files build in parallel: each rename puts the same bytes in place
}

/** A running PEP 503 simple index. */
export interface PackageIndex {
  /** `http://127.0.0.1:<port>/simple/`: the value of GITFUNC_PACKAGE_INDEX. */
  url: string;
  /** Paths requested so far (`/simple/requests/`, `/files/requests-2.28.1-py3-none-any.whl`). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `wheels` as a PEP 503 simple index on 127.0.0.1: `/simple/<normalised name>/` lists
 * each project's files with `#sha256=` links, `/files/<file name>` serves them. `listedSha256`
 * overrides the hash a link states (by file name), to test a mismatch.
 */
export async function startPackageIndex(
  wheels: readonly Pick<BuiltWheel, 'name' | 'file' | 'fileName' | 'sha256'>[],
  options: { listedSha256?: Record<string, string> } = {},
): Promise<PackageIndex> {
  const requests: string[] = [];
  const byProject = new Map<string, typeof wheels>();
  for (const wheel of wheels) {
    const project = wheel.name.toLowerCase().replace(/[-_.]+/g, '-');
    byProject.set(project, [...(byProject.get(project) ?? []), wheel]);
  }
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const page = /^\/simple\/([^/]+)\/$/.exec(url);
    if (page !== null) {
      const files = byProject.get(decodeURIComponent(page[1]!));
      if (files === undefined) return void res.writeHead(404).end('not found');
      const links = files.map((w) => {
        const sha256 = options.listedSha256?.[w.fileName] ?? w.sha256;
        return `<a href="../../files/${encodeURIComponent(w.fileName)}#sha256=${sha256}">${w.fileName}</a><br/>`;
      });
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(`<!DOCTYPE html><html><body>\n${links.join('\n')}\n</body></html>\n`);
    }
    const download = /^\/files\/([^/]+)$/.exec(url);
    const wheel = download === null ? undefined : wheels.find((w) => w.fileName === decodeURIComponent(download[1]!));
    if (wheel === undefined) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(readFileSync(wheel.file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
