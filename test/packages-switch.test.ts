// Each revision imports its own installed packages: two revisions pinning different versions
// of a package live side by side in one worker and never see each other's modules, a revision
// without packages sees none, and a dropped revision's packages go with it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { callInPool } from './helpers/pool-call.js';
import { createLogger } from '../src/log.js';
import type { RevisionRef } from '../src/model/revision-ref.js';
import { installPackages } from '../src/packages/index.js';
import { WorkerPool } from '../src/runtime/pool.js';
import { sharedSnapshot } from './helpers/shared-snapshot.js';
import { buildWheel } from './helpers/wheels.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-packages-switch-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const wheelhouse = path.join(scratch, 'wheelhouse');
for (const version of ['1.0', '2.0']) {
  buildWheel(wheelhouse, 'tinyver', version, {
    'tinyver/__init__.py': `VERSION = ${JSON.stringify(version)}\nCALLS = []\n`,
    // Imported only inside the function: a lazy import must find the calling revision's version.
    'tinyver/sub.py': `VALUE = ${JSON.stringify(`sub ${version}`)}\n`,
  });
}

const SCRIPT = `
@DFF.API('Which tinyver')
def which():
    import tinyver
    import tinyver.sub
    tinyver.CALLS.append(1)
    return {'version': tinyver.VERSION, 'sub': tinyver.sub.VALUE, 'calls': len(tinyver.CALLS)}
`;
const options = { packagesDir: path.join(scratch, 'packages'), wheelhouse: [wheelhouse] };

async function revision(id: string, pins: string[]): Promise<RevisionRef> {
  const dir = path.join(scratch, id);
  mkdirSync(path.join(dir, 'demo'), { recursive: true });
  writeFileSync(path.join(dir, 'demo', 'main.py'), SCRIPT);
  const parsed = pins.map((pin, i) => ({ name: pin.split('==')[0]!, version: pin.split('==')[1]!, hashes: [], file: 'gitfunc.yaml', line: i + 1, col: 5 }));
  const installed = await installPackages(parsed, dir, options);
  if (installed.problems.length > 0) throw new Error(`${id} does not install: ${JSON.stringify(installed.problems)}`);
  return { id: id.padEnd(40, '0'), dir, env: {}, ...(installed.siteDir !== undefined ? { packagesDir: installed.siteDir } : {}) };
}

const one = await revision('a', ['tinyver==1.0']);
const two = await revision('b', ['tinyver==2.0']);
const none = await revision('c', []);

const snapshot = sharedSnapshot(t);
const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 500, maxQueue: 10, snapshot: snapshot.source }, createLogger('silent'));
snapshot.prepare();
t.teardown(() => pool.close());

async function which(rev: RevisionRef, live: string[]): Promise<{ kind: string; body: unknown; error?: unknown }> {
  const result = await callInPool(pool, rev, live, 'demo__main.which');
  if (result.kind === 'json') return { kind: 'json', body: JSON.parse(result.body) };
  return { kind: result.kind, body: null, error: 'error' in result ? result.error : undefined };
}

t.test('two revisions pinning different versions alternate in one worker with no mix', async (t) => {
  t.not(one.packagesDir, two.packagesDir, 'each version set has its own installed folder');
  t.equal(none.packagesDir, undefined, 'no folder without pins');
  const live = [one.id, two.id, none.id];
  t.same(await which(one, live), { kind: 'json', body: { version: '1.0', sub: 'sub 1.0', calls: 1 } });
  t.same(await which(two, live), { kind: 'json', body: { version: '2.0', sub: 'sub 2.0', calls: 1 } }, 'the worker that served 1.0 serves 2.0');
  t.same(await which(one, live), { kind: 'json', body: { version: '1.0', sub: 'sub 1.0', calls: 2 } }, "1.0's modules kept, state and all");
  t.same(await which(two, live), { kind: 'json', body: { version: '2.0', sub: 'sub 2.0', calls: 2 } });
});

t.test('a revision without packages imports none of another revision', async (t) => {
  const result = await which(none, [one.id, two.id, none.id]);
  t.equal(result.kind, 'error');
  t.match(result.error, { data: { exception: "ModuleNotFoundError: No module named 'tinyver'" } });
  t.same(await which(one, [one.id, two.id, none.id]), { kind: 'json', body: { version: '1.0', sub: 'sub 1.0', calls: 3 } });
});

t.test('a dropped revision takes its packages along; loaded again, it starts afresh', async (t) => {
  t.same(await which(two, [two.id]), { kind: 'json', body: { version: '2.0', sub: 'sub 2.0', calls: 3 } }, 'revision one dropped');
  t.same(await which(one, [one.id, two.id]), { kind: 'json', body: { version: '1.0', sub: 'sub 1.0', calls: 1 } }, 'mounted and imported again');
});
