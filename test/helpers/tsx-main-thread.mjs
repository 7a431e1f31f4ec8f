// tsx for a test file's main thread only (the preload plain-node.mjs starts each test file with).
//
// A preload given as `--import` runs again in every worker thread the process starts, and
// tsx registers its module hooks there, on a hooks thread of each worker's own: measured ~90 ms
// more CPU per worker thread, and the suite starts hundreds (each Pyodide worker, import check
// and record thread of every server a test starts). gitfunc's thread entries load their
// TypeScript through tsx's API themselves (src/runtime/worker-entry.cjs,
// src/tasks/sqlite/record-thread-entry.mjs, src/runtime/snapshot/build-entry.cjs), as in dist/
// they load the compiled files: they never needed the inherited hooks.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) await import('tsx');
