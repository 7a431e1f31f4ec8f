/**
 * bench/peers: gitfunc from outside, with wrk, against the servers a user compares it with:
 * bare polka answering the same JSON (the ceiling of a Node server) and uvicorn + Starlette
 * (what a Python team would run instead), all answering POST {"message":"hi"} with
 * {"message":"hi"}, gitfunc through `POST /api/v1/al/hello/s` of functions.example. With
 * `--against <commit>`: gitfunc of the working tree against gitfunc of that commit instead.
 * Each server runs in its own process; rounds alternate the servers; bench/README.md has the rest.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BaseTree, checkOutBase, chooseBase, describeHead } from './base-tree.js';
import { cleanUpOnSignals, run, stopAll } from './peers/processes.js';
import { checkAnswer, findUvicorn, startGitfunc, startPolka, startUvicorn, type Target } from './peers/servers.js';
import { type Comparison, formatTable, type Measured } from './peers/table.js';
import { runWrk, wrkInstalled } from './peers/wrk.js';
import { COMPILED } from './spawn-gitfunc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,10,50').split(',').map(Number);
/** After its start a server also finishes starting (gitfunc's import checker): one longer warm-up. */
const FIRST_WARM_SECONDS = 3;

const { values: options } = parseArgs({ options: { against: { type: 'string' } } });

const work = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-peers-'));
let baseTree: BaseTree | undefined;

async function cleanUp(): Promise<void> {
  await stopAll();
  baseTree?.remove();
  baseTree = undefined;
  rmSync(work, { recursive: true, force: true });
}
cleanUpOnSignals(cleanUp);

/** Whether some file of src/ changed after dist/ was built (then the bench would measure old code). */
function distIsStale(): boolean {
  // scripts/copy-assets.mjs writes dist/.built at every build; tsc leaves unchanged outputs as they were.
  const stamp = ['.built', 'main.js'].map((file) => path.join(ROOT, 'dist', file)).find((file) => existsSync(file))!;
  const built = statSync(stamp).mtimeMs;
  return readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true }).some(
    (entry) => entry.isFile() && statSync(path.join(entry.parentPath, entry.name)).mtimeMs > built,
  );
}

function gitfuncHow(): string {
  if (!COMPILED) return 'gitfunc runs src/ through tsx (run npm run build to measure it as operators run it)';
  return distIsStale() ? 'gitfunc runs dist/, OLDER than src/: run npm run build first' : 'gitfunc runs dist/ (the compiled CLI)';
}

/** The servers to compare, started; `header` gets a line per server, and one per server skipped. */
async function startServers(header: string[]): Promise<{ targets: Target[]; pairs: [number, number][] }> {
  if (options.against === undefined) {
    const uvicorn = findUvicorn();
    header.push(`${gitfuncHow()}, ${WORKERS} workers, on functions.example: POST /api/v1/al/hello/s`);
    header.push('missing' in uvicorn ? `uvicorn + Starlette: NOT MEASURED: ${uvicorn.missing}` : `uvicorn + Starlette: ${uvicorn.installed}, ${WORKERS} worker processes, access log on`);
    const targets = await Promise.all([
      startPolka(),
      startGitfunc('gitfunc', ROOT, work, WORKERS),
      ...('installed' in uvicorn ? [startUvicorn(uvicorn.python, WORKERS, work)] : []),
    ]);
    // gitfunc ÷ bare polka, and gitfunc ÷ uvicorn when it runs.
    return { targets, pairs: targets.length === 3 ? [[1, 0], [1, 2]] : [[1, 0]] };
  }
  const base = chooseBase(ROOT, options.against);
  const checkout = checkOutBase(ROOT, base.commit, true);
  const baseName = `${base.commit.slice(0, 7)} ${base.subject}`;
  if ('skipped' in checkout) throw new Error(`gitfunc ${baseName}: NOT MEASURED: ${checkout.skipped}`);
  baseTree = checkout;
  header.push(`head: ${describeHead(ROOT)}; ${gitfuncHow()}`);
  header.push(`base: ${baseName}; ${checkout.dependencies}; built with npm run build`);
  process.stderr.write(`building ${baseName} in ${checkout.dir}\n`);
  const built = await run('npm', ['run', 'build'], checkout.dir);
  if (built !== 0) throw new Error(`npm run build of ${baseName} failed (exit ${built})`);
  const targets = await Promise.all([
    startGitfunc('gitfunc head', ROOT, work, WORKERS),
    startGitfunc(`gitfunc ${base.commit.slice(0, 7)}`, checkout.dir, work, WORKERS),
  ]);
  return { targets, pairs: [[0, 1]] };
}

/** Per connection count, ROUNDS rounds; each round measures every server, the first one rotating. */
async function measure(targets: Target[]): Promise<Measured[]> {
  const measured: Measured[] = targets.map((target) => ({ name: target.name, runs: new Map() }));
  for (const connections of CONNECTIONS) {
    for (const server of measured) server.runs.set(connections, []);
    for (let round = 0; round < ROUNDS; round++) {
      const progress: string[] = [];
      for (let i = 0; i < targets.length; i++) {
        const index = (round + i) % targets.length;
        await runWrk(targets[index]!.url, connections, WARM_SECONDS, THREADS);
        const result = await runWrk(targets[index]!.url, connections, SECONDS, THREADS);
        measured[index]!.runs.get(connections)!.push(result);
        progress.push(`${targets[index]!.name} ${Math.round(result.rps)} req/s p50 ${result.p50Us} µs`);
      }
      process.stderr.write(`${connections} conn, round ${round + 1}/${ROUNDS}: ${progress.join(', ')}\n`);
    }
  }
  return measured;
}

if (!wrkInstalled()) {
  process.stderr.write('bench/peers: NOT MEASURED: wrk is not installed (apt-get install wrk)\n');
  process.exit(1);
}
const header = [
  `peers bench: wrk (${THREADS} thread), POST {"message":"hi"}; each figure the median of ${ROUNDS} rounds of ${SECONDS} s, ` +
    `each after a ${WARM_SECONDS} s warm-up; ratios: median (range) of per-round ratios`,
  `machine: ${os.availableParallelism()} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start`,
];
try {
  const startedAt = Date.now();
  const { targets, pairs } = await startServers(header);
  for (const target of targets) await checkAnswer(target);
  process.stderr.write(`servers ready after ${((Date.now() - startedAt) / 1000).toFixed(1)} s; warming up\n`);
  for (const target of targets) await runWrk(target.url, 10, FIRST_WARM_SECONDS, THREADS);
  const measured = await measure(targets);
  const comparisons: Comparison[] = pairs.map(([top, bottom]) => ({ top: measured[top]!, bottom: measured[bottom]! }));
  header.push(`load average at the end: ${os.loadavg()[0]!.toFixed(1)}`);
  process.stdout.write(`${header.join('\n')}\n\n${formatTable(measured, comparisons, CONNECTIONS).join('\n')}\n`);
} catch (error) {
  process.stderr.write(`bench/peers failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
