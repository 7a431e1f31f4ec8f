/**
 * bench/async-api: what the async API costs and how fast its queue moves, in one run against
 * one gitfunc server (functions.example, 2 workers) started as a child process:
 *   1. sync reference: req/s and latency of the sync `summary` API (GET, simplified form,
 *      the call form bench/sync-api uses);
 *   2. async accept: accepted tasks/s and accept latency of POST /api/v1/async/summary-async/s;
 *   3. backed-up queue: once every accepted task has ended, accept→start (startTime -
 *      triggerTime) of those tasks and the drain rate (tasks ended per second of running);
 *   4. light load: tasks sent one at a time, a pause apart, so the queue stays short:
 *      their accept latency and accept→start.
 * Timings of queued tasks come from their task records (GET /api/v1/task-records, admin).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WORKERS = process.env.BENCH_WORKERS ?? '2';
const LIGHT_TASKS = Number(process.env.BENCH_LIGHT_TASKS ?? 200);
const LIGHT_PAUSE_MS = Number(process.env.BENCH_LIGHT_PAUSE_MS ?? 20);
/** Longest wait for the queue to empty, each time. */
const DRAIN_LIMIT_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 60);
const START_LIMIT_SECONDS = 120;

const SYNC_API = 'summary';
const ASYNC_API = 'summary-async';
const ADMIN_TOKEN = randomBytes(18).toString('base64url');
/** Every async task carries its phase in its kwargs, so its record says which phase sent it. */
const TEXT = { sync: 'sync bench call', warmup: 'async bench warmup', load: (round: number) => `async bench load r${round}`, light: 'async bench light' };
const PAGE = 500;

interface TaskRecord {
  id: string;
  kwargs: { text?: string };
  status: string;
  triggerTime: number;
  startTime?: number;
  endTime?: number;
}

interface Server {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

// ---- the server -------------------------------------------------------------------------

/** `gitfunc serve` on functions.example, on a free port, with a fresh data dir. */
function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-async-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('GITFUNC_')) env[name] = value;
  Object.assign(env, {
    GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
    GITFUNC_ASYNC_QUEUE_MAX: '100000000',
    // Every record of the run must survive until it is read.
    GITFUNC_TASKS_KEEP_PER_API: '100000000',
    GITFUNC_SHUTDOWN_DRAIN_SECONDS: '0',
    GITFUNC_SHUTDOWN_GRACE_SECONDS: '5',
  });
  const child = spawn(
    process.execPath,
    ['--import=tsx', path.join(ROOT, 'src/main.ts'), 'serve', '--port', '0', '--data-dir', dataDir, '--workers', WORKERS, '--log-level', 'info'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let ready = false;
    let tail = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gitfunc was not ready within ${START_LIMIT_SECONDS} s:\n${tail}`));
    }, START_LIMIT_SECONDS * 1000);
    const reader = (): ((chunk: Buffer) => void) => {
      let pending = '';
      return (chunk) => {
        if (ready) return; // the rest of the log is drained unread
        const text = chunk.toString();
        tail = (tail + text).slice(-4000);
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) onLine(line);
      };
    };
    const onLine = (line: string): void => {
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // not a log line
      }
      if (entry.msg === 'listening') url = entry.url;
      if (entry.msg === 'revision served' && url !== undefined && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve({ child, url, dataDir });
      }
    };
    child.stdout!.on('data', reader());
    child.stderr!.on('data', reader());
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (ready) return;
      rmSync(dataDir, { recursive: true, force: true });
      reject(new Error(`gitfunc exited (${code ?? signal}) before it was ready:\n${tail}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; then removes the data dir. */
async function stopServer(server: Server, graceMs = 15_000): Promise<void> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  rmSync(server.dataDir, { recursive: true, force: true });
}

// ---- HTTP helpers -----------------------------------------------------------------------

async function admin<T>(server: Server, pathAndQuery: string): Promise<T> {
  const response = await fetch(`${server.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = (await response.json()) as { ok: boolean; message: string; data: T };
  if (!response.ok || !body.ok) throw new Error(`GET ${pathAndQuery}: ${response.status} ${body.message}`);
  return body.data;
}

function recordsQuery(extra: Record<string, string>): string {
  return `/api/v1/task-records?${new URLSearchParams({ origin: 'asyncAPI', originId: ASYNC_API, ...extra })}`;
}

/** Waits until no task of the async API is queued or running; false at the time limit. */
async function waitDrained(server: Server): Promise<boolean> {
  const deadline = Date.now() + DRAIN_LIMIT_SECONDS * 1000;
  while (Date.now() < deadline) {
    let busy = false;
    for (const status of ['queued', 'running']) {
      const page = await admin<{ records: TaskRecord[] }>(server, recordsQuery({ status, limit: '1' }));
      busy ||= page.records.length > 0;
    }
    if (!busy) return true;
    await sleep(200);
  }
  return false;
}

/** Every record of the async API, newest first, page by page. */
async function allRecords(server: Server): Promise<TaskRecord[]> {
  const records: TaskRecord[] = [];
  let before: string | null = null;
  do {
    const query: Record<string, string> = { limit: String(PAGE) };
    if (before !== null) query.before = before;
    const page: { records: TaskRecord[]; next: string | null } = await admin(server, recordsQuery(query));
    records.push(...page.records);
    before = page.next;
  } while (before !== null);
  return records;
}

function syncLoad(server: Server, seconds: number): Promise<autocannon.Result> {
  const url = `${server.url}/api/v1/al/${SYNC_API}/simplified?${new URLSearchParams({ text: TEXT.sync })}`;
  return autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
}

function asyncLoad(server: Server, seconds: number, text: string): Promise<autocannon.Result> {
  return autocannon({
    url: `${server.url}/api/v1/async/${ASYNC_API}/s`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
  });
}

// ---- statistics -------------------------------------------------------------------------

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function count(result: autocannon.Result, status: number): number {
  return result.statusCodeStats?.[`${status}`]?.count ?? 0;
}

/** Answers other than 200, by status code, plus connection errors: "0" when there were none. */
function notOk(results: autocannon.Result[]): string {
  const byCode = new Map<string, number>();
  let errors = 0;
  for (const result of results) {
    errors += result.errors;
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
      if (code !== '200') byCode.set(code, (byCode.get(code) ?? 0) + (stats.count ?? 0));
    }
  }
  const parts = [...byCode].map(([code, n]) => `${n}×${code}`);
  if (errors > 0) parts.push(`${errors} conn errors`);
  return parts.length > 0 ? parts.join(', ') : '0';
}

/** Autocannon's req/s (mean of its per-second samples) counting only 200 answers. */
function okPerSecond(result: autocannon.Result): number {
  return result.requests.total > 0 ? (result.requests.average * count(result, 200)) / result.requests.total : 0;
}

interface QueueStats {
  tasks: number;
  unfinished: number;
  failed: number;
  acceptToStart: number[];
}

function queueStats(records: TaskRecord[]): QueueStats {
  const ended = records.filter((r) => r.endTime !== undefined && r.startTime !== undefined);
  return {
    tasks: records.length,
    unfinished: records.length - ended.length,
    failed: ended.filter((r) => r.status !== 'success').length,
    acceptToStart: records.filter((r) => r.startTime !== undefined).map((r) => r.startTime! - r.triggerTime),
  };
}

/** Tasks ended per second, from the first start to the last end of `records`. */
function drainRate(records: TaskRecord[]): number {
  const ended = records.filter((r) => r.endTime !== undefined && r.startTime !== undefined);
  if (ended.length === 0) return NaN;
  const first = ended.reduce((min, r) => Math.min(min, r.startTime!), Infinity);
  const last = ended.reduce((max, r) => Math.max(max, r.endTime!), -Infinity);
  return ended.length / (Math.max(1, last - first) / 1000);
}

const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

// ---- the run ----------------------------------------------------------------------------

const server = await startServer();
try {
  // Warm up JIT, workers and the database; the warm-up tasks are left out of every figure.
  await syncLoad(server, 2);
  await asyncLoad(server, 2, TEXT.warmup);
  await waitDrained(server);

  // Sync and async are measured in alternating rounds (this machine's speed drifts, so a ratio
  // is only fair between measurements taken moments apart), each sync round with the queue
  // empty: async tasks run on the same workers, so a draining queue would slow sync calls.
  const sync: autocannon.Result[] = [];
  const accept: autocannon.Result[] = [];
  const loadEnds: number[] = [];
  let drainedInTime = true;
  for (let round = 0; round < ROUNDS; round++) {
    sync.push(await syncLoad(server, ROUND_SECONDS));
    const result = await asyncLoad(server, ROUND_SECONDS, TEXT.load(round));
    accept.push(result);
    loadEnds.push(result.finish.getTime());
    drainedInTime = (await waitDrained(server)) && drainedInTime;
  }

  // Light load: one task at a time, a pause apart, so none waits behind a backlog.
  const submit = async (text: string): Promise<{ status: number; ms: number }> => {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/v1/async/${ASYNC_API}/s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  };
  for (let i = 0; i < 10; i++) await submit(TEXT.warmup); // fetch's own first-call costs
  const lightAccept: number[] = [];
  const lightNotOk = new Map<number, number>();
  for (let i = 0; i < LIGHT_TASKS; i++) {
    const { status, ms } = await submit(TEXT.light);
    lightAccept.push(ms);
    if (status !== 200) lightNotOk.set(status, (lightNotOk.get(status) ?? 0) + 1);
    await sleep(LIGHT_PAUSE_MS);
  }
  drainedInTime = (await waitDrained(server)) && drainedInTime;

  const records = await allRecords(server);
  const byText = (text: string): TaskRecord[] => records.filter((r) => r.kwargs.text === text);
  const loadRounds = accept.map((_, round) => byText(TEXT.load(round)));
  const heavy = queueStats(loadRounds.flat());
  const light = queueStats(byText(TEXT.light));
  const drainRates = loadRounds.map(drainRate);
  // Tasks not yet started when the load stopped, and how long the queue took to empty after.
  const backlogs = loadRounds.map((rs, round) => rs.filter((r) => r.startTime === undefined || r.startTime > loadEnds[round]!).length);
  const drainAfter = loadRounds.map((rs, round) => (rs.reduce((max, r) => Math.max(max, r.endTime ?? NaN), -Infinity) - loadEnds[round]!) / 1000);
  const accepted = accept.reduce((sum, r) => sum + count(r, 200), 0);

  const syncRps = median(sync.map((r) => r.requests.average));
  const acceptRatio = median(accept.map((r, i) => okPerSecond(r) / sync[i]!.requests.average));
  const drainRatio = median(drainRates.map((rate, i) => rate / sync[i]!.requests.average));
  const lightNotOkText = [...lightNotOk].map(([code, n]) => `${n}×${code}`).join(', ') || '0';
  const ms = (values: number[], p: number): string => fmt(percentile(values, p));

  const lines = [
    `async API bench: ${WORKERS} workers, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_SECONDS} s (load rows: median of rounds)`,
    '',
    '| measurement | per s | p50 ms | p99 ms | max ms | not ok | ÷ sync req/s |',
    '|---|---|---|---|---|---|---|',
    `| 1) sync ${SYNC_API} (GET, query kwargs): req/s, latency | ${fmt(syncRps)} | ${fmt(median(sync.map((r) => r.latency.p50)))} | ${fmt(median(sync.map((r) => r.latency.p99)))} | ${fmt(Math.max(...sync.map((r) => r.latency.max)))} | ${notOk(sync)} | 1.00 |`,
    `| 2) async accept ${ASYNC_API} (POST, JSON kwargs): accepted/s, accept latency | ${fmt(median(accept.map(okPerSecond)))} | ${fmt(median(accept.map((r) => r.latency.p50)))} | ${fmt(median(accept.map((r) => r.latency.p99)))} | ${fmt(Math.max(...accept.map((r) => r.latency.max)))} | ${notOk(accept)} | ${fmt(acceptRatio, 2)} |`,
    `| 3) backed-up queue: accept→start (${heavy.tasks} tasks) | | ${ms(heavy.acceptToStart, 50)} | ${ms(heavy.acceptToStart, 99)} | ${ms(heavy.acceptToStart, 100)} | ${heavy.unfinished} unfinished, ${heavy.failed} failed | |`,
    `| 3) backed-up queue: drain, tasks ended/s | ${fmt(median(drainRates))} | | | | | ${fmt(drainRatio, 2)} |`,
    `| 4) light load (${LIGHT_TASKS} × 1, ${LIGHT_PAUSE_MS} ms apart): accept latency | | ${ms(lightAccept, 50)} | ${ms(lightAccept, 99)} | ${ms(lightAccept, 100)} | ${lightNotOkText} | |`,
    `| 4) light load: accept→start (${light.tasks} tasks) | | ${ms(light.acceptToStart, 50)} | ${ms(light.acceptToStart, 99)} | ${ms(light.acceptToStart, 100)} | ${light.unfinished} unfinished, ${light.failed} failed | |`,
    '',
    // A round's last requests (at most one per connection) may be queued by the server after
    // autocannon stopped counting their answers, so records may exceed the 200s by that many.
    `accepted in load rounds: ${accepted} answered 200, ${heavy.tasks} queued (answers cut off at the end of a round are not counted); ` +
      `not started when the load stopped: ${backlogs.join(' / ')} tasks; ` +
      `queue empty ${drainAfter.map((s) => fmt(s, 1)).join(' / ')} s after the load stopped (per round)`,
  ];
  if (!drainedInTime) lines.push(`WARNING: the queue did not empty within ${DRAIN_LIMIT_SECONDS} s (BENCH_DRAIN_SECONDS); unfinished tasks are left out of the timings`);
  if (heavy.tasks < accepted || heavy.tasks > accepted + ROUNDS * CONNECTIONS) {
    lines.push(`WARNING: ${accepted} tasks accepted but ${heavy.tasks} records found`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await stopServer(server);
}
