/**
 * bench/call-cost: the CPU one sync call costs gitfunc, per thread, steadier than req/s on a
 * shared machine. Starts gitfunc (2 workers, `functions.example`), warms it, then sends
 * BENCH_CALLS calls of `POST /api/v1/al/hello/s` over BENCH_CONNECTIONS keep-alive connections
 * and reads every thread's user+system time from /proc before and after: CPU µs per call of
 * the server's main thread, of each busy helper thread (the Pyodide workers, the record
 * thread) and of the rest (V8's and libuv's helper threads). With BENCH_AGAINST=<dir> (another
 * built tree, e.g. a worktree of the base commit) both run, measured in alternating rounds.
 * docs/performance.md explains the figures.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnGitfunc, stopGitfunc, type SpawnedGitfunc } from './spawn-gitfunc.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HERE = path.resolve(import.meta.dirname, '..');
const TICK_US = 1e6 / 100; // USER_HZ: 100 on Linux
/** A helper thread using more than this per call is shown on its own. */
const BUSY_US = 5;

/** Every thread of `pid`: user+system ticks by thread id. */
function threadTicks(pid: number): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(Number(tid), Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** Sends `count` calls over `connections` keep-alive connections, every answer checked. */
async function sendCalls(url: string, count: number, connections: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const body = JSON.stringify({ message: 'hi' });
  let left = count;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const headers = { 'content-type': 'application/json', 'content-length': body.length };
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 && text === body ? resolve() : reject(new Error(`${res.statusCode} ${text}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const loop = async (): Promise<void> => {
    for (; left > 0; left--) await one();
  };
  await Promise.all(Array.from({ length: connections }, loop));
  agent.destroy();
}

interface Round {
  text: string;
  main: number;
  total: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One round on `server`: CPU µs per call of its threads, and the req/s it served. */
async function measure(server: SpawnedGitfunc): Promise<Round> {
  const pid = server.child.pid!;
  const before = threadTicks(pid);
  const started = performance.now();
  await sendCalls(`${server.url}/api/v1/al/hello/s`, CALLS, CONNECTIONS);
  const seconds = (performance.now() - started) / 1000;
  const perCall = (tid: number, ticks: number): number => ((ticks - (before.get(tid) ?? 0)) * TICK_US) / CALLS;
  let main = 0;
  let other = 0;
  let total = 0;
  const busy: string[] = [];
  for (const [tid, ticks] of threadTicks(pid)) {
    const used = perCall(tid, ticks);
    total += used;
    if (tid === pid) main = used;
    else if (used > BUSY_US) busy.push(`${tid} ${used.toFixed(1)}`);
    else other += used;
  }
  const text = `main ${main.toFixed(1)}; busy threads: ${busy.join(', ')}; other ${other.toFixed(1)}; total ${total.toFixed(1)}; ${(CALLS / seconds).toFixed(0)} req/s`;
  return { text, main, total };
}

const work = mkdtempSync(path.join(tmpdir(), 'gitfunc-call-cost-'));
const roots = [HERE, ...(process.env.BENCH_AGAINST ? [path.resolve(process.env.BENCH_AGAINST)] : [])];
const servers: SpawnedGitfunc[] = [];
try {
  for (const [i, root] of roots.entries()) {
    const server = await spawnGitfunc({
      repo: path.join(HERE, 'functions.example'),
      dataDir: path.join(work, `data-${i}`),
      readyPath: '/api/v1/al/hello/s',
      workers: 2,
      root,
      // Each tree its own snapshot: the format may differ between two commits.
      env: { GITFUNC_SNAPSHOT_DIR: process.env.BENCH_SNAPSHOT_DIR ? `${process.env.BENCH_SNAPSHOT_DIR}-${i}` : path.join(work, `snapshot-${i}`) },
      nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean),
      onSpawn: (child) => console.log(`${root}: server pid ${child.pid}`),
    });
    servers.push(server);
    await sendCalls(`${server.url}/api/v1/al/hello/s`, 3000, CONNECTIONS); // warm-up: V8's tiers, the import checker's start
  }
  console.log(`${CALLS} calls, ${CONNECTIONS} connections, ${ROUNDS} rounds; CPU µs per call`);
  const rounds: Round[][] = servers.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    // The first server measured alternates, so a drift of the machine's speed favours neither.
    const order = round % 2 === 1 ? servers.map((_, i) => i) : servers.map((_, i) => i).reverse();
    for (const i of order) {
      const measured = await measure(servers[i]!);
      rounds[i]!.push(measured);
      console.log(`round ${round} ${roots[i]}: ${measured.text}`);
    }
  }
  for (const [i, root] of roots.entries()) {
    console.log(`median ${root}: main ${median(rounds[i]!.map((r) => r.main)).toFixed(1)}, total ${median(rounds[i]!.map((r) => r.total)).toFixed(1)}`);
  }
  if (servers.length === 2) {
    // Per round, this tree's figure over the other's measured moments apart.
    const ratios = (pick: (r: Round) => number): string => {
      const each = rounds[0]!.map((r, n) => pick(r) / pick(rounds[1]![n]!));
      return `${median(each).toFixed(2)} (${Math.min(...each).toFixed(2)}-${Math.max(...each).toFixed(2)})`;
    };
    console.log(`this ÷ against: main ${ratios((r) => r.main)}, total ${ratios((r) => r.total)}`);
  }
} finally {
  for (const server of servers) await stopGitfunc(server);
  rmSync(work, { recursive: true, force: true });
}
