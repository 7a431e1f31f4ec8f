/** bench/pool-shape C: capacity while a worker is recycled or crashes, under load. */
import { WorkerPool, type WorkerStatus } from '../../src/runtime/pool.js';
import type { InterpreterSnapshot } from '../../src/runtime/snapshot/snapshot-cache.js';
import { type BenchRevision, type CallResult, type CallInput, logger, N, type Row, secs, type Section, sleep } from './common.js';
import { OnePiscinaPool } from './one-piscina-pool.js';

/** Runs of each recycle or crash scenario. */
const CAPACITY_RUNS = Number(process.env.BENCH_CAPACITY_RUNS ?? 2);
/** Calls of the load: Python spinning this long each. */
const SPIN_MS = 5;
/** How long the load runs before (steady state) and after the recycle or crash starts. */
const WINDOW_MS = 4000;

interface Scenario {
  name: string;
  /** Starts a pool serving the bench revision on every worker; returns its controls. */
  start(): Promise<{
    call(): Promise<CallResult>;
    /** Workers that can take a call now without waiting for an interpreter start. */
    serving(): number;
    /** An id of a serving worker. */
    aWorker(): number;
    /** Starts the recycle or crash; resolves once the replacement takes calls. */
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
  const ends: { from: number; at: number; ms: number }[] = [];
  let crashed = 0;
  const client = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      const result = await pool.call();
      if (result.kind === 'crashed') crashed++;
      else if (result.kind !== 'text' && result.kind !== 'json') throw new Error(`${scenario.name}: call failed: ${JSON.stringify(result)}`);
      const at = performance.now();
      ends.push({ from: t0, at, ms: at - t0 });
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
  // Calls waiting when the window ended count too: a stall may outlast it.
  const overlapping = ends.filter((e) => e.at >= triggeredAt && e.from < triggeredAt + WINDOW_MS);
  const threadsAfter = pool.threads();
  await pool.close();
  return { belowNMs, crashed, doneRatio: during.length / steady, slowestMs: Math.max(...overlapping.map((e) => e.ms)), threadsAfter, recycleMs };
}

function workerPoolScenario(snapshot: InterpreterSnapshot, revision: BenchRevision, spin: CallInput, name: string, how: 'recycle' | 'crash'): Scenario {
  return {
    name,
    async start() {
      const pool = new WorkerPool({ workers: N, timeoutGraceMs: 1000, maxQueue: 1024, snapshot: snapshot.source }, logger);
      await pool.warm(revision.ref, revision.live);
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
  revision: BenchRevision,
  spin: CallInput,
  name: string,
  shape: { maxThreads: number; balancer: 'default' | 'ready' },
  how: 'crash' | 'retireThenExit' | 'recycleFirst',
): Scenario {
  return {
    name,
    async start() {
      const pool = new OnePiscinaPool({ workers: N, ...shape, snapshot: snapshot.source }, logger);
      while (pool.started.size < N) await sleep(20);
      await pool.warmAll(revision.warm);
      return {
        call: () => pool.call(spin, 10_000),
        serving: () => Math.min(N, pool.serving),
        aWorker: () => [...pool.started][0]!,
        async trigger(threadId) {
          if (how === 'recycleFirst') return pool.recycleFirst(threadId, revision.warm);
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

export async function capacityRows(snapshot: InterpreterSnapshot, revision: BenchRevision): Promise<Section> {
  const spin = revision.callOf('spin', { ms: SPIN_MS });
  const scenarios: Scenario[] = [
    workerPoolScenario(snapshot, revision, spin, `${N} one-thread Piscinas (now): recycle, replacement first`, 'recycle'),
    onePiscinaScenario(snapshot, revision, spin, `one Piscina, maxThreads ${N} + own balancer: recycle, exit first`, { maxThreads: N, balancer: 'ready' }, 'retireThenExit'),
    onePiscinaScenario(snapshot, revision, spin, `one Piscina, maxThreads ${N + 1} + own balancer: recycle, replacement first`, { maxThreads: N + 1, balancer: 'ready' }, 'recycleFirst'),
    workerPoolScenario(snapshot, revision, spin, `${N} one-thread Piscinas (now): crash`, 'crash'),
    onePiscinaScenario(snapshot, revision, spin, `one Piscina, maxThreads ${N}, Piscina's balancer: crash`, { maxThreads: N, balancer: 'default' }, 'crash'),
    onePiscinaScenario(snapshot, revision, spin, `one Piscina, maxThreads ${N + 1} + own balancer: crash`, { maxThreads: N + 1, balancer: 'ready' }, 'crash'),
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
  return {
    title: `C. ${N} clients calling spin(${SPIN_MS} ms) back to back; ${WINDOW_MS / 1000} s windows before and after the recycle/crash starts`,
    header: ['pool, event', `< ${N} workers serving`, 'event → done', 'calls done ÷ steady', 'slowest call', 'crashed calls', 'threads after'],
    rows,
  };
}
