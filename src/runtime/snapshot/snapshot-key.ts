import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../config/index.js';

const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url));
/** Pyodide keeps its build id in its loader's default config; a snapshot fits only that build. */
const BUILD_ID = /BUILD_ID:"([0-9a-f]{64})"/;
/** Bumped when what goes into a snapshot changes in a way the inputs below do not show. */
const SNAPSHOT_FORMAT = 1;

/** What a snapshot is valid for, hashed into its file name and trailer. */
export interface SnapshotKey {
  /** 64 hex digits. */
  key: string;
  buildId: string;
  fileName: string;
}

/**
 * The key of the interpreter snapshot: Pyodide's build id, gitfunc's version and the shim's
 * `.py` files, so an upgrade of either never restores an old interpreter.
 */
export function snapshotKey(): SnapshotKey {
  const buildId = pyodideBuildId();
  const version = (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const hash = createHash('sha256').update(JSON.stringify({ format: SNAPSHOT_FORMAT, buildId, version }));
  for (const file of readdirSync(PYTHON_DIR).filter((name) => name.endsWith('.py')).sort()) {
    hash.update(`\0${file}\0`).update(readFileSync(path.join(PYTHON_DIR, file)));
  }
  const key = hash.digest('hex');
  return { key, buildId, fileName: `interpreter-${key.slice(0, 24)}.snapshot` };
}

function pyodideBuildId(): string {
  const loader = createRequire(import.meta.url).resolve('pyodide');
  const match = BUILD_ID.exec(readFileSync(loader, 'utf8'));
  if (match === null) throw new Error(`no BUILD_ID found in ${loader} (a Pyodide version this gitfunc does not know)`);
  return match[1]!;
}
