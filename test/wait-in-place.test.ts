// A quiet server's sync calls "wait in place": the server thread polls for the result and the
// worker for its next batch instead of parking (docs/performance.md, "Waiting in place when
// quiet"). Only a lone sync call on a server that had no other for a while does; the calls of a
// real pool answer right through both polls, a bridge request in the middle included.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createLogger } from '../src/log.js';
import type { CallResult } from '../src/model/call-result.js';
import { CallDispatcher } from '../src/runtime/call-dispatcher.js';
import { WorkerPool } from '../src/runtime/pool.js';
import type { CallTask } from '../src/runtime/worker-protocol.cjs';
import { callInPool, manualCall } from './helpers/pool-call.js';
import { sharedSnapshot } from './helpers/shared-snapshot.js';

const REQUEST = manualCall({ id: 'f'.repeat(40), dir: '/nowhere', env: {} }, [], 'demo__main.f');

/** A dispatcher whose batches are answered on the next turn of the event loop; `waits` gets each batch's flag. */
function recordingDispatcher(): { dispatcher: CallDispatcher; waits: boolean[] } {
  const waits: boolean[] = [];
  const dispatcher: CallDispatcher = new CallDispatcher(
    { slots: 2, backgroundSlots: 1, timeoutGraceMs: 1000, maxQueue: 10 },
    {
      runBatch: (calls: CallTask[], waitInPlace: boolean) => {
        waits.push(waitInPlace);
        return new Promise((resolve) =>
          setImmediate(() => {
            for (const call of calls) dispatcher.onResult(call.callId, { kind: 'json', body: '1', log: null });
            resolve(undefined);
          }),
        );
      },
      terminateThread: () => undefined,
    },
    createLogger('silent'),
  );
  return { dispatcher, waits };
}

const call = (dispatcher: CallDispatcher, lane: 'sync' | 'background' = 'sync'): Promise<CallResult> => dispatcher.call(REQUEST, 5000, lane);

t.test('a lone caller waits in place; a second caller stops it for the quiet window', async (t) => {
  const { dispatcher, waits } = recordingDispatcher();
  for (let i = 0; i < 3; i++) await call(dispatcher);
  t.same(waits, [true, true, true], 'one call at a time: every batch waits in place');

  waits.length = 0;
  await Promise.all([call(dispatcher), call(dispatcher)]);
  t.same(waits, [true, false], 'the call that came while another ran does not');
  await call(dispatcher);
  t.same(waits, [true, false, false], 'nor does a lone call right after');

  waits.length = 0;
  await sleep(120);
  await call(dispatcher);
  t.same(waits, [true], 'once the server was quiet again, it does');
});

t.test('background calls never wait in place', async (t) => {
  const { dispatcher, waits } = recordingDispatcher();
  await call(dispatcher, 'background');
  t.same(waits, [false]);
});

t.test('one worker answers back-to-back quiet calls right, with a bridge request among them', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-wait-in-place-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'demo'));
  writeFileSync(
    path.join(dir, 'demo', 'main.py'),
    [
      'import gitfunc_bridge',
      '_calls = []',
      '',
      "@DFF.API('Count')",
      'def count():',
      '    _calls.append(1)',
      '    return len(_calls)',
      '',
      "@DFF.API('Doubled')",
      'def doubled():',
      "    return gitfunc_bridge.request('test.double', {'n': len(_calls)})",
      '',
    ].join('\n'),
  );
  const snapshot = sharedSnapshot(t);
  const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 1000, maxQueue: 10, snapshot: snapshot.source }, createLogger('silent'));
  snapshot.prepare();
  t.teardown(() => pool.close());
  pool.bridge.register('test.double', (args) => Promise.resolve((args as { n: number }).n * 2));
  const revision = { id: 'e'.repeat(40), dir, env: {} };
  const body = async (funcId: string): Promise<unknown> => {
    const result = await callInPool(pool, revision, [revision.id], funcId);
    return result.kind === 'json' || result.kind === 'text' ? JSON.parse(result.body) : result;
  };
  await body('demo__main.count');
  const firstThread = pool.workerStatus().threads[0]!.threadId;

  const answers: unknown[] = [];
  for (let i = 2; i <= 40; i++) {
    answers.push(await body('demo__main.count'));
    if (i % 4 === 0) answers.push(await body('demo__main.doubled'));
  }
  const expected: unknown[] = [];
  for (let i = 2; i <= 40; i++) {
    expected.push(i);
    if (i % 4 === 0) expected.push(i * 2);
  }
  t.same(answers, expected, 'each call got its own answer, in order');
  t.equal(pool.workerStatus().threads[0]!.threadId, firstThread, 'on the same worker throughout');
});
