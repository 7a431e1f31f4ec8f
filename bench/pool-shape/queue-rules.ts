/** bench/pool-shape D: the Piscina queue rules behind C, on an echo worker whose later threads start slowly. */
import { Piscina } from 'piscina';
import { WorkerSlot } from '../../src/runtime/worker-slot.js';
import { ECHO_WORKER, N, type Section, SlotSet, sleep } from './common.js';

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

export async function queueRules(): Promise<Section> {
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

  return {
    title: `D. Piscina's queue rules, echo worker; a thread started after the pool is up takes ${SLOW_START_MS} ms to start`,
    header: ['check', `${N} one-thread Piscinas`, `one Piscina`],
    rows: [
      [`a worker restarting, the other${N > 2 ? 's' : ''} busy 100 ms: a new task waits`, restarted.slots, `${restarted.one} (Piscina's balancer)`],
      ['a warm-up for a replacement still starting, all workers idle: a new task waits', `${ordinarySlots.ms.toFixed(0)} ms`, `${ordinary.ms.toFixed(0)} ms (aiming balancer, maxThreads ${N + 1})`],
      [`${N + 1} tasks at once on ${N} idle workers, maxThreads ${N + 1}: threads before → after`, `${N} → ${N} (fixed)`, `${before} → ${after}`],
    ],
  };
}
