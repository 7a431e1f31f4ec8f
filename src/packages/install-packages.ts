/**
 * Installs a revision's pinned packages (CONTRACT section 11): each pin resolved to a wheel,
 * the wheel checked against the sha256 its source states and the pin's `--hash`, cached in
 * `<packagesDir>/wheels/<sha256>.whl`, and the set unzipped into its own folder
 * `<packagesDir>/sites/<key>/`, where the key is a hash of the wheels' hashes: revisions that
 * pin the same wheels share one folder, a revision that pins others gets another, and a folder
 * never changes once made. It is made in a temporary folder renamed into place, so a crash
 * leaves no half-installed set.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GitfuncError, type Problem } from '../errors.js';
import type { PackagePin } from '../model/package-pin.js';
import { resolveWheel } from './resolve-wheel.js';
import { unpackWheel } from './unpack-wheel.js';
import { wheelSources } from './wheel-sources.js';
import { bundledPyodidePlatform } from './wheel-tags.js';

/** Where wheels come from and where they are kept (the server's settings). */
export interface PackageOptions {
  /** `<dataDir>/packages`: the wheel cache and the installed sets. */
  packagesDir: string;
  /** Folders of wheel files (GITFUNC_WHEELHOUSE). */
  wheelhouse: readonly string[];
  /** A PEP 503 simple index (GITFUNC_PACKAGE_INDEX); none when undefined. */
  index?: string;
  /** A local Pyodide distribution with its pyodide-lock.json (GITFUNC_PYODIDE_PACKAGES). */
  pyodidePackages?: string;
}

/** The options for a server's data dir and its `packages` settings ('' is none). */
export function packageOptions(dataDir: string, settings: { wheelhouse: readonly string[]; index: string; pyodidePackages: string }): PackageOptions {
  return {
    packagesDir: path.join(dataDir, 'packages'),
    wheelhouse: settings.wheelhouse,
    ...(settings.index !== '' ? { index: settings.index } : {}),
    ...(settings.pyodidePackages !== '' ? { pyodidePackages: settings.pyodidePackages } : {}),
  };
}

/** The installed set of a revision, or the problems at the pins that failed. */
export interface InstalledPackages {
  /** The folder holding the installed packages; undefined when nothing is pinned or a pin failed. */
  siteDir?: string;
  problems: Problem[];
}

/** Bump when the layout of an installed folder changes: old folders are then not reused. */
const SITE_LAYOUT = 'v1';
const SHA256 = /^[0-9a-f]{64}$/;
/** In each installed folder: the sha256 of its wheels, one a line (pruning keeps those wheels cached). */
export const SITE_WHEELS_FILE = '.gitfunc-wheels';

/** Resolves, checks, caches and installs `pins` of the revision in `revisionDir`. */
export async function installPackages(pins: readonly PackagePin[], revisionDir: string, options: PackageOptions): Promise<InstalledPackages> {
  if (pins.length === 0) return { problems: [] };
  const sources = wheelSources({ revisionDir, ...options });
  const platform = bundledPyodidePlatform();
  const wheelsDir = path.join(options.packagesDir, 'wheels');
  await mkdir(wheelsDir, { recursive: true });

  const problems: Problem[] = [];
  const wheels: { sha256: string; file: string; label: string }[] = [];
  // One pin at a time: an index is asked politely, and a build is not in a hurry.
  for (const pin of pins) {
    try {
      const chosen = await resolveWheel(pin, sources, platform);
      const sha256 = await cachedWheel(pin, chosen.file, chosen.source, wheelsDir);
      wheels.push({ sha256, file: path.join(wheelsDir, `${sha256}.whl`), label: `${chosen.file.fileName} (${pin.name}==${pin.version})` });
    } catch (error) {
      if (!(error instanceof GitfuncError) || !error.code.startsWith('PACKAGE_')) throw error;
      problems.push({ file: pin.file, line: pin.line, col: pin.col, severity: 'error', message: error.message });
    }
  }
  if (problems.length > 0) return { problems };

  const key = createHash('sha256')
    .update([SITE_LAYOUT, ...wheels.map((w) => w.sha256).sort()].join('\n'))
    .digest('hex')
    .slice(0, 32);
  const sitesDir = path.join(options.packagesDir, 'sites');
  const siteDir = path.join(sitesDir, key);
  if (await exists(siteDir)) return { siteDir, problems };
  await mkdir(sitesDir, { recursive: true });
  const tmp = await mkdtemp(path.join(sitesDir, '.tmp-'));
  try {
    for (const wheel of wheels) await unpackWheel(wheel.file, tmp, wheel.label);
    await writeFile(path.join(tmp, SITE_WHEELS_FILE), `${wheels.map((w) => w.sha256).join('\n')}\n`, { mode: 0o444 });
    await rename(tmp, siteDir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    // Another build installed the same set meanwhile: theirs is as good.
    if (await exists(siteDir)) return { siteDir, problems };
    if (error instanceof GitfuncError && error.code === 'PACKAGE_WHEEL_INVALID') {
      const pin = pins[wheels.findIndex((w) => error.message.startsWith(w.label))] ?? pins[0]!;
      return { problems: [{ file: pin.file, line: pin.line, col: pin.col, severity: 'error', message: error.message }] };
    }
    throw error;
  }
  return { siteDir, problems };
}

/**
 * The sha256 of the pin's wheel, now in the cache: read from the cache when the source states
 * a hash already cached, else read from the source, checked, and written (tmp + rename).
 */
async function cachedWheel(
  pin: PackagePin,
  file: { fileName: string; sha256?: string; read(): Promise<Buffer> },
  source: string,
  wheelsDir: string,
): Promise<string> {
  const pinText = `${pin.name}==${pin.version}`;
  const checkPinHash = (sha256: string): void => {
    if (pin.hashes.length > 0 && !pin.hashes.includes(sha256)) {
      throw new GitfuncError(
        'PACKAGE_HASH_MISMATCH',
        `${pinText}: ${file.fileName} from ${source} has sha256 ${sha256}, which matches no --hash of the pin: refused`,
        { package: pin.name, sha256 },
      );
    }
  };
  if (file.sha256 !== undefined && SHA256.test(file.sha256) && (await exists(path.join(wheelsDir, `${file.sha256}.whl`)))) {
    checkPinHash(file.sha256);
    return file.sha256;
  }
  const bytes = await file.read().catch((error: unknown) => {
    if (error instanceof GitfuncError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new GitfuncError('PACKAGE_SOURCE_FAILED', `${pinText}: ${file.fileName} from ${source} could not be read (${code ?? String(error)})`, {});
  });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (file.sha256 !== undefined && file.sha256 !== sha256) {
    throw new GitfuncError(
      'PACKAGE_HASH_MISMATCH',
      `${pinText}: ${file.fileName} from ${source} has sha256 ${sha256}, but the source lists ${file.sha256}: refused`,
      { package: pin.name, sha256, expected: file.sha256 },
    );
  }
  checkPinHash(sha256);
  const cached = path.join(wheelsDir, `${sha256}.whl`);
  if (!(await exists(cached))) {
    const tmp = path.join(wheelsDir, `.tmp-${process.pid}-${sha256}`);
    await writeFile(tmp, bytes);
    await rename(tmp, cached);
  }
  return sha256;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false; // any failure to see it: treated as absent, and made again
  }
}

