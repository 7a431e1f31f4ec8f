// The servers bench/peers measures, each its own process, each answering POST {"message":"hi"}
// with {"message":"hi"}: bare polka, gitfunc (a tree's CLI on its functions.example) and
// uvicorn + Starlette. Every process is tracked (./processes.ts) from the moment it is spawned.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { spawnGitfunc } from '../spawn-gitfunc.js';
import { track } from './processes.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** A gitfunc start on a loaded machine, building its interpreter snapshot, can take a minute. */
const START_TIMEOUT_MS = 180_000;
export const BODY = JSON.stringify({ message: 'hi' });

/** A started server: `url` takes the benchmark's POST. */
export interface Target {
  name: string;
  url: string;
}

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Keeps the last 4000 characters `child` writes until it is ready, for the error when it fails to start. */
function collectOutput(child: ChildProcess): { text: () => string; stop: () => void } {
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4000));
  const streams = [child.stdout!, child.stderr!];
  for (const stream of streams) stream.on('data', keep);
  // Once ready, drain whatever comes unread.
  const stop = (): void => void streams.forEach((stream) => stream.off('data', keep).resume());
  return { text: () => output, stop };
}

/** bench/bare-polka.ts through tsx; resolves at its READY line. */
export function startPolka(): Promise<Target> {
  const child = track(spawn(process.execPath, ['--import=tsx', path.join(ROOT, 'bench', 'bare-polka.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  const output = collectOutput(child);
  const ready = new Promise<Target>((resolve, reject) => {
    child.stdout!.on('data', function onReady() {
      const match = /READY (\S+)/.exec(output.text());
      if (!match) return;
      child.stdout!.off('data', onReady);
      output.stop();
      resolve({ name: 'bare polka', url: `${match[1]}/hello` });
    });
    child.once('exit', (code, signal) => reject(new Error(`bare polka exited (${code ?? signal}):\n${output.text()}`)));
  });
  return withTimeout('bare polka', ready);
}

/** gitfunc of the tree `root` (its dist/ when built) on its functions.example, `workers` workers, data under `work`. */
export function startGitfunc(name: string, root: string, work: string, workers: number): Promise<Target> {
  const dataDir = mkdtempSync(path.join(work, 'data-'));
  // Its own snapshot dir: the snapshot format may differ between two commits.
  const snapshotDir = mkdtempSync(path.join(work, 'snapshot-'));
  const started = spawnGitfunc({
    repo: path.join(root, 'functions.example'),
    dataDir,
    readyPath: '/api/v1/al/hello/s',
    workers,
    env: { GITFUNC_SNAPSHOT_DIR: snapshotDir },
    root,
    onSpawn: (child) => track(child),
  });
  return withTimeout(name, started.then(({ url }) => ({ name, url: `${url}/api/v1/al/hello/s` })));
}

/** The Pythons tried for uvicorn: the PATH's (pyenv's here), then Debian's, where its python3-uvicorn is. */
const PYTHONS = ['python3', '/usr/bin/python3'];
const PROBE =
  "import importlib.util as u, sys, uvicorn, starlette; print(f'{sys.executable}: uvicorn {uvicorn.__version__}, Starlette {starlette.__version__}, loop ' + " +
  "('uvloop' if u.find_spec('uvloop') else 'asyncio') + ', HTTP ' + ('httptools' if u.find_spec('httptools') else 'h11'))";

/** The first Python that has uvicorn and Starlette, with their versions and the loop / HTTP parser uvicorn picks, or why none can run them. */
export function findUvicorn(): { python: string; installed: string } | { missing: string } {
  const failures: string[] = [];
  for (const python of PYTHONS) {
    const probe = spawnSync(python, ['-c', PROBE], { encoding: 'utf8' });
    if (probe.status === 0) return { python, installed: probe.stdout.trim() };
    failures.push(`${python}: ${probe.error ? 'not found' : probe.stderr.trim().split('\n').at(-1)}`);
  }
  return { missing: `${failures.join('; ')} (apt-get install python3-uvicorn python3-starlette)` };
}

/**
 * bench/peers/serve_uvicorn.py: uvicorn with `workers` worker processes on hello_asgi.py (see
 * there why not `uvicorn --workers`), its default logging (an access line per request, as gitfunc
 * logs one per call) into a file under `work`. It leads its own process group, so its workers are
 * ended with it.
 */
export async function startUvicorn(python: string, workers: number, work: string): Promise<Target> {
  const logFile = path.join(work, 'uvicorn.log');
  const log = openSync(logFile, 'w');
  const script = path.join(import.meta.dirname, 'serve_uvicorn.py');
  const child = track(spawn(python, [script, String(workers)], { detached: true, stdio: ['ignore', log, log] }), true);
  closeSync(log);
  const ready = (async (): Promise<Target> => {
    for (;;) {
      const output = readFileSync(logFile, 'utf8');
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`uvicorn exited (${child.exitCode ?? child.signalCode}):\n${output.slice(-4000)}`);
      }
      const listening = /READY (\S+)/.exec(output);
      if (listening) {
        const url = `${listening[1]}/hello`;
        const res = await fetch(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } }).catch(() => undefined);
        await res?.text();
        if (res?.status === 200) return { name: 'uvicorn + Starlette', url };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return withTimeout('uvicorn', ready);
}

/** Throws unless `target` answers the benchmark's POST with 200 and {"message":"hi"}. */
export async function checkAnswer(target: Target): Promise<void> {
  const res = await fetch(target.url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text; // not JSON: reported as text below
  }
  if (res.status !== 200 || !isDeepStrictEqual(body, JSON.parse(BODY))) {
    throw new Error(`${target.name} answered ${res.status} ${text.slice(0, 200)} instead of 200 ${BODY}`);
  }
}
