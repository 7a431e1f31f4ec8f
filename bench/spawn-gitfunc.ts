// `gitfunc serve` as its own process, as operators start it (the compiled CLI when
// `npm run build` was run, else the sources through tsx), for the benches that measure a whole
// server: bench/network, bench/connectors, bench/runtime, bench/peers.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Whether the tree at `root` was built (`npm run build`): then its compiled CLI runs. */
export function isCompiled(root: string): boolean {
  return existsSync(path.join(root, 'dist', 'main.js'));
}

/** The compiled CLI when `npm run build` was run (as operators start it), else the sources through tsx. */
export const COMPILED = isCompiled(ROOT);

function cliOf(root: string): string[] {
  return isCompiled(root) ? [path.join(root, 'bin', 'gitfunc.js')] : ['--import=tsx', path.join(root, 'src', 'main.ts')];
}

export interface SpawnedGitfunc {
  child: ChildProcess;
  url: string;
}

/**
 * Starts gitfunc on `repo` with `dataDir` (`workers` workers, no polling, extra `env`) and
 * resolves once `readyPath` (a sync API of the repository) answers 200. `root` is the tree whose
 * CLI runs (default this one); `onSpawn` receives the process at once, so a caller can stop it
 * when the start fails or is interrupted.
 */
export async function spawnGitfunc(options: {
  repo: string;
  dataDir: string;
  readyPath: string;
  workers?: number;
  env?: Record<string, string>;
  root?: string;
  /** Node flags before the CLI (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  onSpawn?: (child: ChildProcess) => void;
}): Promise<SpawnedGitfunc> {
  const root = options.root ?? ROOT;
  const flags = ['serve', '--port', '0', '--repo', options.repo, '--workers', String(options.workers ?? 2), '--poll-seconds', '0', '--data-dir', options.dataDir];
  const env = { PATH: process.env.PATH, ...options.env };
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...cliOf(root), ...flags], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  options.onSpawn?.(child);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg !== 'listening') return;
      // One log line per call follows: drain them unread, so parsing them costs the bench nothing.
      lines.close();
      child.stdout!.resume();
      resolve(entry.url!);
    });
    child.once('exit', (code) => reject(new Error(`gitfunc exited (${code})`)));
  });
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gitfunc exited (${child.exitCode ?? child.signalCode})`);
    const res = await fetch(`${url}${options.readyPath}`).catch(() => undefined);
    if (res?.status === 200) break;
    await res?.text();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { child, url };
}

/** Stops a spawned server with `signal` and waits for it to exit. */
export async function stopGitfunc(server: SpawnedGitfunc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill(signal);
  await exited;
}
