// `gitfunc serve` as its own process, as operators start it (the compiled CLI when
// `npm run build` was run, else the sources through tsx), for the benches that measure a whole
// server: bench/network, bench/connectors, bench/runtime.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The compiled CLI when `npm run build` was run (as operators start it), else the sources through tsx. */
export const COMPILED = existsSync(path.join(ROOT, 'dist', 'main.js'));
const CLI = COMPILED ? [path.join(ROOT, 'bin', 'gitfunc.js')] : ['--import=tsx', path.join(ROOT, 'src', 'main.ts')];

export interface SpawnedGitfunc {
  child: ChildProcess;
  url: string;
}

/**
 * Starts gitfunc on `repo` with `dataDir` (`workers` workers, no polling, extra `env`) and
 * resolves once `readyPath` (a sync API of the repository) answers 200.
 */
export async function spawnGitfunc(options: { repo: string; dataDir: string; readyPath: string; workers?: number; env?: Record<string, string> }): Promise<SpawnedGitfunc> {
  const flags = ['serve', '--port', '0', '--repo', options.repo, '--workers', String(options.workers ?? 2), '--poll-seconds', '0', '--data-dir', options.dataDir];
  const env = { PATH: process.env.PATH, ...options.env };
  const child = spawn(process.execPath, [...CLI, ...flags], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'listening') resolve(entry.url!);
    });
    child.once('exit', (code) => reject(new Error(`gitfunc exited (${code})`)));
  });
  for (;;) {
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
