/**
 * bench/sync-api: req/s and latency of (a) a bare polka JSON endpoint and (b) gitfunc serving
 * hello_world through the full sync API path, measured in one run; prints the ratio b/a.
 * Each server runs in its own process; autocannon drives load from this one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';

const ROOT = path.resolve(import.meta.dirname, '..');
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
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

async function measure(name: string, url: string): Promise<Row[]> {
  await load(url, 10, 2); // warm up the JIT and the workers
  const rows: Row[] = [];
  for (const connections of CONNECTIONS) {
    const result = await load(url, connections, DURATION_SECONDS);
    rows.push({
      name,
      connections,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
    });
  }
  return rows;
}

const bare = await startChild('bench/bare-polka.ts');
const baseline = await measure('a) bare polka JSON', `${bare.url}/hello?message=hi`);
bare.child.kill();

const gitfunc = await startChild('bench/serve-gitfunc.ts');
const full = await measure('b) gitfunc sync API hello_world', `${gitfunc.url}/api/v1/al/hello/simplified?message=hi`);
gitfunc.child.kill();

const lines = [
  '| scenario | conns | req/s | p50 ms | p99 ms | errors | b/a req/s |',
  '|---|---|---|---|---|---|---|',
];
for (const row of [...baseline, ...full]) {
  const base = baseline.find((b) => b.connections === row.connections)!;
  const ratio = row === base ? '' : (row.rps / base.rps).toFixed(2);
  lines.push(`| ${row.name} | ${row.connections} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${row.errors} | ${ratio} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
