/**
 * Finds the wheel of one pin: the sources are asked in order and the first that has a wheel
 * of that exact version that can run in Pyodide wins. What was found but cannot run (an
 * sdist, a manylinux wheel) and the versions a source does have go into the error.
 */
import { GitfuncError } from '../errors.js';
import { normalizedName, type PackagePin } from '../model/package-pin.js';
import { acceptedTags, parseWheelName, type PyodidePlatform, wheelFit } from './wheel-tags.js';
import type { SourceFile, WheelSource } from './wheel-sources.js';

/** The wheel chosen for a pin, not read yet. */
export interface ChosenWheel {
  file: SourceFile;
  /** The source's label. */
  source: string;
}

/** The wheel of `pin`, or a PACKAGE_NOT_FOUND / PACKAGE_INCOMPATIBLE / PACKAGE_SOURCE_FAILED error. */
export async function resolveWheel(pin: PackagePin, sources: readonly WheelSource[], platform: PyodidePlatform): Promise<ChosenWheel> {
  const name = normalizedName(pin.name);
  const wanted = canonicalVersion(pin.version);
  const unusable: string[] = [];
  const otherVersions = new Set<string>();
  for (const source of sources) {
    const files = await source.files(name);
    const matching = files.filter((file) => {
      const version = fileVersion(file.fileName);
      if (version === undefined) return false;
      if (canonicalVersion(version) === wanted) return true;
      otherVersions.add(version);
      return false;
    });
    let best: { file: SourceFile; fit: number } | undefined;
    for (const file of matching) {
      const wheel = parseWheelName(file.fileName);
      const fit = wheel === undefined ? 0 : wheelFit(wheel, platform);
      if (fit === 0) unusable.push(`${file.fileName} (${source.label})`);
      else if (best === undefined || fit > best.fit) best = { file, fit };
    }
    if (best !== undefined) return { file: best.file, source: source.label };
  }
  const pinText = `${pin.name}==${pin.version}`;
  if (unusable.length > 0) {
    throw new GitfuncError(
      'PACKAGE_INCOMPATIBLE',
      `${pinText}: found only ${unusable.join(', ')}, which cannot run in Pyodide; gitfunc needs ${acceptedTags(platform)}`,
      { package: pin.name, found: unusable },
    );
  }
  const looked = sources.map((s) => s.label).join(', ');
  const others = otherVersions.size > 0 ? `; versions found: ${[...otherVersions].slice(0, 10).join(', ')}` : '';
  throw new GitfuncError('PACKAGE_NOT_FOUND', `${pinText}: no wheel in any package source (looked in ${looked})${others}`, {
    package: pin.name,
  });
}

/** The version of a wheel's or sdist's file name; undefined for other files. */
function fileVersion(fileName: string): string | undefined {
  const wheel = parseWheelName(fileName);
  if (wheel !== undefined) return wheel.version;
  return /^.+-([^-]+)\.(?:tar\.gz|zip|tar\.bz2|tgz)$/.exec(fileName)?.[1];
}

/** A version as PEP 440 compares them, near enough for exact pins: `V1.0` is `1`, `2.0_rc1` is `2-rc1`. */
export function canonicalVersion(version: string): string {
  const lower = version.toLowerCase().replace(/^v/, '').replace(/_/g, '-');
  return lower.replace(/^(\d+(?:\.\d+)*)/, (release) => release.replace(/(?:\.0+)+$/, '').replace(/(^|\.)0+(\d)/g, '$1$2'));
}
