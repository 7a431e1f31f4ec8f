// gitfunc runs under Node's permission model: reads only its package, the data dir and the
// shared snapshot dir, writes only those two, spawns no process. Run from dist/, as the README
// shows: tsx compiles through an esbuild child process, which the model refuses. dist/ is built
// here only when it is older than src/ (CI builds it before the tests): a build of a current
// dist/ still rewrites its copied assets, under other test files' processes running from it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { distIsCurrent } from './helpers/gitfunc-cli.js';
import { spawnGitfunc, waitReady } from './helpers/spawn-gitfunc.js';
import { EXAMPLE_REPO, SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
if (!distIsCurrent()) {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  execFileSync(process.execPath, ['scripts/copy-assets.mjs'], { cwd: ROOT });
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-permission-'));
const launcher = [
  // tap adds its process-info hook to NODE_OPTIONS of every child; the hook calls process.binding.
  '/usr/bin/env',
  '-u',
  'NODE_OPTIONS',
  process.execPath,
  '--experimental-permission',
  '--allow-worker',
  '--allow-addons',
  `--allow-fs-read=${ROOT}`,
  `--allow-fs-read=${dataDir}`,
  `--allow-fs-write=${dataDir}`,
  `--allow-fs-read=${SHARED_SNAPSHOT_DIR}`,
  `--allow-fs-write=${SHARED_SNAPSHOT_DIR}`,
  path.join(ROOT, 'bin', 'gitfunc.js'),
];
const gitfunc = await spawnGitfunc(['--repo', EXAMPLE_REPO, '--data-dir', dataDir, '--workers', '1', '--poll-seconds', '0'], {}, launcher);
t.teardown(() => gitfunc.child.kill('SIGKILL'));
await waitReady(gitfunc.url);

t.test('the permission model is on and the workers started under it', async (t) => {
  t.equal(gitfunc.logs.find((line) => line.msg === 'listening')?.nodePermissionModel, true);
  const res = await fetch(`${gitfunc.url}/api/v1/al/hello/simplified?message=hi`);
  t.equal(res.status, 200);
  t.same(await res.json(), { message: 'hi' });
});

t.test('an upload reaches the function: its folder in the data dir is mounted in Pyodide', async (t) => {
  const form = new FormData();
  form.append('file', new Blob(['city,temp\nBerlin,3\nParis,7\n'], { type: 'text/csv' }), 'report.csv');
  const res = await fetch(`${gitfunc.url}/api/v1/al/csv-summary/s`, { method: 'POST', body: form });
  const body = (await res.json()) as Record<string, unknown>;
  t.equal(res.status, 200, JSON.stringify(body));
  t.same(body, { file: 'report.csv', bytes: 27, rows: 3, header: ['city', 'temp'] });
});
