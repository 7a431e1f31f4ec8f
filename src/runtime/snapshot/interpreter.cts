/**
 * Starts a worker's Pyodide interpreter with the gitfunc shim importable: restored from the
 * interpreter snapshot when there is a usable one, loaded the normal way otherwise. The one
 * place that touches Pyodide's private snapshot API (`_loadSnapshot`, `_makeSnapshot`).
 */
import fs = require('node:fs');
import path = require('node:path');
import { pathToFileURL } from 'node:url';
import { loadPyodide } from 'pyodide';
import type { PyodideInterface } from 'pyodide';
import type { PyCallable, PyProxy } from 'pyodide/ffi';
import { SANDBOX_JS_GLOBALS } from '../sandbox.cjs';
import { letPyodideStartUnderPermissionModel } from './permission-model.cjs';
import { openSnapshot } from './snapshot-format.cjs';
import { endTurn, type StartTurn, waitForTurn } from './start-turns.cjs';

const PYTHON_DIR = path.join(__dirname, '..', 'python');
const PYTHON_HOME = '/home/pyodide/gitfunc';
/**
 * Options of every interpreter, built or restored alike. Print output of scripts is captured by
 * the shim; Pyodide's own streams are dropped. No host globals behind the `js` module (sandbox.cts).
 */
const QUIET = { jsglobals: SANDBOX_JS_GLOBALS, stdout: (): void => {}, stderr: (): void => {} };

/** Values of SnapshotSource.state[0]. */
export const SNAPSHOT_BUILDING = 0;
export const SNAPSHOT_READY = 1;
export const SNAPSHOT_UNUSABLE = 2;

/** Where workers find the snapshot; crosses into worker threads as workerData. */
export interface SnapshotSource {
  file: string;
  key: string;
  buildId: string;
  /** One Int32: SNAPSHOT_BUILDING until the server thread has a verified file (or gave up). */
  state: SharedArrayBuffer;
  /**
   * The file's bytes, read and verified once by the server thread when the file was there at
   * start (reading 31 MB into fresh memory costs ~0.13 s per thread on a VM); else absent, and
   * each worker reads the file.
   */
  bytes?: SharedArrayBuffer;
}

/** How a worker's interpreter started, reported to the server thread for its log. */
export interface InterpreterStart {
  from: 'snapshot' | 'load';
  /** Time to start, not counting a wait for the snapshot to be built. */
  ms: number;
  /** Set when a snapshot was there but restoring it failed. */
  fallback?: string;
}

/**
 * Restores the snapshot when it is (or becomes) ready and sound; loads Pyodide normally
 * otherwise. With a `turn`, the start waits for it (see start-turns.cts) and ends it.
 */
export async function startInterpreter(source: SnapshotSource | undefined, turn?: StartTurn): Promise<{ pyodide: PyodideInterface; start: InterpreterStart }> {
  letPyodideStartUnderPermissionModel();
  const { state, waitedMs } = source === undefined ? { state: SNAPSHOT_UNUSABLE, waitedMs: 0 } : await snapshotReady(source);
  // An earlier worker's start is not this start's time (nor is a snapshot being built).
  await waitForTurn(turn);
  const startedAt = Date.now() - waitedMs;
  try {
    return await restoreOrLoad(source, state, startedAt);
  } finally {
    endTurn(turn);
  }
}

async function restoreOrLoad(source: SnapshotSource | undefined, state: number, startedAt: number): Promise<{ pyodide: PyodideInterface; start: InterpreterStart }> {
  let fallback: string | undefined;
  if (source !== undefined && state === SNAPSHOT_READY) {
    try {
      const pyodide = await restore(source);
      return { pyodide, start: { from: 'snapshot', ms: Date.now() - startedAt } };
    } catch (error) {
      fallback = error instanceof Error ? error.message : String(error);
    }
  }
  const pyodide = await loadPyodide(QUIET);
  installShim(pyodide);
  return { pyodide, start: { from: 'load', ms: Date.now() - startedAt, ...(fallback === undefined ? {} : { fallback }) } };
}

/** A fresh interpreter with the shim and common stdlib imported, as snapshot bytes (to be sealed). */
export async function makeInterpreterSnapshot(): Promise<{ snapshot: Uint8Array; buildId: string }> {
  letPyodideStartUnderPermissionModel();
  const pyodide = await loadPyodide({ ...QUIET, _makeSnapshot: true });
  installShim(pyodide);
  const warm = pyodide.pyimport('gitfunc_warm') as PyProxy & Record<string, PyCallable>;
  warm.before_snapshot();
  warm.destroy();
  // `_api` is private too: its config holds the build id a snapshot is only valid for.
  const buildId = (pyodide as unknown as { _api: { config: { BUILD_ID: string } } })._api.config.BUILD_ID;
  return { snapshot: pyodide.makeMemorySnapshot(), buildId };
}

/**
 * Waits (without blocking the thread) while the server thread still verifies or builds the
 * snapshot, compiling Pyodide's own code meanwhile. `waitedMs`: how long the wait outlasted it.
 */
async function snapshotReady(source: SnapshotSource): Promise<{ state: number; waitedMs: number }> {
  const cell = new Int32Array(source.state);
  const [preloadedAt, settledAt] = await Promise.all([
    preloadPyodideCode().then(() => Date.now()),
    Promise.resolve(Atomics.waitAsync(cell, 0, SNAPSHOT_BUILDING).value).then(() => Date.now()),
  ]);
  return { state: Atomics.load(cell, 0), waitedMs: Math.max(0, settledAt - preloadedAt) };
}

/**
 * Imports pyodide.asm.mjs (1.2 MB of JS, ~0.17 s to compile), as loadPyodide does next: it
 * imports it by the same URL, which Node then answers from its module cache. Only a head
 * start: where it fails, loadPyodide imports the file itself. (It fails when the sources run
 * through tsx's CommonJS API, as in tests: tsx adds a `?namespace=` query to this URL, which
 * only its ESM hooks resolve, and those are not registered in a worker.)
 */
async function preloadPyodideCode(): Promise<void> {
  try {
    await import(pathToFileURL(require.resolve('pyodide/pyodide.asm.mjs')).href);
  } catch {
    // See above: nothing is lost but the head start.
  }
}

async function restore(source: SnapshotSource): Promise<PyodideInterface> {
  // The server thread checked the whole file's checksum once; the key and build id are rechecked
  // here in case the file was replaced since.
  const file = source.bytes === undefined ? fs.readFileSync(source.file) : new Uint8Array(source.bytes);
  const snapshot = openSnapshot(file, source, false);
  const pyodide = await loadPyodide({ ...QUIET, _loadSnapshot: snapshot });
  // The modules are in the restored memory, their files are not (the file system lives in JS):
  // tracebacks and lazy imports need them.
  writeShimFiles(pyodide);
  const warm = pyodide.pyimport('gitfunc_warm') as PyProxy & Record<string, PyCallable>;
  warm.after_restore();
  warm.destroy();
  return pyodide;
}

function installShim(pyodide: PyodideInterface): void {
  writeShimFiles(pyodide);
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(PYTHON_HOME)})`);
}

function writeShimFiles(pyodide: PyodideInterface): void {
  pyodide.FS.mkdirTree(PYTHON_HOME);
  for (const file of fs.readdirSync(PYTHON_DIR)) {
    if (file.endsWith('.py')) pyodide.FS.writeFile(`${PYTHON_HOME}/${file}`, fs.readFileSync(path.join(PYTHON_DIR, file)));
  }
}
