// A broken commit is never served: the previous revision keeps answering, the status shows the
// failed commit with each error's position, and a later good push recovers.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { postReload, reloadStatus, servedVersion, versionRepo, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(versionRepo('v1'));
await git.publish('funcs', work.dir);
const configFile = path.join(os.tmpdir(), `gitfunc-reload-broken-${process.pid}.yaml`);
// A short import limit keeps the hanging-import cases quick.
writeFileSync(configFile, 'limits:\n  importSeconds: 1\ncallTimeoutGraceMs: 500\n');
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0', '--config', configFile], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;
const good = await work.head();

/** Pushes `files` over the v1 repository and asks for a reload; resolves with its outcome. */
async function pushAndReload(files: Record<string, string>, message: string): Promise<{ commit: string; outcome: any }> {
  const commit = await work.commit({ ...versionRepo('v1'), ...files }, message);
  await git.publish('funcs', work.dir);
  return { commit, outcome: (await postReload(base, true)).data };
}

/** Checks that `commit` failed with errors matching `expected`, and that v1 of `good` still serves. */
async function expectFailed(t: Test, commit: string, outcome: any, expected: object[]): Promise<void> {
  t.match(outcome, { result: 'failed', commit, errors: expected });
  const status = await adminGet(base, '/api/v1/status');
  t.equal(status.revision.commit, good, 'the last good commit is still served');
  t.match(status.reload.lastFailed, { commit, source: 'manual', errors: expected }, 'status shows the failed commit');
  for (const error of status.reload.lastFailed.errors) {
    t.ok(Number.isInteger(error.line) && Number.isInteger(error.col) && typeof error.file === 'string', 'each error has a position');
  }
  t.equal(await servedVersion(base), 'v1');
}

t.test('a broken manifest', async (t) => {
  const { commit, outcome } = await pushAndReload({ 'gitfunc.yaml': 'version: 1\nsyncAPIs:\n  - id: version\n    func: 42\n' }, 'bad manifest');
  await expectFailed(t, commit, outcome, [{ file: 'gitfunc.yaml', line: 4, col: Number }]);
});

t.test('a SyntaxError', async (t) => {
  const source = versionRepo('v1')['demo/v.py']!.replace('def version():', 'def version(:');
  const { commit, outcome } = await pushAndReload({ 'demo/v.py': source }, 'syntax error');
  await expectFailed(t, commit, outcome, [{ file: 'demo/v.py', line: 6, col: Number, message: /SyntaxError/ }]);
});

t.test('a function the manifest names but the code lacks', async (t) => {
  const manifest = versionRepo('v1')['gitfunc.yaml']!.replace('demo__v.slow', 'demo__v.gone');
  const { commit, outcome } = await pushAndReload({ 'gitfunc.yaml': manifest }, 'missing function');
  await expectFailed(t, commit, outcome, [{ file: 'gitfunc.yaml', line: 6, col: Number, message: /gone/ }]);
});

t.test('a module-level endless loop is stopped, and calls are served meanwhile', async (t) => {
  const source = `${versionRepo('v1')['demo/v.py']}\nwhile True:\n    pass\n`;
  const commit = await work.commit({ 'demo/v.py': source }, 'endless loop');
  await git.publish('funcs', work.dir);
  let importHangs = true;
  const reload = postReload(base, true).finally(() => (importHangs = false));
  await waitUntil('building', async () => (await reloadStatus(base)).buildingCommit === commit);
  t.equal(await servedVersion(base), 'v1', 'a call during the hanging import is answered');
  t.ok(importHangs, 'while the import still hangs: it runs in its own worker');
  await expectFailed(t, commit, (await reload).data, [{ file: 'demo/v.py', message: /did not finish within the time allowed/ }]);
});

// A loop in C that never checks for the interrupt (time.sleep was one until it stopped spinning).
t.test('a module-level loop in C past the limit has the import worker replaced', async (t) => {
  const source = versionRepo('v1')['demo/v.py']!.replace('import time\n', 'import time\nsum(range(10**12))\n');
  const { commit, outcome } = await pushAndReload({ 'demo/v.py': source }, 'import stuck in C');
  await expectFailed(t, commit, outcome, [{ file: '*.py', message: /did not stop when interrupted/ }]);
});

t.test('a module-level allocation past memory fails the commit, and the import worker is replaced', async (t) => {
  // 2**29 list slots are more than a 32-bit interpreter can address: MemoryError at once.
  const source = versionRepo('v1')['demo/v.py']!.replace('import time\n', 'import time\nHOARD = [0] * (2 ** 29)\n');
  const { commit, outcome } = await pushAndReload({ 'demo/v.py': source }, 'huge allocation');
  await expectFailed(t, commit, outcome, [{ file: 'demo/v.py', line: 2, message: /^MemoryError/ }]);
  t.ok(gitfunc.logs.some((line) => line.msg === 'an import ran out of memory: replacing the import check worker'));
});

t.test('a failed commit is not rebuilt by polls or webhooks, only by a manual reload', async (t) => {
  const { commit, outcome } = await pushAndReload({ 'demo/v.py': 'def broken(:\n' }, 'broken again');
  t.match(outcome, { result: 'failed', commit });
  const builds = (await reloadStatus(base)).builds;
  for (const source of ['poll', 'webhook', 'push'] as const) {
    t.same(await gitfunc.server.reloader.reloadNow({ source }), { result: 'knownFailed', commit }, source);
  }
  t.equal((await reloadStatus(base)).builds, builds, 'not built again');
  t.match((await postReload(base, true)).data, { result: 'failed', commit }, 'a manual reload retries it');
  t.equal((await reloadStatus(base)).builds, builds + 1);
});

t.test('a later good push recovers', async (t) => {
  const commit = await work.commit(versionRepo('v2'), 'fixed');
  await git.publish('funcs', work.dir);
  t.match((await postReload(base, true)).data, { result: 'served', commit, previousCommit: good });
  t.equal(await servedVersion(base), 'v2');
  const status = await adminGet(base, '/api/v1/status');
  t.equal(status.revision.commit, commit);
  t.match(status.reload, { state: 'idle', lastFetchedCommit: commit, lastFailed: { commit: String } }, 'the last failure stays on record');
});
