// A deadline's interrupt is never lost, wherever it lands. Pyodide polls its interrupt buffer by
// reading it and then writing 0: a SIGINT stored between the two was wiped out, and a looping
// script ran on until its worker was terminated (about 2 in 1000 interrupts of a tight loop).
// Many import checks with a deadline of a few ms put interrupts at every point of the check,
// including just outside the runtime's own `except KeyboardInterrupt`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../src/log.js';
import { WorkerPool } from '../src/runtime/pool.js';
import { sharedSnapshot } from './helpers/shared-snapshot.js';

const INTERRUPTS = 600;

t.test(`${INTERRUPTS} interrupts of a tight loop: each stops Python, none needs the worker terminated`, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-interrupts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'demo'));
  writeFileSync(path.join(dir, 'demo', 'spin.py'), 'ticks = 0\nwhile True:\n    ticks += 1\n');
  // A long grace: a busy machine must not pass for an interrupt that was ignored.
  const snapshot = sharedSnapshot(t);
  const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 3000, maxQueue: 1, snapshot: snapshot.source }, createLogger('silent'));
  snapshot.prepare();
  t.teardown(() => pool.close());
  const revision = { id: 'f'.repeat(40), dir, env: {} };
  const ignored: string[] = [];
  const threadIds = (): number[] => pool.workerStatus().threads.map((thread) => thread.threadId);
  let firstThreads: number[] | undefined;
  for (let i = 0; i < INTERRUPTS; i++) {
    const outcome = await pool.inspect(revision, [revision.id], 1 + (i % 5));
    firstThreads ??= threadIds();
    if (!outcome.interrupted) t.fail(`check ${i} ended without its interrupt`);
    for (const problem of outcome.problems) if (/did not stop when interrupted/.test(problem.message)) ignored.push(`check ${i}`);
  }
  t.same(ignored, [], 'no interrupt was lost');
  t.same(threadIds(), firstThreads, 'the worker was never replaced');
});
