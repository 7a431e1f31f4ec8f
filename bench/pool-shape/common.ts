/** What bench/pool-shape's sections share: settings, helpers, the revision the Python workers serve. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { CallDispatcher } from '../../src/runtime/call-dispatcher.js';
import type { CallRequest, RevisionRef, WarmTask } from '../../src/runtime/worker-protocol.cjs';
import { WorkerSlot } from '../../src/runtime/worker-slot.js';

/** Workers of every pool measured. */
export const N = Number(process.env.BENCH_WORKERS ?? 2);
export const ECHO_WORKER = new URL('./echo-worker.cjs', import.meta.url).href;

export const logger = pino({ level: 'silent' });
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const pct = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
export const median = (values: number[]): number => pct(values, 0.5);
export const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export type Row = string[];
/** One table of the output. */
export interface Section {
  title: string;
  header: Row;
  rows: Row[];
}

export type CallInput = CallRequest;
/** What a call ended as (taken from the dispatcher, wherever the type itself lives). */
export type CallResult = Awaited<ReturnType<CallDispatcher['call']>>;

/** A revision of one script, `bench/load.py`, in a temporary directory. */
export interface BenchRevision {
  dir: string;
  ref: RevisionRef;
  live: string[];
  warm: WarmTask;
  /** A call of `bench__load.<funcId>`. */
  callOf(funcId: string, kwargs: object): CallInput;
}

export function createBenchRevision(): BenchRevision {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-pool-shape-'));
  mkdirSync(path.join(dir, 'bench'));
  writeFileSync(
    path.join(dir, 'bench', 'load.py'),
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
  const ref: RevisionRef = { id: 'bench', dir, env: {} };
  const live = [ref.id];
  return {
    dir,
    ref,
    live,
    warm: { type: 'warm', revision: ref, live },
    callOf: (funcId, kwargs) => ({
      revision: ref,
      live,
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
    }),
  };
}

/** N one-thread Piscinas; a task goes to the first started, idle one, else waits (as WorkerPool.run). */
export class SlotSet {
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

