import path from 'node:path';
import type { Problem } from '../errors.js';
import type { Logger } from '../log.js';
import { buildRevision } from '../revision/build-revision.js';
import { WorkerPool } from '../runtime/pool.js';

export interface CheckOptions {
  envAllow: readonly string[];
  processEnv: NodeJS.ProcessEnv;
  syncTimeoutMaxSeconds: number;
  importSeconds: number;
  logger: Logger;
}

/**
 * Validates a functions repository on disk as the server would load it (manifest, env,
 * every script imported in Pyodide, every named function), in check mode: unset secrets warn.
 */
export async function checkRepository(dir: string, options: CheckOptions): Promise<Problem[]> {
  const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 1000, maxQueue: 1 }, options.logger);
  try {
    const { problems } = await buildRevision('check', path.resolve(dir), {
      pool,
      envAllow: options.envAllow,
      processEnv: options.processEnv,
      mode: 'check',
      syncTimeoutMaxSeconds: options.syncTimeoutMaxSeconds,
      importSeconds: options.importSeconds,
      live: [],
    });
    return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  } finally {
    await pool.close();
  }
}
