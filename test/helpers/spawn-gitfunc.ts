// gitfunc as its own process, as an operator runs it: for tests of signals, crashes and restarts.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { gitfuncCli } from './gitfunc-cli.js';
import { SHARED_SNAPSHOT_DIR } from './start-gitfunc.js';

export interface GitfuncProcess {
  child: ChildProcess;
  /** Set once the server listens. */
  url: string;
  /** JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/**
 * Starts `gitfunc serve` with `flags` and `env`; resolves once it listens (before it is ready).
 * `launcher` is the command line before `serve`: the executable, node flags, the entry script
 * (default: gitfuncCli(), the built dist/ when current); `cwd` the folder it runs in (default: this process's).
 */
export async function spawnGitfunc(
  flags: string[],
  env: Record<string, string> = {},
  launcher: string[] = gitfuncCli(),
  cwd?: string,
): Promise<GitfuncProcess> {
  const [executable, ...args] = launcher;
  const child = spawn(executable!, [...args, 'serve', '--port', '0', ...flags], {
    cwd,
    env: { PATH: process.env.PATH, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') resolve(entry.url as string);
    });
    void exited.then((code) => reject(new Error(`gitfunc exited (${code}) before listening`)));
  });
  return { child, url, logs, exited };
}

/** Polls `/readyz` until it answers 200. */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}
