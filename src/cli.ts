import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatSettingsHelp, loadSettings, packageRoot } from './config/index.js';
import { formatProblem, GitfuncError } from './errors.js';
import { createLogger } from './log.js';
import { RELOAD_USAGE, reloadCommand, STATUS_USAGE, statusCommand, TASKS_USAGE, tasksCommand } from './client/admin-commands.js';
import { CALL_USAGE, callCommand } from './client/call-command.js';
import { processOutput } from './client/output.js';
import { RUN_CRON_USAGE, runCronCommand } from './client/cron-command.js';
import { readTarget } from './client/server-client.js';
import { startPythonRuntime } from './runtime/python-runtime.js';
import type { RunningServer } from './server.js';

const USAGE = `Usage:
  gitfunc serve [FLAGS]          serve the functions repository over HTTP
  gitfunc check DIR [FLAGS]      validate a functions repository; exit 1 on errors
  gitfunc call API [k=v ...]     call an API of a running server (--url, --token)
  gitfunc status                 what a running server serves
  gitfunc reload                 make a running server fetch and serve its ref
  gitfunc tasks [ID | --follow]  recent task records, one with its output, or new ones as they end
  gitfunc run-cron ID [--wait]   run a cron job of a running server now
  gitfunc --version              print gitfunc's version
  gitfunc COMMAND --help         the flags of a command, their defaults and variables`;

const COMMAND_USAGE: Readonly<Record<string, string>> = Object.freeze({
  serve: 'Usage: gitfunc serve [FLAGS]\n\nServes the functions repository (repo.url) over HTTP.',
  check: 'Usage: gitfunc check DIR [FLAGS]\n\nValidates the functions repository in DIR as `serve` would load it; exits 1 on errors.',
});

/** `--help` (or `-h`) anywhere among a command's arguments. */
function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

function printCommandHelp(command: string): number {
  process.stdout.write(`${COMMAND_USAGE[command]}\n\n${formatSettingsHelp()}\n`);
  return 0;
}

/** The version in gitfunc's package.json. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function serve(args: string[]): Promise<number> {
  if (wantsHelp(args)) return printCommandHelp('serve');
  const settings = loadSettings({ argv: args, env: process.env, cwd: process.cwd(), requireRepo: true });
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
  if (wantsHelp(args)) return printCommandHelp('check');
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

const CLIENT_USAGE: Readonly<Record<string, string>> = Object.freeze({
  call: CALL_USAGE,
  status: STATUS_USAGE,
  reload: RELOAD_USAGE,
  tasks: TASKS_USAGE,
  'run-cron': RUN_CRON_USAGE,
});

/** A signal that aborts on Ctrl-C (or SIGTERM), which then no longer kills the process: `tasks --follow` ends with exit code 0. */
function untilInterrupted(): AbortSignal {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return controller.signal;
}

/** `call`, `status`, `reload`, `tasks`, `run-cron`: commands that talk HTTP to a running server. */
async function clientCommand(command: string, args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    process.stdout.write(`${CLIENT_USAGE[command]}\n`);
    return 0;
  }
  const { target, rest } = readTarget(args, process.env);
  if (command === 'call') return callCommand(rest, target, processOutput);
  if (command === 'status') return statusCommand(target, processOutput);
  if (command === 'reload') return reloadCommand(target, processOutput);
  if (command === 'run-cron') return runCronCommand(rest, target, processOutput);
  return tasksCommand(rest, target, processOutput, untilInterrupted);
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
      case 'call':
      case 'status':
      case 'reload':
      case 'tasks':
      case 'run-cron':
        return await clientCommand(command, args);
      case '-v':
      case '--version':
      case 'version':
        process.stdout.write(`gitfunc ${packageVersion()}\n`);
        return 0;
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
