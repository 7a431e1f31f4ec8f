/**
 * bench/sync-api: req/s and latency of (a) a bare polka JSON endpoint (the ceiling), (b) gitfunc
 * of a base commit and (c) gitfunc of the working tree, both serving hello_world through the full
 * sync API path, measured in alternating rounds of one run. Prints head ÷ base (is the sync path
 * no slower than before?) and each ÷ bare polka. Each server runs in its own process; autocannon
 * drives load from this one. The base is a temporary git worktree (bench/base-tree.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { type BaseTree, checkOutBase, chooseBase, describeHead } from './base-tree.js';
import { median } from './stats.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKERS = process.env.BENCH_WORKERS ?? '2';
const CONNECTIONS = [10, 50];
const HELLO = '/api/v1/al/hello/simplified?message=hi';
/** Two gitfunc servers start at once on a shared machine; a first start also builds a snapshot. */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 10_000;
const WARM_UP_SECONDS = 3;
/** Bare polka's best round over its worst from which the run warns that the machine was busy. */
const DRIFT_WARNING = 1.3;

type Side = 'bare' | 'base' | 'head';
interface Target {
  name: string;
  url: string;
}
interface Row {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const children: ChildProcess[] = [];
// The servers' temporary data dirs and their interpreter snapshot (~30 MB) go here, removed at
// the end: bench/serve-gitfunc.ts makes its data dir under os.tmpdir(), which reads TMPDIR.
const serversTmp = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-sync-'));
let baseTree: BaseTree | undefined;

/** Spawns `script` of the tree `root` through tsx, from that tree, and waits for its READY line. */
function startChild(root: string, script: string): Promise<string> {
  const child = spawn(process.execPath, ['--import=tsx', path.join(root, script)], {
    cwd: root,
    env: { ...process.env, TMPDIR: serversTmp, BENCH_WORKERS: WORKERS, BENCH_SNAPSHOT_DIR: serversTmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let ready = false;
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`${script} of ${root} ${why}; its last output:\n${output}`));
    const timer = setTimeout(() => fail(`not ready after ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      if (ready) return; // keep draining the pipe, without the cost of reading it
      output = (output + chunk.toString()).slice(-4000);
      const match = /READY (\S+)/.exec(output);
      if (!match) return;
      ready = true;
      clearTimeout(timer);
      resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited (${code ?? signal})`);
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Ends every server this run started (by pid) and removes the base worktree and temp files. */
async function cleanUp(): Promise<void> {
  await Promise.all(children.map(stopChild));
  baseTree?.remove();
  baseTree = undefined;
  rmSync(serversTmp, { recursive: true, force: true });
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(code)));
}

async function load(url: string, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration: seconds, pipelining: 1 });
}

function summarize(results: autocannon.Result[]): Row {
  return {
    rps: median(results.map((r) => r.requests.average)),
    p50: median(results.map((r) => r.latency.p50)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
  };
}

/** Median of per-round ratios of req/s, with their range: `0.97 (0.93-1.01)`. */
function ratio(top: autocannon.Result[], bottom: autocannon.Result[]): string {
  const ratios = top.map((result, round) => result.requests.average / bottom[round]!.requests.average);
  const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
  return `${median(ratios).toFixed(2)} (${range})`;
}

/** Bare polka's spread across rounds, when it says the machine's speed changed during the run. */
function driftNote(connections: number, bare: autocannon.Result[]): string | undefined {
  const rates = bare.map((result) => result.requests.average);
  const [low, high] = [Math.min(...rates), Math.max(...rates)];
  if (high < DRIFT_WARNING * low) return undefined;
  return (
    `note: bare polka ranged ${Math.round(low)}-${Math.round(high)} req/s across rounds at ${connections} connections: ` +
    'the machine was busy, so read a head ÷ base within ±20% of 1.00 as noise (bench/README.md); ' +
    'raise BENCH_ROUNDS or run on a quiet machine'
  );
}

/** Per connection count, ROUNDS rounds of: bare polka, then base and head back to back. */
async function measure(targets: Partial<Record<Side, Target>>): Promise<string[]> {
  const notes: string[] = [];
  const lines = [
    '| server | conns | req/s | p50 ms | p99 ms | errors | ÷ bare req/s | head ÷ base req/s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const connections of CONNECTIONS) {
    const runs: Record<Side, autocannon.Result[]> = { bare: [], base: [], head: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Base and head take turns going first (ABBA...), so a steady drift of this shared
      // machine's speed favours neither; each pair is measured moments apart.
      const pair: Side[] = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      const progress: string[] = [];
      for (const side of ['bare', ...pair] as Side[]) {
        const target = targets[side];
        if (!target) continue;
        const result = await load(target.url, connections, ROUND_SECONDS);
        runs[side].push(result);
        progress.push(`${side} ${Math.round(result.requests.average)}`);
      }
      process.stderr.write(`${connections} conns, round ${round + 1}/${ROUNDS}: ${progress.join(', ')} req/s\n`);
    }
    for (const side of ['bare', 'base', 'head'] as Side[]) {
      const target = targets[side];
      if (!target) continue;
      const row = summarize(runs[side]);
      const ofBare = side === 'bare' ? '' : ratio(runs[side], runs.bare);
      const ofBase = side === 'head' && targets.base ? ratio(runs.head, runs.base) : '';
      lines.push(
        `| ${target.name} | ${connections} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${row.errors} | ${ofBare} | ${ofBase} |`,
      );
    }
    const note = driftNote(connections, runs.bare);
    if (note) notes.push(note);
  }
  return notes.length ? [...lines, '', ...notes] : lines;
}

const header = [
  `sync API bench: hello_world of functions.example, ${WORKERS} workers; each figure the median of ${ROUNDS} rounds of ${ROUND_SECONDS} s (ratios: median (range) of per-round ratios)`,
  `machine: ${os.availableParallelism()} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start`,
  `head: ${describeHead(ROOT)}`,
];
let table: string[];
try {
  const base = chooseBase(ROOT, process.env.BENCH_BASE);
  const checkout = checkOutBase(ROOT, base.commit, process.env.BENCH_BASE_INSTALL === '1');
  const baseName = `${base.commit.slice(0, 7)} ${base.subject}`;
  if ('skipped' in checkout) {
    header.push(`base: ${baseName} (${base.reason}): NOT MEASURED: ${checkout.skipped}`);
  } else {
    baseTree = checkout;
    header.push(`base: ${baseName} (${base.reason}); ${checkout.dependencies}`);
  }
  const startedAt = Date.now();
  const [bareUrl, headUrl, baseUrl] = await Promise.all([
    startChild(ROOT, 'bench/bare-polka.ts'),
    startChild(ROOT, 'bench/serve-gitfunc.ts'),
    baseTree ? startChild(baseTree.dir, 'bench/serve-gitfunc.ts') : undefined,
  ]);
  const targets: Partial<Record<Side, Target>> = {
    bare: { name: 'bare polka JSON', url: `${bareUrl}/hello?message=hi` },
    base: baseUrl ? { name: `gitfunc base ${base.commit.slice(0, 7)}`, url: `${baseUrl}${HELLO}` } : undefined,
    head: { name: 'gitfunc head (working tree)', url: `${headUrl}${HELLO}` },
  };
  process.stderr.write(`servers ready after ${((Date.now() - startedAt) / 1000).toFixed(1)} s; warming up\n`);
  // JIT and workers warm; a server also finishes its start (the import checker's worker) here.
  for (const target of Object.values(targets)) if (target) await load(target.url, 10, WARM_UP_SECONDS);
  table = await measure(targets);
} finally {
  await cleanUp();
}
process.stdout.write(`${header.join('\n')}\n\n${table.join('\n')}\n`);
