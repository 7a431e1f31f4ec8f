/**
 * bench/sync-api: req/s and latency of (a) a bare polka JSON endpoint and (b) gitfunc serving
 * hello_world through the full sync API path, measured in one run; prints the ratio b/a.
 * Each server runs in its own process; autocannon drives load from this one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = [10, 50];

interface Row {
  name: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function startChild(script: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import=tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const match = /READY (\S+)/.exec(chunk.toString());
      if (match) resolve({ child, url: match[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function load(url: string, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration: seconds, pipelining: 1 });
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summarize(name: string, connections: number, results: autocannon.Result[]): Row {
  return {
    name,
    connections,
    rps: median(results.map((r) => r.requests.average)),
    p50: median(results.map((r) => r.latency.p50)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
  };
}

// Both servers run side by side (an idle one costs nothing) and are measured in alternating
// rounds: this machine's speed drifts by 2x within minutes, so a ratio is only fair between
// measurements taken moments apart. Each figure is the median of its rounds.
const bare = await startChild('bench/bare-polka.ts');
const gitfunc = await startChild('bench/serve-gitfunc.ts');
const targets = {
  a: { name: 'a) bare polka JSON', url: `${bare.url}/hello?message=hi` },
  b: { name: 'b) gitfunc sync API hello_world', url: `${gitfunc.url}/api/v1/al/hello/simplified?message=hi` },
};
for (const target of Object.values(targets)) await load(target.url, 10, 2); // warm up JIT and workers

const lines = [
  `| scenario | conns | req/s | p50 ms | p99 ms | errors | b/a req/s (median of ${ROUNDS} rounds) |`,
  '|---|---|---|---|---|---|---|',
];
for (const connections of CONNECTIONS) {
  const runs: Record<'a' | 'b', autocannon.Result[]> = { a: [], b: [] };
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    runs.a.push(await load(targets.a.url, connections, ROUND_SECONDS));
    runs.b.push(await load(targets.b.url, connections, ROUND_SECONDS));
    ratios.push(runs.b.at(-1)!.requests.average / runs.a.at(-1)!.requests.average);
  }
  const a = summarize(targets.a.name, connections, runs.a);
  const b = summarize(targets.b.name, connections, runs.b);
  lines.push(`| ${a.name} | ${connections} | ${Math.round(a.rps)} | ${a.p50} | ${a.p99} | ${a.errors} | |`);
  lines.push(`| ${b.name} | ${connections} | ${Math.round(b.rps)} | ${b.p50} | ${b.p99} | ${b.errors} | ${median(ratios).toFixed(2)} |`);
}
bare.child.kill();
gitfunc.child.kill();
process.stdout.write(`${lines.join('\n')}\n`);
