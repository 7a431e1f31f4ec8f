/**
 * bench/pool-shape: should the worker pool be ONE Piscina pool, or N one-thread Piscinas (what
 * src/runtime/pool.ts does)? Measures, on the repo's own worker entry (real Pyodide, from the
 * interpreter snapshot) and on an echo worker:
 *   A. a round trip of a trivial task through Piscina alone: one N-thread pool vs N one-thread
 *      pools (WorkerSlot), back to back and N at a time;
 *   B. the same for a real Python call through CallDispatcher (WorkerPool vs one Piscina);
 *   C. capacity while a worker is recycled or crashes, under load from N closed-loop clients:
 *      time with fewer than N workers able to take a call, calls done against the steady state,
 *      the slowest call, and threads left at the end;
 *   D. the Piscina queue rules behind C, on an echo worker whose replacements start slowly.
 * Run: npx tsx bench/pool-shape.ts   (BENCH_WORKERS=2, BENCH_LATENCY_ROUNDS=15, BENCH_CAPACITY_RUNS=2,
 * BENCH_SNAPSHOT_DIR, BENCH_ONLY=ABCD)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { pino } from 'pino';
import type { CallResult } from '../src/runtime/call-dispatcher.js';
import { WorkerPool, type WorkerStatus } from '../src/runtime/pool.js';
import { InterpreterSnapshot } from '../src/runtime/snapshot/snapshot-cache.js';
import { blockCodeGenerationInNewContexts } from '../src/runtime/worker-isolation.js';
import type { CallTask, RevisionRef, WarmTask } from '../src/runtime/worker-protocol.cjs';
import { WorkerSlot } from '../src/runtime/worker-slot.js';
import { OnePiscinaPool } from './pool-shape/one-piscina-pool.js';

const N = Number(process.env.BENCH_WORKERS ?? 2);
/** Rounds of A and B, the shapes alternating in each (a shared, loaded machine drifts). */
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 15);
/** Runs of each recycle or crash scenario of C. */
const CAPACITY_RUNS = Number(process.env.BENCH_CAPACITY_RUNS ?? 2);
const ECHO_TASKS = 1000;
const PY_CALLS = 400;
/** Calls of the load during a recycle or crash: Python spinning this long each. */
const SPIN_MS = 5;
/** How long the load runs before (steady state) and after the recycle or crash starts. */
const WINDOW_MS = 4000;
const SNAPSHOT_DIR = process.env.BENCH_SNAPSHOT_DIR ?? path.join(os.tmpdir(), 'gitfunc-test-snapshots');
const ECHO_WORKER = new URL('./pool-shape/echo-worker.cjs', import.meta.url).href;

const logger = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const median = (values: number[]): number => pct(values, 0.5);
const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

// ---- the revision every Python worker serves -------------------------------------------------
const work = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-pool-shape-'));
mkdirSync(path.join(work, 'bench'));
writeFileSync(
  path.join(work, 'bench', 'load.py'),
  `import time

@DFF.API('Echo')
def echo(x=None):
    return x

@DFF.API('Spin')
def spin(ms=5):
    end = time.perf_counter() + float(ms) / 1000
    while time.perf_counter() < end:
        pass
    return ms
`,
);
const REVISION: RevisionRef = { id: 'bench', dir: work, env: {} };
const LIVE = [REVISION.id];
const WARM: WarmTask = { type: 'warm', revision: REVISION, live: LIVE };

function callOf(funcId: string, kwargs: object): Omit<CallTask, 'callId' | 'interrupt' | 'interruptOffset'> {
  return {
    revision: REVISION,
    live: LIVE,
    funcId: `bench__load.${funcId}`,
    kwargsJson: JSON.stringify(kwargs),
    taskId: 'bench',
    origin: 'bench',
    originId: 'bench',
    attempt: 1,
    httpRequestJson: null,
    returnType: 'raw',
    cronExpr: null,
    uploadDir: null,
  };
}

interface Latencies {
  p50: number;
  p90: number;
}

/** `total` runs of `once`, `concurrency` at a time; each run's round trip. */
async function roundTrips(once: () => Promise<unknown>, total: number, concurrency: number): Promise<Latencies> {
  const times: number[] = [];
  const loop = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => loop(total / concurrency)));
  return { p50: pct(times, 0.5), p90: pct(times, 0.9) };
}

/** N one-thread Piscinas; a task goes to the first started, idle one, else waits (as WorkerPool.run). */
class SlotSet {
  readonly slots: WorkerSlot[];
  private readonly waiting: { task: unknown; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  constructor(filename: string, count: number) {
    const events = { onMessage: () => undefined, onStarted: () => this.serveWaiting(), onCreate: () => undefined, onDestroy: () => undefined, onError: () => undefined };
    this.slots = Array.from({ length: count }, () => new WorkerSlot({ filename }, events));
  }
  run(task: unknown): Promise<unknown> {
    const slot = this.slots.find((s) => s.free);
    if (slot !== undefined) return this.runOn(slot, task);
    return new Promise((resolve, reject) => this.waiting.push({ task, resolve, reject }));
  }
  private runOn(slot: WorkerSlot, task: unknown): Promise<unknown> {
    return slot.run(task as never).finally(() => this.serveWaiting());
  }
  private serveWaiting(): void {
    for (let slot = this.slots.find((s) => s.free); slot !== undefined && this.waiting.length > 0; slot = this.slots.find((s) => s.free)) {
      const next = this.waiting.shift()!;
      this.runOn(slot, next.task).then(next.resolve, next.reject);
    }
  }
  close(): Promise<unknown> {
    return Promise.all(this.slots.map((s) => s.destroy()));
  }
}

type Row = string[];
const sections: { title: string; header: Row; rows: Row[] }[] = [];

/** A: Piscina's own cost per task, one pool against N one-thread pools. */
async function echoRoundTrips(): Promise<void> {
  const one = new Piscina({ filename: ECHO_WORKER, minThreads: N, maxThreads: N, idleTimeout: Infinity });
  const slots = new SlotSet(ECHO_WORKER, N);
  while (!slots.slots.every((s) => s.free)) await sleep(10);
  const task = { n: 1 };
  const shapes = { one: () => one.run(task), slots: () => slots.run(task) };
  const results: Record<string, Record<number, Latencies[]>> = { one: { 1: [], [N]: [] }, slots: { 1: [], [N]: [] } };
  for (const [, run] of Object.entries(shapes)) await roundTrips(run, 1000, N); // JIT warm-up
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    for (const concurrency of [1, N]) {
      for (const [name, run] of Object.entries(shapes)) results[name]![concurrency]!.push(await roundTrips(run, ECHO_TASKS, concurrency));
    }
  }
  await Promise.all([one.destroy(), slots.close()]);
  latencyRows('A. echo task, Piscina only', results);
}

/** B: a real Python call through CallDispatcher, on WorkerPool (N one-thread Piscinas) and on one Piscina. */
async function pythonRoundTrips(snapshot: InterpreterSnapshot): Promise<void> {
  const slots = new WorkerPool({ workers: N, timeoutGraceMs: 1000, maxQueue: 1024, snapshot: snapshot.source }, logger);
  const one = new OnePiscinaPool({ workers: N, maxThreads: N, balancer: 'default', snapshot: snapshot.source }, logger);
  await slots.warm(REVISION, LIVE);
  while (slots.workerStatus().threads.filter((t) => t.ready).length < N || one.started.size < N) await sleep(20);
  await one.warmAll(WARM);
  const call = callOf('echo', { x: 1 });
  const checked = (result: CallResult): void => {
    if (result.kind !== 'text' && result.kind !== 'json') throw new Error(`call failed: ${JSON.stringify(result)}`);
  };
  const shapes = {
    one: async () => checked(await one.call(call, 10_000)),
    slots: async () => checked(await slots.call(call, 10_000)),
  };
  const results: Record<string, Record<number, Latencies[]>> = { one: { 1: [], [N]: [] }, slots: { 1: [], [N]: [] } };
  for (const [, run] of Object.entries(shapes)) await roundTrips(run, 300, N); // warm-up
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    for (const concurrency of [1, N]) {
      for (const [name, run] of Object.entries(shapes)) results[name]![concurrency]!.push(await roundTrips(run, PY_CALLS, concurrency));
    }
  }
  await Promise.all([slots.close(), one.close()]);
  latencyRows('B. Python call (echo) through CallDispatcher', results);
}

function latencyRows(title: string, results: Record<string, Record<number, Latencies[]>>): void {
  const rows: Row[] = [];
  for (const concurrency of [1, N]) {
    const of = (name: string, key: keyof Latencies): number => median(results[name]![concurrency]!.map((r) => r[key]));
    rows.push([
      concurrency === 1 ? 'back to back' : `${N} at a time`,
      `${us(of('slots', 'p50'))} / ${us(of('slots', 'p90'))}`,
      `${us(of('one', 'p50'))} / ${us(of('one', 'p90'))}`,
      `${(of('one', 'p50') / of('slots', 'p50')).toFixed(2)} / ${(of('one', 'p90') / of('slots', 'p90')).toFixed(2)}`,
    ]);
  }
  sections.push({ title, header: ['load', `${N} one-thread Piscinas p50 / p90`, `one ${N}-thread Piscina p50 / p90`, 'one ÷ slots'], rows });
}

// ---- C. capacity during a recycle or a crash ---------------------------------------------------

interface Scenario {
  name: string;
  /** Starts a pool serving REVISION on every worker; returns its controls. */
  start(): Promise<{
    call(): Promise<CallResult>;
    /** Workers that can take a call now without waiting for an interpreter start. */
    serving(): number;
    /** An id of a serving worker. */
    aWorker(): number;
    /** Starts the recycle or crash; resolves when the pool says it is done (or at once). */
    trigger(threadId: number): Promise<void>;
    threads(): number;
    close(): Promise<unknown>;
  }>;
}

interface Capacity {
  belowNMs: number;
  /** Calls answered 'crashed' (a crash kills the call it was running). */
  crashed: number;
  doneRatio: number;
  slowestMs: number;
  threadsAfter: number;
  recycleMs: number;
}

async function capacity(scenario: Scenario): Promise<Capacity> {
  const pool = await scenario.start();
  let stop = false;
  const ends: { at: number; ms: number }[] = [];
  let crashed = 0;
  const client = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      const result = await pool.call();
      if (result.kind === 'crashed') crashed++;
      else if (result.kind !== 'text' && result.kind !== 'json') throw new Error(`${scenario.name}: call failed: ${JSON.stringify(result)}`);
      ends.push({ at: performance.now(), ms: performance.now() - t0 });
    }
  };
  const clients = Array.from({ length: N }, client);
  await sleep(500); // settle
  const steadyFrom = performance.now();
  await sleep(WINDOW_MS);
  const triggeredAt = performance.now();
  let belowNMs = 0;
  let sampling = true;
  const sampler = (async () => {
    let last = performance.now();
    while (sampling) {
      await sleep(2);
      const now = performance.now();
      if (pool.serving() < N) belowNMs += now - last;
      last = now;
    }
  })();
  const recycleDone = pool.trigger(pool.aWorker()).then(() => performance.now() - triggeredAt);
  await sleep(WINDOW_MS);
  sampling = false;
  await sampler;
  stop = true;
  await Promise.all(clients);
  const recycleMs = await recycleDone;
  const steady = ends.filter((e) => e.at >= steadyFrom && e.at < triggeredAt).length;
  const during = ends.filter((e) => e.at >= triggeredAt && e.at < triggeredAt + WINDOW_MS);
  const threadsAfter = pool.threads();
  await pool.close();
  return { belowNMs, crashed, doneRatio: during.length / steady, slowestMs: Math.max(...during.map((e) => e.ms)), threadsAfter, recycleMs };
}

const spin = callOf('spin', { ms: SPIN_MS });

function workerPoolScenario(snapshot: InterpreterSnapshot, name: string, how: 'recycle' | 'crash'): Scenario {
  return {
    name,
    async start() {
      const pool = new WorkerPool({ workers: N, timeoutGraceMs: 1000, maxQueue: 1024, snapshot: snapshot.source }, logger);
      await pool.warm(REVISION, LIVE);
      const ready = (): WorkerStatus[] => pool.workerStatus().threads.filter((t) => t.ready && !t.retiring);
      while (ready().length < N) await sleep(20);
      return {
        call: () => pool.call(spin, 10_000),
        serving: () => Math.min(N, ready().length),
        aWorker: () => ready()[0]!.threadId,
        async trigger(threadId) {
          if (how === 'crash') {
            const before = new Set(ready().map((t) => t.threadId));
            pool.terminateThread(threadId);
            while (!ready().some((t) => !before.has(t.threadId))) await sleep(5);
            return;
          }
          // What a worker past limits.workerMaxCalls sets off (WorkerPool.onBatchReport); private, so reached by a cast.
          (pool as unknown as { recycle(id: number): void }).recycle(threadId);
          while (pool.workerStatus().recycled === 0 || pool.workerStatus().threads.some((t) => t.retiring)) await sleep(5);
        },
        threads: () => pool.workerStatus().threads.length,
        close: () => pool.close(),
      };
    },
  };
}

function onePiscinaScenario(
  snapshot: InterpreterSnapshot,
  name: string,
  shape: { maxThreads: number; balancer: 'default' | 'ready' },
  how: 'crash' | 'retireThenExit' | 'recycleFirst',
): Scenario {
  return {
    name,
    async start() {
      const pool = new OnePiscinaPool({ workers: N, ...shape, snapshot: snapshot.source }, logger);
      while (pool.started.size < N) await sleep(20);
      await pool.warmAll(WARM);
      return {
        call: () => pool.call(spin, 10_000),
        serving: () => Math.min(N, pool.serving),
        aWorker: () => [...pool.started][0]!,
        async trigger(threadId) {
          if (how === 'recycleFirst') return pool.recycleFirst(threadId, WARM);
          if (how === 'retireThenExit') return pool.retireThenExit(threadId);
          const next = pool.nextStarted();
          pool.terminateThread(threadId);
          await next;
        },
        threads: () => pool.piscina.threads.length,
        close: () => pool.close(),
      };
    },
  };
}

async function capacityRows(snapshot: InterpreterSnapshot): Promise<void> {
  const scenarios: Scenario[] = [
    workerPoolScenario(snapshot, `${N} one-thread Piscinas (now): recycle, replacement first`, 'recycle'),
    onePiscinaScenario(snapshot, `one Piscina, maxThreads ${N} + own balancer: recycle, exit first`, { maxThreads: N, balancer: 'ready' }, 'retireThenExit'),
    onePiscinaScenario(snapshot, `one Piscina, maxThreads ${N + 1} + own balancer: recycle, replacement first`, { maxThreads: N + 1, balancer: 'ready' }, 'recycleFirst'),
    workerPoolScenario(snapshot, `${N} one-thread Piscinas (now): crash`, 'crash'),
    onePiscinaScenario(snapshot, `one Piscina, maxThreads ${N}, Piscina's balancer: crash`, { maxThreads: N, balancer: 'default' }, 'crash'),
    onePiscinaScenario(snapshot, `one Piscina, maxThreads ${N + 1} + own balancer: crash`, { maxThreads: N + 1, balancer: 'ready' }, 'crash'),
  ];
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const runs: Capacity[] = [];
    for (let i = 0; i < CAPACITY_RUNS; i++) runs.push(await capacity(scenario));
    process.stderr.write(`${scenario.name}: ${JSON.stringify(runs)}\n`);
    rows.push([
      scenario.name,
      runs.map((r) => secs(r.belowNMs)).join(', '),
      runs.map((r) => secs(r.recycleMs)).join(', '),
      runs.map((r) => r.doneRatio.toFixed(2)).join(', '),
      runs.map((r) => `${r.slowestMs.toFixed(0)} ms`).join(', '),
      runs.map((r) => String(r.crashed)).join(', '),
      runs.map((r) => String(r.threadsAfter)).join(', '),
    ]);
  }
  sections.push({
    title: `C. ${N} clients calling spin(${SPIN_MS} ms) back to back; ${WINDOW_MS / 1000} s windows before and after the recycle/crash starts`,
    header: ['pool, event', `< ${N} workers serving`, 'event → done', 'calls done ÷ steady', 'slowest call', 'crashed calls', 'threads after'],
    rows,
  });
}

// ---- D. the Piscina rules behind C, with an echo worker whose later threads start slowly ----------

/** How long a thread started after the pools are up takes to start in D (a Pyodide restore). */
const SLOW_START_MS = 1500;

/** Piscina's loadBalancer for D: started workers only; a task marked `fresh` only to a worker not in `originals`. */
function aimedBalancer(started: Set<number>, originals: Set<number>): NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer'] {
  return (task, workers) => {
    const aimed = (task as unknown as Record<symbol, { fresh?: boolean } | null>)[Piscina.queueOptionsSymbol]?.fresh === true;
    for (const worker of workers) {
      if (worker.currentUsage !== 0 || !started.has(worker.id) || originals.has(worker.id) === aimed) continue;
      return worker;
    }
    return null;
  };
}

async function queueRules(): Promise<void> {
  const startDelay = new SharedArrayBuffer(4);
  const slowStarts = (on: boolean): void => {
    Atomics.store(new Int32Array(startDelay), 0, on ? SLOW_START_MS : 0);
  };
  const echo = { filename: ECHO_WORKER, workerData: { startDelay } };
  const timed = async (run: () => Promise<unknown>): Promise<{ ms: number; thread: number }> => {
    const t0 = performance.now();
    const thread = (await run()) as number;
    return { ms: performance.now() - t0, thread };
  };
  const show = (r: { ms: number; thread: number }, replacement: boolean): string => `${r.ms.toFixed(0)} ms, ${replacement ? 'on the restarting thread' : 'on a running thread'}`;

  // 1. One worker restarting after a crash, the others busy for 100 ms: where does a queued task go?
  slowStarts(false);
  const one = new Piscina({ ...echo, minThreads: N, maxThreads: N, idleTimeout: Infinity });
  const originalsOne = new Set((await Promise.all(Array.from({ length: N }, () => one.run({ ms: 20 })))) as number[]);
  const slots = new SlotSet(ECHO_WORKER, N);
  while (!slots.slots.every((slot) => slot.free)) await sleep(10);
  slowStarts(true);
  await one.threads[0]!.terminate();
  slots.slots[0]!.terminateThread();
  while (slots.slots[0]!.free) await sleep(5);
  const originalsSlots = new Set([slots.slots[1]!.threadId]);
  // Both shapes at once, so each sees its restarting worker still starting.
  const busy = Array.from({ length: N - 1 }, () => [one.run({ ms: 100 }), slots.run({ ms: 100 })]).flat();
  const [queuedOne, queuedSlots] = await Promise.all([timed(() => one.run({})), timed(() => slots.run({}))]);
  await Promise.all(busy);
  const restarted = {
    slots: show(queuedSlots, !originalsSlots.has(queuedSlots.thread)),
    one: show(queuedOne, !originalsOne.has(queuedOne.thread)),
  };
  await Promise.all([one.destroy(), slots.close()]);

  // 2. A warm-up aimed at a replacement still starting; every other worker idle: an ordinary task waits?
  slowStarts(false);
  const started = new Set<number>();
  const originals = new Set<number>();
  const aimedPool = new Piscina({ ...echo, minThreads: N, maxThreads: N + 1, idleTimeout: Infinity, loadBalancer: aimedBalancer(started, originals) });
  aimedPool.on('message', (message: { workerReady?: number }) => {
    if (message.workerReady !== undefined) started.add(message.workerReady);
  });
  while (started.size < N) await sleep(10);
  for (const id of started) originals.add(id);
  slowStarts(true);
  const aimed = aimedPool.run({ [Piscina.queueOptionsSymbol]: { fresh: true } });
  await sleep(20);
  const ordinary = await timed(() => aimedPool.run({}));
  await aimed;
  await aimedPool.destroy();
  // The same with one-thread Piscinas: the replacement's warm-up goes to its own Piscina.
  slowStarts(false);
  const slotsAgain = new SlotSet(ECHO_WORKER, N);
  while (!slotsAgain.slots.every((slot) => slot.free)) await sleep(10);
  slowStarts(true);
  const replacement = new WorkerSlot(echo, { onMessage: () => undefined, onStarted: () => undefined, onCreate: () => undefined, onDestroy: () => undefined, onError: () => undefined });
  const warmUp = replacement.run({} as never);
  await sleep(20);
  const ordinarySlots = await timed(() => slotsAgain.run({}));
  await warmUp;
  await Promise.all([slotsAgain.close(), replacement.destroy()]);

  // 3. maxThreads N + 1 (room for a replacement): N + 1 tasks at once on N idle workers.
  slowStarts(false);
  const roomy = new Piscina({ ...echo, minThreads: N, maxThreads: N + 1, idleTimeout: Infinity });
  await Promise.all(Array.from({ length: N }, () => roomy.run({ ms: 20 })));
  const before = roomy.threads.length;
  await Promise.all(Array.from({ length: N + 1 }, () => roomy.run({ ms: 50 })));
  await sleep(100);
  const after = roomy.threads.length;
  await roomy.destroy();

  sections.push({
    title: `D. Piscina's queue rules, echo worker; a thread started after the pool is up takes ${SLOW_START_MS} ms to start`,
    header: ['check', `${N} one-thread Piscinas`, `one Piscina`],
    rows: [
      [`a worker restarting, the other${N > 2 ? 's' : ''} busy 100 ms: a new task waits`, restarted.slots, `${restarted.one} (Piscina's balancer)`],
      ['a warm-up for a replacement still starting, all workers idle: a new task waits', `${ordinarySlots.ms.toFixed(0)} ms`, `${ordinary.ms.toFixed(0)} ms (aiming balancer, maxThreads ${N + 1})`],
      [`${N + 1} tasks at once on ${N} idle workers, maxThreads ${N + 1}: threads before → after`, `${N} → ${N} (fixed)`, `${before} → ${after}`],
    ],
  });
}

function print(): void {
  for (const section of sections) {
    const all = [section.header, ...section.rows];
    const widths = section.header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    const line = (r: Row): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log(`\n${section.title}\n`);
    console.log(line(section.header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const row of section.rows) console.log(line(row));
  }
  console.log(`\n${N} workers; A and B: median over ${LATENCY_ROUNDS} alternating rounds of each round's p50 / p90; load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
}

try {
  blockCodeGenerationInNewContexts();
  const snapshot = new InterpreterSnapshot({ enabled: true, dir: SNAPSHOT_DIR }, logger);
  snapshot.prepare();
  const only = process.env.BENCH_ONLY ?? 'ABCD';
  if (only.includes('A')) await echoRoundTrips();
  if (only.includes('B')) await pythonRoundTrips(snapshot);
  if (only.includes('C')) await capacityRows(snapshot);
  if (only.includes('D')) await queueRules();
  await snapshot.close();
  print();
} finally {
  rmSync(work, { recursive: true, force: true });
}
