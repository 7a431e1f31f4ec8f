/**
 * The pins of a revision: those the manifest lists, or those of the requirements file it names
 * (`packages: requirements.txt`), each remembering the file and line it was written at.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../errors.js';
import { normalizedName, type PackagePin } from '../model/package-pin.js';
import { parsePin, requirementLines } from './package-pins.js';
import { MANIFEST_FILE, type Manifest } from './types.js';

/** The revision's pins and the problems of reading them (a bad pin, a missing file). */
export async function loadPackagePins(manifest: Manifest, revisionDir: string): Promise<{ pins: PackagePin[]; problems: Problem[] }> {
  const spec = manifest.packages;
  if (spec.kind === 'pins') return { pins: spec.pins, problems: [] };
  const atManifest = (message: string): { pins: PackagePin[]; problems: Problem[] } => ({
    pins: [],
    problems: [{ file: MANIFEST_FILE, ...spec.position, severity: 'error', message }],
  });
  const relative = path.posix.normalize(spec.path.replace(/\\/g, '/'));
  if (path.posix.isAbsolute(relative) || relative === '..' || relative.startsWith('../')) {
    return atManifest(`packages: '${spec.path}' must be a file inside the repository (a relative path such as requirements.txt)`);
  }
  const file = path.join(revisionDir, relative);
  let source: string;
  try {
    // stat, not lstat: a symlink inside the repository is fine (git/ refuses those pointing outside).
    if (!(await stat(file)).isFile()) return atManifest(`packages: '${spec.path}' is not a file`);
    source = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return atManifest(
      code === 'ENOENT' ? `packages: requirements file '${spec.path}' not found in the repository` : `packages: '${spec.path}' cannot be read (${code ?? String(err)})`,
    );
  }
  return parseRequirementsFile(source, relative);
}

/** The pins of requirements file text; `file` names it in problems. */
export function parseRequirementsFile(source: string, file: string): { pins: PackagePin[]; problems: Problem[] } {
  const pins: PackagePin[] = [];
  const problems: Problem[] = [];
  const { requirements, options } = requirementLines(source);
  for (const option of options) {
    const { text, line, col } = option;
    problems.push(
      option.ignored
        ? { file, line, col, severity: 'warning', message: `'${text}' is ignored: gitfunc takes wheels only from its own sources (the repository's wheels/, the server's wheelhouse, index and Pyodide packages)` }
        : { file, line, col, severity: 'error', message: `'${text}' is not supported: list every pin in this file (name==version)` },
    );
  }
  const seen = new Map<string, number>();
  for (const { text, line, col } of requirements) {
    const pin = parsePin(text);
    if ('error' in pin) {
      problems.push({ file, line, col, severity: 'error', message: pin.error });
      continue;
    }
    const key = normalizedName(pin.name);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ file, line, col, severity: 'error', message: `'${pin.name}' is pinned twice (first at line ${first})` });
      continue;
    }
    seen.set(key, line);
    pins.push({ ...pin, file, line, col });
  }
  return { pins, problems };
}
