/**
 * Which wheels can run in the bundled Pyodide: pure-Python wheels (`py3-none-any`) and wheels
 * built for its platform (`cp314-cp314-pyemscripten_2026_0_wasm32`), read from the file names.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { normalizedName } from '../model/package-pin.js';

/** A wheel's file name, read (PEP 427): `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`. */
export interface WheelName {
  /** Normalised (PEP 503). */
  name: string;
  version: string;
  /** Every tag triple the name stands for (`py2.py3-none-any` is two). */
  tags: string[];
}

/** The file name's parts, or undefined when it is not a wheel's name. */
export function parseWheelName(fileName: string): WheelName | undefined {
  if (!fileName.endsWith('.whl')) return undefined;
  const parts = fileName.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts as [string, string];
  const [python, abi, platform] = parts.slice(-3) as [string, string, string];
  const tags: string[] = [];
  for (const p of python.split('.')) for (const a of abi.split('.')) for (const pl of platform.split('.')) tags.push(`${p}-${a}-${pl}`);
  return { name: normalizedName(name), version, tags };
}

/** The bundled Pyodide's platform, as its `pyodide-lock.json` states it. */
export interface PyodidePlatform {
  /** `cp314`. */
  python: string;
  /** Platform tags its own wheels carry: `pyemscripten_2026_0_wasm32`, and the older `emscripten_5_0_3_wasm32`. */
  platforms: string[];
}

let bundled: PyodidePlatform | undefined;

/** The platform of the Pyodide gitfunc runs (read once from the npm package's pyodide-lock.json). */
export function bundledPyodidePlatform(): PyodidePlatform {
  if (bundled !== undefined) return bundled;
  const loader = createRequire(import.meta.url).resolve('pyodide');
  const lock = JSON.parse(readFileSync(path.join(path.dirname(loader), 'pyodide-lock.json'), 'utf8')) as {
    info: { abi_version?: string; arch: string; platform: string; python: string };
  };
  const [major, minor] = lock.info.python.split('.');
  const platforms = [`${lock.info.platform}_${lock.info.arch}`];
  if (lock.info.abi_version !== undefined) platforms.unshift(`pyemscripten_${lock.info.abi_version}_${lock.info.arch}`);
  bundled = { python: `cp${major}${minor}`, platforms };
  return bundled;
}

/** How well a wheel fits: 2 built for Pyodide's platform, 1 pure Python, 0 not at all. */
export function wheelFit(wheel: WheelName, platform: PyodidePlatform): 0 | 1 | 2 {
  let fit: 0 | 1 | 2 = 0;
  const minor = Number(platform.python.slice(3));
  for (const tag of wheel.tags) {
    const [python, abi, plat] = tag.split('-') as [string, string, string];
    if (plat === 'any' && abi === 'none' && pureTagFits(python, minor)) fit = Math.max(fit, 1) as 1 | 2;
    if (platform.platforms.includes(plat) && python === platform.python && (abi === platform.python || abi === 'abi3' || abi === 'none')) fit = 2;
  }
  return fit;
}

/** `py3`, `py2.py3` (split before), `py311` or `cp311` up to the bundled minor version. */
function pureTagFits(python: string, minor: number): boolean {
  if (python === 'py3') return true;
  const versioned = /^(?:py|cp)3(\d+)$/.exec(python);
  return versioned !== null && Number(versioned[1]) <= minor;
}

/** What the error names as the wheels that would work. */
export function acceptedTags(platform: PyodidePlatform): string {
  return `a pure-Python wheel (py3-none-any) or one built for the bundled Pyodide (${platform.python}-${platform.python}-${platform.platforms[0]})`;
}
