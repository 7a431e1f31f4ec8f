/** bench/pool-shape A and B: round trips through one N-thread Piscina and N one-thread Piscinas. */
import { Piscina } from 'piscina';
import { WorkerPool } from '../../src/runtime/pool.js';
import type { InterpreterSnapshot } from '../../src/runtime/snapshot/snapshot-cache.js';
import { type BenchRevision, type CallResult, ECHO_WORKER, logger, median, N, pct, type Row, type Section, SlotSet, sleep, us } from './common.js';
import { OnePiscinaPool } from './one-piscina-pool.js';

/** Rounds, the shapes alternating in each (a shared, loaded machine drifts). */
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 15);
const ECHO_TASKS = 1000;
const PY_CALLS = 400;

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

/** A: Piscina's own cost per task, one pool against N one-thread pools. */
export async function echoRoundTrips(): Promise<Section> {
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
  return latencyRows('A. echo task, Piscina only', results);
}

/** B: a real Python call through CallDispatcher, on WorkerPool (N one-thread Piscinas) and on one Piscina. */
export async function pythonRoundTrips(snapshot: InterpreterSnapshot, revision: BenchRevision): Promise<Section> {
  const slots = new WorkerPool({ workers: N, timeoutGraceMs: 1000, maxQueue: 1024, snapshot: snapshot.source }, logger);
  const one = new OnePiscinaPool({ workers: N, maxThreads: N, balancer: 'default', snapshot: snapshot.source }, logger);
  await slots.warm(revision.ref, revision.live);
  while (slots.workerStatus().threads.filter((t) => t.ready).length < N || one.started.size < N) await sleep(20);
  await one.warmAll(revision.warm);
  const call = revision.callOf('echo', { x: 1 });
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
  return latencyRows('B. Python call (echo) through CallDispatcher', results);
}

function latencyRows(title: string, results: Record<string, Record<number, Latencies[]>>): Section {
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
  return { title, header: ['load', `${N} one-thread Piscinas p50 / p90`, `one ${N}-thread Piscina p50 / p90`, 'one ÷ slots'], rows };
}
