// One worker holds several revisions side by side: the same script id in two commits never
// collides, and a revision no call uses any more is dropped from the worker.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { callInPool } from './helpers/pool-call.js';
import { createLogger } from '../src/log.js';
import { WorkerPool } from '../src/runtime/pool.js';
import { sharedSnapshot } from './helpers/shared-snapshot.js';

function makeRevision(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-ns-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const script = (version: string): string => `
import demo__shared

_loads = []

@DFF.API('Which version')
def which():
    _loads.append(1)
    return {'version': ${JSON.stringify(version)}, 'shared': demo__shared.VALUE, 'env': DFF.ENV('NAME'), 'calls': len(_loads)}
`;
const dirA = makeRevision({ 'demo/main.py': script('a'), 'demo/shared.py': 'VALUE = "shared-a"\n' });
const dirB = makeRevision({ 'demo/main.py': script('b'), 'demo/shared.py': 'VALUE = "shared-b"\n' });
const revA = { id: 'a'.repeat(40), dir: dirA, env: { NAME: 'env-a' } };
const revB = { id: 'b'.repeat(40), dir: dirB, env: { NAME: 'env-b' } };

const snapshot = sharedSnapshot(t);
const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 500, maxQueue: 10, snapshot: snapshot.source }, createLogger('silent'));
snapshot.prepare();
t.teardown(() => pool.close());

async function which(rev: typeof revA, live: string[]): Promise<Record<string, unknown>> {
  const result = await callInPool(pool, rev, live, 'demo__main.which');
  t.equal(result.kind, 'json', JSON.stringify(result));
  return JSON.parse((result as { body: string }).body) as Record<string, unknown>;
}

t.test('two commits of the same script live side by side in one worker', async (t) => {
  const both = [revA.id, revB.id];
  t.same(await which(revA, both), { version: 'a', shared: 'shared-a', env: 'env-a', calls: 1 });
  t.same(await which(revB, both), { version: 'b', shared: 'shared-b', env: 'env-b', calls: 1 });
  t.same(await which(revA, both), { version: 'a', shared: 'shared-a', env: 'env-a', calls: 2 }, 'module state kept per revision');
});

t.test('a revision dropped from the live set is reloaded from scratch', async (t) => {
  t.same(await which(revB, [revB.id]), { version: 'b', shared: 'shared-b', env: 'env-b', calls: 2 });
  // revA left the live set in the call above: its module state is gone.
  t.same(await which(revA, [revA.id, revB.id]), { version: 'a', shared: 'shared-a', env: 'env-a', calls: 1 });
});

t.test('inspect reports decorated functions and import errors with positions', async (t) => {
  const broken = makeRevision({
    'demo/main.py': script('c'),
    'demo/shared.py': 'VALUE = (\n',
    'demo/other.py': "@DFF.API('x', timeout=99999)\ndef f():\n    pass\n",
    'demo/boom.py': 'def helper():\n    raise RuntimeError("at import")\n\nhelper()\n',
    'demo/web.py': "@DFF.API('web')\ndef ip():\n    return _DFF_HTTP_REQUEST['ip']\n",
  });
  const outcome = await pool.inspect({ id: 'c'.repeat(40), dir: broken, env: {} }, ['c'.repeat(40)], 30_000);
  const byFile = Object.fromEntries(outcome.problems.map((p) => [p.file, p]));
  t.match(byFile['demo/shared.py'], { line: 1, message: /SyntaxError/ });
  t.match(byFile['demo/other.py'], { line: 1, message: /timeout must be between 1 and 3600/ });
  t.match(byFile['demo/boom.py'], { line: 2, message: 'RuntimeError: at import' });
  t.same(outcome.scriptIds, ['demo__boom', 'demo__main', 'demo__other', 'demo__shared', 'demo__web']);
  // Only a script that mentions _DFF_HTTP_REQUEST is sent the request with each call.
  const uses = Object.fromEntries(outcome.catalog.map((info) => [info.id, info.usesHttpRequest]));
  t.same(uses, { 'demo__web.ip': true });
});

t.test('an import that never ends is stopped at the import time limit, at its line', async (t) => {
  const looping = makeRevision({
    'demo/a_fine.py': "@DFF.API('fine')\ndef fine():\n    return 1\n",
    'demo/loop.py': 'import time\n\ncount = 0\nwhile True:\n    count += 1\n',
  });
  const started = performance.now();
  const outcome = await pool.inspect({ id: 'd'.repeat(40), dir: looping, env: {} }, ['d'.repeat(40)], 500);
  t.ok(performance.now() - started < 3000, 'stopped promptly');
  t.equal(outcome.interrupted, true);
  t.match(outcome.problems, [{ file: 'demo/loop.py', line: 5, message: /import did not finish within the time allowed/ }]);
  t.equal(outcome.cut, undefined, 'Python reported where it stopped: the check was not cut');
  // The worker was interrupted, not replaced: it still serves.
  t.same(await which(revA, [revA.id]), { version: 'a', shared: 'shared-a', env: 'env-a', calls: 1 });
});

t.test('an import sleeping past the limit is stopped at its line, in place', async (t) => {
  const sleeping = makeRevision({ 'demo/nap.py': 'import time\n\ntime.sleep(60)\n' });
  const outcome = await pool.inspect({ id: '9'.repeat(40), dir: sleeping, env: {} }, ['9'.repeat(40)], 300);
  t.equal(outcome.interrupted, true);
  t.match(outcome.problems, [{ file: 'demo/nap.py', line: 3, message: /import did not finish within the time allowed/ }]);
  t.equal(outcome.cut, undefined, 'Python reported where it stopped: the check was not cut');
});

// time.sleep was the C call that ignores the interrupt until it stopped spinning; sum over a range still does.
t.test('an import stuck in C past the limit gets its worker replaced', async (t) => {
  const stuck = makeRevision({ 'demo/stuck.py': 'total = sum(range(10**12))\n' });
  const outcome = await pool.inspect({ id: 'e'.repeat(40), dir: stuck, env: {} }, ['e'.repeat(40)], 300);
  t.equal(outcome.interrupted, true);
  t.match(outcome.problems, [{ message: /did not stop when interrupted/ }]);
  t.match(outcome.cut, { code: 'IMPORT_CHECK_STUCK', message: /did not stop when interrupted/, data: { deadlineMs: 300 } });
  t.same(await which(revA, [revA.id]), { version: 'a', shared: 'shared-a', env: 'env-a', calls: 1 });
});

t.test('print output is captured per call, each line capped, head and tail kept', async (t) => {
  const dir = makeRevision({
    'demo/chatty.py': [
      "@DFF.API('chatty')",
      'def chatty(lines=3, width=5):',
      '    for i in range(lines):',
      "        print('line', i, 'x' * width)",
      "    return 'done'",
      '',
    ].join('\n'),
  });
  const rev = { id: 'f'.repeat(40), dir, env: {} };
  const run = async (kwargs: Record<string, number>) => {
    const result = await pool.call(
      { revision: rev, live: [rev.id], funcId: 'demo__chatty.chatty', kwargsJson: JSON.stringify(kwargs), taskId: 'task-p', origin: 'manual', originId: 'p', attempt: 1, httpRequestJson: null,
      cronExpr: null, uploadDir: null, returnType: 'raw' },
      10_000,
    );
    return JSON.parse((result as { log: string }).log) as [number, string][];
  };
  const short = await run({ lines: 3, width: 2 });
  t.same(short.map(([, line]) => line), ['line 0 xx', 'line 1 xx', 'line 2 xx']);
  t.ok(short.every(([ms]) => Number.isInteger(ms) && ms >= 0), 'elapsed ms per line');

  const long = await run({ lines: 1500, width: 3000 });
  t.equal(long.length, 1001, '500 first lines, a marker, 500 last lines');
  t.match(long[0]![1], /^line 0 x+\.\.\.\(cut\)$/);
  t.equal(long[0]![1].length, 2000 + '...(cut)'.length);
  t.equal(long[500]![1], '...(500 lines cut)');
  t.match(long[1000]![1], /^line 1499 /);
});
