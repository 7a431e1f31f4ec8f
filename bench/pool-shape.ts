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
 * The one-pool prototype is pool-shape/one-piscina-pool.ts. See docs/architecture.md.
 * Run: npx tsx bench/pool-shape.ts   (BENCH_WORKERS=2, BENCH_LATENCY_ROUNDS=15, BENCH_CAPACITY_RUNS=2,
 * BENCH_SNAPSHOT_DIR, BENCH_ONLY=ABCD)
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InterpreterSnapshot } from '../src/runtime/snapshot/snapshot-cache.js';
import { blockCodeGenerationInNewContexts } from '../src/runtime/worker-isolation.js';
import { capacityRows } from './pool-shape/capacity.js';
import { createBenchRevision, logger, N, type Row, type Section } from './pool-shape/common.js';
import { queueRules } from './pool-shape/queue-rules.js';
import { echoRoundTrips, pythonRoundTrips } from './pool-shape/round-trips.js';

const SNAPSHOT_DIR = process.env.BENCH_SNAPSHOT_DIR ?? path.join(os.tmpdir(), 'gitfunc-test-snapshots');
const ONLY = process.env.BENCH_ONLY ?? 'ABCD';

function print(sections: Section[]): void {
  for (const section of sections) {
    const all = [section.header, ...section.rows];
    const widths = section.header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    const line = (r: Row): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log(`\n${section.title}\n`);
    console.log(line(section.header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const row of section.rows) console.log(line(row));
  }
  console.log(`\n${N} workers; A and B: median over alternating rounds of each round's p50 / p90; load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
}

const revision = createBenchRevision();
try {
  // The workers check that code generation from strings is off (as WorkerPool sets it).
  blockCodeGenerationInNewContexts();
  const snapshot = new InterpreterSnapshot({ enabled: true, dir: SNAPSHOT_DIR }, logger);
  snapshot.prepare();
  const sections: Section[] = [];
  if (ONLY.includes('A')) sections.push(await echoRoundTrips());
  if (ONLY.includes('B')) sections.push(await pythonRoundTrips(snapshot, revision));
  if (ONLY.includes('C')) sections.push(await capacityRows(snapshot, revision));
  if (ONLY.includes('D')) sections.push(await queueRules());
  await snapshot.close();
  print(sections);
} finally {
  rmSync(revision.dir, { recursive: true, force: true });
}
