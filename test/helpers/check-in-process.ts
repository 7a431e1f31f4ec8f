// `gitfunc check` run in the test's own process, as the CLI runs it, on the suite's shared
// interpreter snapshot.
import type { Logger } from 'pino';
import { checkRepository } from '../../src/check/check-repository.js';
import type { Problem } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { SHARED_SNAPSHOT_DIR } from './start-gitfunc.js';

/** The problems `gitfunc check` finds in `dir`; packages install into `packagesDir`. */
export function checkInProcess(dir: string, options: { packagesDir: string; envAllow?: string[]; logger?: Logger }): Promise<Problem[]> {
  return checkRepository(dir, {
    envAllow: options.envAllow ?? [],
    processEnv: {},
    syncTimeoutMaxSeconds: 180,
    importSeconds: 30,
    snapshot: { enabled: true, dir: SHARED_SNAPSHOT_DIR },
    packages: { packagesDir: options.packagesDir, wheelhouse: [] },
    logger: options.logger ?? createLogger('silent'),
  });
}
