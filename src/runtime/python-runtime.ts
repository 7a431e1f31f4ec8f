import type { Logger } from 'pino';
import type { Settings } from '../config/index.js';
import { CA_BUNDLE_PATH, type CaBundle, hostCaBundle } from './ca-bundle.js';
import { ImportChecker } from './import-checker.js';
import { WorkerPool } from './pool.js';
import { InterpreterSnapshot } from './snapshot/snapshot-cache.js';

/** A server's Python side: the interpreter snapshot, the serving workers and the import checker. */
export interface PythonRuntime {
  snapshot: InterpreterSnapshot;
  pool: WorkerPool;
  /** Scripts of a new commit are first imported here, apart from the workers serving calls. */
  inspector: ImportChecker;
  /** What scripts' TLS trusts by default; workers see it as a file. */
  caBundle: CaBundle;
  /** Stops every worker thread (and a snapshot build still running). */
  close(): Promise<void>;
}

/**
 * Starts the workers at once: they restore their interpreters (the longest part of a start)
 * while the caller goes on loading the rest of the server. Only the workers wait for the
 * snapshot (see InterpreterSnapshot.prepare).
 */
export function startPythonRuntime(settings: Settings, logger: Logger): PythonRuntime {
  const caBundle = hostCaBundle(settings.network.caFile);
  const snapshot = new InterpreterSnapshot(settings.snapshot, logger);
  const pool = new WorkerPool(
    {
      workers: settings.workers,
      timeoutGraceMs: settings.callTimeoutGraceMs,
      maxQueue: settings.workers * settings.limits.syncQueuePerWorker,
      snapshot: snapshot.source,
      workerMaxCalls: settings.limits.workerMaxCalls,
      workerHeapMB: settings.limits.workerHeapMB,
      caBundle: { path: CA_BUNDLE_PATH, pem: caBundle.pem },
    },
    logger,
  );
  snapshot.prepare();
  const inspector = new ImportChecker({ timeoutGraceMs: settings.callTimeoutGraceMs, snapshot: snapshot.source, firstCheckOn: pool }, logger);
  return {
    snapshot,
    pool,
    inspector,
    caBundle,
    close: async () => {
      await Promise.all([pool.close(), inspector.close(), snapshot.close()]);
    },
  };
}
