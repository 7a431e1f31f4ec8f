// The processes bench/peers starts (servers, wrk, a build), so that every one of them is ended
// by its pid at the end, also on an error or Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';

const STOP_TIMEOUT_MS = 10_000;

/** Started and not yet exited; `group` when the process leads its own group (uvicorn's workers). */
const running = new Map<ChildProcess, { group: boolean }>();

/** Remembers `child` until it exits; `group` when it was spawned `detached`, leading its own group. */
export function track(child: ChildProcess, group = false): ChildProcess {
  running.set(child, { group });
  child.once('exit', () => running.delete(child));
  return child;
}

function signal(child: ChildProcess, name: NodeJS.Signals, group: boolean): void {
  try {
    // A group is killed by its leader's pid negated: uvicorn's supervisor and its worker processes.
    if (group) process.kill(-child.pid!, name);
    else child.kill(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // ESRCH: already gone
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once `child` has exited. */
export function stop(child: ChildProcess): Promise<void> {
  const entry = running.get(child);
  if (!entry || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => signal(child, 'SIGKILL', entry.group), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      // A group leader's exit can leave a worker behind: end the rest of the group too.
      if (entry.group) signal(child, 'SIGKILL', true);
      resolve();
    });
    signal(child, 'SIGTERM', entry.group);
  });
}

/** Ends every tracked process. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running.keys()].map(stop));
}

/** Runs `command` to its end, tracked; resolves with its exit code (its output goes to stderr). */
export function run(command: string, args: string[], cwd: string): Promise<number> {
  const child = track(spawn(command, args, { cwd, stdio: ['ignore', 2, 2] }));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** On SIGINT / SIGTERM: `cleanUp`, then exit with 130 / 143. */
export function cleanUpOnSignals(cleanUp: () => Promise<void>): void {
  for (const [name, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(name, () => {
      process.stderr.write(`${name}: stopping what this run started\n`);
      void cleanUp().finally(() => process.exit(code));
    });
  }
}
