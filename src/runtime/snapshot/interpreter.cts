/**
 * Starts a worker's Pyodide interpreter with the gitfunc shim importable: restored from the
 * interpreter snapshot when there is a usable one, loaded the normal way otherwise. The one
 * place that touches Pyodide's private snapshot API (`_loadSnapshot`, `_makeSnapshot`).
 */
import fs = require('node:fs');
import path = require('node:path');
import { loadPyodide } from 'pyodide';
import type { PyodideInterface } from 'pyodide';
import type { PyCallable, PyProxy } from 'pyodide/ffi';
import { SANDBOX_JS_GLOBALS } from '../sandbox.cjs';
import { letPyodideStartUnderPermissionModel } from './permission-model.cjs';
import { type CreatePyodideModule, importPyodideModule } from './pyodide-module.cjs';
import { openSnapshot, SnapshotUnusableError } from './snapshot-format.cjs';
import { endTurn, type StartTurn, waitForTurn } from './start-turns.cjs';
import { copyPages, type PagedBytes, pagedView, readFilePages, type SharedPagedMemory } from './zero-pages.cjs';

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
   * The file's bytes and page map, read and verified once by the server thread when the file
   * was there at start (reading 31 MB into fresh memory costs ~0.13 s per thread on a VM);
   * else absent, and each worker reads the file.
   */
  shared?: SharedPagedMemory;
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
  const pyodide = await loadPyodide({ ...QUIET, createPyodideModule });
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
 * snapshot, importing Pyodide's own code meanwhile. `waitedMs`: how long the wait outlasted it.
 */
async function snapshotReady(source: SnapshotSource): Promise<{ state: number; waitedMs: number }> {
  const cell = new Int32Array(source.state);
  const [importedAt, settledAt] = await Promise.all([
    importPyodideModule().then(() => Date.now()),
    Promise.resolve(Atomics.waitAsync(cell, 0, SNAPSHOT_BUILDING).value).then(() => Date.now()),
  ]);
  return { state: Atomics.load(cell, 0), waitedMs: Math.max(0, settledAt - importedAt) };
}

const createPyodideModule: CreatePyodideModule = async (settings) => (await importPyodideModule())(settings);

async function restore(source: SnapshotSource): Promise<PyodideInterface> {
  // The server thread checked the whole file's checksum once; the key and build id are rechecked
  // here in case the file was replaced since.
  const file = source.shared === undefined ? readFilePages(source.file) : pagedView(source.shared);
  if (file === undefined) throw new SnapshotUnusableError('snapshot file replaced while read');
  const snapshot = openSnapshot(file, source, false);
  const pyodide = await loadPyodide({ ...QUIET, _loadSnapshot: snapshot, createPyodideModule: restoringPageByPage(file) });
  // The modules are in the restored memory, their files are not (the file system lives in JS):
  // tracebacks and lazy imports need them.
  writeShimFiles(pyodide);
  const warm = pyodide.pyimport('gitfunc_warm') as PyProxy & Record<string, PyCallable>;
  warm.after_restore();
  warm.destroy();
  return pyodide;
}

/** What restoringPageByPage touches of Pyodide's Emscripten module (private, as of 314.0). */
interface PyodideModuleInternals {
  API: { restoreSnapshot(snapshot: Uint8Array): unknown };
  HEAP8: Int8Array;
  _sbrk(increment: number): number;
  _emscripten_stack_get_base(): number;
  _emscripten_stack_get_end(): number;
}

/**
 * Pyodide's module factory, made to copy the snapshot into the new WASM heap without writing
 * (or reading) its zero pages where the heap needs none (see zero-pages.cts): past the break,
 * where nothing was allocated yet and the heap reads as zeros, and in the data stack, where
 * nothing is live between calls (what start-up left there is dead). Pyodide copies the heap
 * with one `HEAP8.set(image)` inside `API.restoreSnapshot`, so that one call on that one array
 * copies page by page.
 */
export function restoringPageByPage(file: PagedBytes): CreatePyodideModule {
  return async (settings) => {
    const module = await createPyodideModule(settings);
    const internals = module as unknown as PyodideModuleInternals;
    const restoreSnapshot = internals.API.restoreSnapshot.bind(internals.API);
    internals.API.restoreSnapshot = (snapshot) => {
      const heap = internals.HEAP8;
      const brk = internals._sbrk(0);
      const [stackLow, stackHigh] = [internals._emscripten_stack_get_end(), internals._emscripten_stack_get_base()];
      const canSkip = (start: number, end: number): boolean => start >= brk || (start >= stackLow && end <= stackHigh);
      const heapBytes = new Uint8Array(heap.buffer, heap.byteOffset, heap.length);
      const copyImage = (image: Uint8Array, at = 0): void => {
        if (image.buffer !== file.bytes.buffer) Int8Array.prototype.set.call(heap, image, at);
        else copyPages(file, image.byteOffset - file.bytes.byteOffset, image.length, heapBytes, at, canSkip);
      };
      Object.defineProperty(heap, 'set', { configurable: true, value: copyImage });
      try {
        return restoreSnapshot(snapshot);
      } finally {
        delete (heap as { set?: unknown }).set;
      }
    };
    return module;
  };
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
