/**
 * bench/runtime: the Python runtime itself. Start to first served call with and without the
 * interpreter snapshot, the pool back at full capacity after a worker thread is killed, RSS
 * with 2 and 4 workers, and CPU-bound Python in Pyodide against native `python3`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadSettings } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { startServer } from '../src/server.js';
import { COMPILED, type SpawnedGitfunc, spawnGitfunc, stopGitfunc } from './spawn-gitfunc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const REPO = path.join(import.meta.dirname, 'fixtures', 'runtime');
const STARTS = Number(process.env.BENCH_STARTS ?? 5);

const work = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-runtime-'));
const snapshotDir = path.join(work, 'snapshots');
const noSnapshotConfig = path.join(work, 'no-snapshot.yaml');
writeFileSync(noSnapshotConfig, 'snapshot:\n  enabled: false\n');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

interface Started extends SpawnedGitfunc {
  /** ms from spawn to the first call answered 200. */
  firstCallMs: number;
}

/** `gitfunc serve` as its own process; resolves once a call was served. */
async function serve(workers: number, snapshot: boolean): Promise<Started> {
  const dataDir = mkdtempSync(path.join(work, 'data-'));
  const startedAt = performance.now();
  const env = { GITFUNC_SNAPSHOT_DIR: snapshotDir, ...(snapshot ? {} : { GITFUNC_CONFIG: noSnapshotConfig }) };
  const server = await spawnGitfunc({ repo: REPO, dataDir, readyPath: '/api/v1/al/hello/s', workers, env });
  return { ...server, firstCallMs: performance.now() - startedAt };
}

async function startTimes(snapshot: boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const started = await serve(2, snapshot);
    times.push(started.firstCallMs);
    await stopGitfunc(started, 'SIGKILL');
  }
  return times;
}

/** VmRSS of a process, in MB. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function rssWith(workers: number): Promise<number> {
  const started = await serve(workers, true);
  await sleep(1000); // every worker up: the first call may be served before the last one
  const mb = rssMb(started.child.pid!);
  await stopGitfunc(started, 'SIGKILL');
  return mb;
}

/** How long after the first call the worker kill waits (see recoveryMs). */
const SETTLE_MS = 2000;

/**
 * In-process server (2 workers): terminates one worker thread, then measures until calls held a
 * moment each, two at a time, have been answered by both workers, one of them the replacement.
 */
async function recoveryMs(snapshot: boolean): Promise<number> {
  const dataDir = mkdtempSync(path.join(work, 'data-'));
  const settings = loadSettings({
    argv: ['--port', '0', '--repo', REPO, '--workers', '2', '--poll-seconds', '0', '--data-dir', dataDir, '--log-level', 'error'],
    env: { GITFUNC_SNAPSHOT_DIR: snapshotDir, ...(snapshot ? {} : { GITFUNC_CONFIG: noSnapshotConfig }) },
    cwd: ROOT,
  });
  const server = await startServer(settings, { logger: createLogger('error', new Writable({ write: (_c, _e, done) => done() })) });
  // A plain string result is answered as text.
  const ask = async (): Promise<string> => (await fetch(`${server.url}/api/v1/al/worker/s?hold=0.05`)).text();
  const before = new Set<string>();
  while (before.size < 2) for (const w of await Promise.all([ask(), ask()])) before.add(w);
  // Killed once the start has settled: the import checker's worker starts after the first
  // revision is checked, and its restore would compete with the replacement's.
  await sleep(SETTLE_MS);
  const killedAt = performance.now();
  server.pool.terminateThread(server.pool.workerStatus().threads[0]!.threadId);
  for (;;) {
    const answered = await Promise.all([ask(), ask()]).catch(() => []);
    if (answered.length === 2 && answered[0] !== answered[1] && answered.some((w) => !before.has(w))) break;
  }
  const ms = performance.now() - killedAt;
  await server.close();
  return ms;
}

/** Runs of each CPU measure; the first is left out on both sides (JIT tier-up, cold caches). */
const CPU_RUNS = 5;

interface CpuSeconds {
  fib: number;
  loop: number;
}

/** The median of each measure over the runs after the first. */
function medianCpu(runs: CpuSeconds[]): CpuSeconds {
  const later = runs.slice(1);
  return { fib: median(later.map((r) => r.fib)), loop: median(later.map((r) => r.loop)) };
}

async function pyodideCpu(): Promise<CpuSeconds> {
  const started = await serve(1, true);
  const runs: CpuSeconds[] = [];
  for (let i = 0; i < CPU_RUNS; i++) runs.push((await (await fetch(`${started.url}/api/v1/al/cpu/s`)).json()) as CpuSeconds);
  await stopGitfunc(started, 'SIGKILL');
  return medianCpu(runs);
}

function nativeCpu(): CpuSeconds {
  const source = readFileSync(path.join(REPO, 'bench', 'cpu.py'), 'utf8').replace(/^@DFF\.API.*$/gm, '');
  const program = `${source}\nimport json\nprint(json.dumps([cpu() for _ in range(${CPU_RUNS})]))`;
  return medianCpu(JSON.parse(execFileSync('python3', ['-c', program], { encoding: 'utf8' })) as CpuSeconds[]);
}

try {
  process.stderr.write(`runtime bench: ${STARTS} starts each, CLI from ${COMPILED ? 'dist/' : 'src/ (tsx)'}\n`);
  const first = await serve(2, true); // builds the snapshot into this run's own dir
  await stopGitfunc(first, 'SIGKILL');
  const cold = await startTimes(false);
  process.stderr.write(`no snapshot: ${cold.map(fmt).join(', ')}\n`);
  const warm = await startTimes(true);
  process.stderr.write(`snapshot: ${warm.map(fmt).join(', ')}\n`);
  const recoveryCold = await recoveryMs(false);
  const recoveryWarm = await recoveryMs(true);
  const rss2 = await rssWith(2);
  const rss4 = await rssWith(4);
  const wasm = await pyodideCpu();
  const native = nativeCpu();

  const rows: [string, string, string][] = [
    ['serve → first call, no snapshot (p50)', fmt(median(cold)), cold.map(fmt).join(', ')],
    ['serve → first call, snapshot (p50)', fmt(median(warm)), warm.map(fmt).join(', ')],
    ['first start (builds the snapshot)', fmt(first.firstCallMs), ''],
    ['pool at full capacity after a worker kill, no snapshot', fmt(recoveryCold), ''],
    ['pool at full capacity after a worker kill, snapshot', fmt(recoveryWarm), ''],
    ['RSS, 2 workers', `${rss2.toFixed(0)} MB`, ''],
    ['RSS, 4 workers', `${rss4.toFixed(0)} MB`, ''],
    ['fib(27): Pyodide / python3', `${(wasm.fib / native.fib).toFixed(2)}x`, `${wasm.fib.toFixed(3)} s / ${native.fib.toFixed(3)} s`],
    ['sum loop 10**7: Pyodide / python3', `${(wasm.loop / native.loop).toFixed(2)}x`, `${wasm.loop.toFixed(3)} s / ${native.loop.toFixed(3)} s`],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['measure', 'value', 'runs'][i]!.length));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(['measure', 'value', 'runs']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`\nload average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
