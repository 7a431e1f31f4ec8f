/**
 * bench/reload: push to deploy under load. gitfunc serves a 10-script repository from a real
 * git HTTP server while autocannon keeps 50 connections of sync calls going; the bench pushes
 * 10 commits (one of them broken), each followed by `POST /api/v1/reload`, and prints calls
 * made, non-2xx answers, p99 latency during reloads against steady state, and the time from
 * the reload request until the new code answers.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { ADMIN_TOKEN } from '../test/helpers/admin-client.js';
import { createWorkRepo } from '../test/helpers/git-repo.js';
import { startGitServer } from '../test/helpers/git-server.js';
import { waitReady } from '../test/helpers/spawn-gitfunc.js';

const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PUSHES = 10;
/** The push that is broken (a SyntaxError): it must never be served. */
const BROKEN_PUSH = 5;
/** Steady load between reloads, so steady-state latency has samples of its own. */
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 1500);
/** A call ending this long after a reload ended still counts as "during" it (queued behind it). */
const TAIL_MS = 200;
const SCRIPTS = 10;

/** A repository of SCRIPTS scripts; `version` answers `version` (`broken` adds a SyntaxError). */
function repoFiles(version: string, broken = false): Record<string, string> {
  const files: Record<string, string> = {};
  const apis = ['version: 1', 'syncAPIs:', '  - id: version', '    func: demo__s0.version'];
  for (let i = 0; i < SCRIPTS; i++) {
    const lines = ['import json', 'import re', '', `@DFF.API('Function ${i}')`, `def f${i}(text='abc'):`, `    return {'n': ${i}, 'words': re.findall(r'\\w+', text)}`, ''];
    if (i === 0) lines.push(`VERSION = ${JSON.stringify(version)}`, '', "@DFF.API('Version')", 'def version():', '    return VERSION', '');
    if (broken && i === SCRIPTS - 1) lines.push('def broken(:', '');
    files[`demo/s${i}.py`] = lines.join('\n');
    apis.push(`  - id: f${i}`, `    func: demo__s${i}.f${i}`);
  }
  files['gitfunc.yaml'] = `${apis.join('\n')}\n`;
  return files;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A port free right now: gitfunc logs only warnings here, so it cannot report the one it got. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const git = await startGitServer();
const work = await createWorkRepo(repoFiles('v0'));
await git.publish('funcs', work.dir);
const port = await freePort();
const flags = ['--port', String(port), '--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0', '--workers', process.env.BENCH_WORKERS ?? '2'];
// Warnings only: a log line per call would load the machine the bench measures.
const child = spawn(process.execPath, ['--import=tsx', MAIN, 'serve', ...flags], {
  env: { PATH: process.env.PATH, GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN, GITFUNC_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = new Promise((resolve) => child.once('exit', resolve));
const gitfunc = { url: `http://127.0.0.1:${port}` };
await waitReady(gitfunc.url, 120_000);
const versionUrl = `${gitfunc.url}/api/v1/al/version`;

async function served(): Promise<string> {
  const res = await fetch(versionUrl);
  return res.status === 200 ? await res.text() : `HTTP ${res.status}`;
}

/** Every answer of the load: when it ended, its latency and status. */
const answers: Array<{ at: number; ms: number; status: number }> = [];
let load!: autocannon.Instance;
const loadDone = new Promise<autocannon.Result>((resolve, reject) => {
  // The callback form returns the instance, whose events and stop() the bench needs.
  load = autocannon({ url: versionUrl, connections: CONNECTIONS, duration: 3600, pipelining: 1 }, (error, result) =>
    error ? reject(error) : resolve(result),
  );
});
load.on('response', (_client, status, _bytes, ms) => answers.push({ at: performance.now(), ms, status }));
await sleep(PAUSE_MS * 2);

const windows: Array<{ from: number; to: number }> = [];
const toServing: number[] = [];
let brokenOutcome = '';
let current = 'v0';
for (let push = 1; push <= PUSHES; push++) {
  const broken = push === BROKEN_PUSH;
  const version = `v${push}`;
  await work.commit(repoFiles(version, broken), version);
  await git.publish('funcs', work.dir);
  const from = performance.now();
  if (broken) {
    const res = await fetch(`${gitfunc.url}/api/v1/reload?wait=1`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const data = ((await res.json()) as { data: { result: string; errors?: Array<{ file: string; line: number; col: number }> } }).data;
    const where = data.errors?.map((e) => `${e.file}:${e.line}:${e.col}`).join(', ') ?? '';
    brokenOutcome = `${data.result} (${where}); still serving ${await served()} (expected ${current})`;
  } else {
    await fetch(`${gitfunc.url}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    while ((await served()) !== version) await sleep(5);
    toServing.push(performance.now() - from);
    current = version;
  }
  windows.push({ from, to: performance.now() + TAIL_MS });
  await sleep(PAUSE_MS);
}
load.stop();
const result = await loadDone;
child.kill('SIGKILL');
await exited;
await git.close();

const during = (at: number): boolean => windows.some((w) => at >= w.from && at <= w.to);
const reloading = answers.filter((a) => during(a.at)).map((a) => a.ms);
const steady = answers.filter((a) => !during(a.at)).map((a) => a.ms);
const fmt = (ms: number): string => ms.toFixed(ms < 10 ? 1 : 0);
const rows = [
  '| measure | value | target |',
  '|---|---|---|',
  `| calls made (${CONNECTIONS} connections) | ${result.requests.total} | |`,
  `| non-2xx answers | ${result.non2xx} | 0 |`,
  `| errors (timeouts, resets) | ${result.errors} | 0 |`,
  `| p50 / p99 latency, steady state (${steady.length} calls) | ${fmt(percentile(steady, 50))} / ${fmt(percentile(steady, 99))} ms | |`,
  `| p50 / p99 latency, during reloads (${reloading.length} calls) | ${fmt(percentile(reloading, 50))} / ${fmt(percentile(reloading, 99))} ms | |`,
  `| reload request → new code serving, p50 / max (${toServing.length} reloads, ${SCRIPTS} scripts) | ${fmt(percentile(toServing, 50))} / ${fmt(Math.max(...toServing))} ms | p50 ≤ 1000 ms |`,
  `| broken push ${BROKEN_PUSH} | ${brokenOutcome} | never served |`,
];
process.stdout.write(`${rows.join('\n')}\n`);
