import path from 'node:path';
import { loadSettings } from './config/index.js';
import { formatProblem, GitfuncError } from './errors.js';
import { createLogger } from './log.js';
import { startPythonRuntime } from './runtime/python-runtime.js';
import type { RunningServer } from './server.js';

const USAGE = `Usage:
  gitfunc serve [--repo URL|DIR] [--ref REF] [--path SUBDIR] [--port N] [--host ADDR]
                [--data-dir DIR] [--workers N] [--env-allow A,B] [--log-level LEVEL] [--config FILE]
                [--poll-seconds N]
  gitfunc check DIR [--env-allow A,B]     validate a functions repository; exit 1 on errors

Settings also come from config/default.yaml and GITFUNC_* environment variables (see README).`;

async function serve(args: string[]): Promise<number> {
  const settings = loadSettings({ argv: args, env: process.env, cwd: process.cwd() });
  const logger = createLogger(settings.log.level);
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    logger.info({ signal }, 'stopping');
    if (server === undefined) {
      // Still loading: nothing is served yet, so there is nothing to drain.
      logger.flush();
      process.exit(0);
    }
    void server.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The workers restore their interpreters while the rest of the server's modules load
  // (~0.3 s of a start); the server owns them from then on.
  const runtime = startPythonRuntime(settings, logger);
  const { startServer } = await import('./server.js');
  server = await startServer(settings, { logger, runtime });
  // Serving ends only through a signal, which exits the process itself.
  return new Promise<number>(() => {});
}

async function check(args: string[]): Promise<number> {
  const dir = args[0];
  if (dir === undefined || dir.startsWith('-')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const settings = loadSettings({ argv: args.slice(1), env: process.env, cwd: process.cwd() });
  const [{ checkRepository }, { packageOptions }] = await Promise.all([import('./check/check-repository.js'), import('./packages/index.js')]);
  const problems = await checkRepository(dir, {
    envAllow: settings.envAllow,
    processEnv: process.env,
    syncTimeoutMaxSeconds: settings.limits.syncTimeoutMaxSeconds,
    importSeconds: settings.limits.importSeconds,
    snapshot: settings.snapshot,
    packages: packageOptions(settings.dataDir, settings.packages),
    logger: createLogger('warn', process.stderr),
  });
  for (const problem of problems) {
    process.stdout.write(`${formatProblem({ ...problem, file: path.join(dir, problem.file) })}\n`);
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  process.stdout.write(errors === 0 ? `ok: ${dir} is valid (${warnings} warning(s))\n` : `${errors} error(s), ${warnings} warning(s)\n`);
  return errors === 0 ? 0 : 1;
}

/** Entry point of the `gitfunc` command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(args);
      case 'check':
        return await check(args);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof GitfuncError) {
      process.stderr.write(`gitfunc: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
