// The suite's interpreter snapshot for a WorkerPool a test starts itself, as startGitfunc's
// servers use it: each worker restores it (~0.5 s) instead of loading Pyodide (3-6 s).
import { createLogger } from '../../src/log.js';
import { InterpreterSnapshot } from '../../src/runtime/snapshot/snapshot-cache.js';
import { SHARED_SNAPSHOT_DIR } from './start-gitfunc.js';

/**
 * The snapshot in SHARED_SNAPSHOT_DIR (built there first when missing), stopped at the end of
 * `t`. Pass `source` to the pool, then call `prepare()` once the pool is created.
 */
export function sharedSnapshot(t: { teardown(fn: () => unknown): void }): InterpreterSnapshot {
  const snapshot = new InterpreterSnapshot({ enabled: true, dir: SHARED_SNAPSHOT_DIR }, createLogger('silent'));
  t.teardown(() => snapshot.close());
  return snapshot;
}
