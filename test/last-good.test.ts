// The last good commit is remembered in the data dir: a restart serves it at once, whether the
// head is broken or the git server is down. One data dir belongs to one gitfunc process.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { reloadStatus, servedVersion, versionRepo, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc, type TestServer } from './helpers/start-gitfunc.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];


const git = await startGitServer();
let gitDown = false;
t.teardown(() => (gitDown ? undefined : git.close()));
const work = await createWorkRepo(versionRepo('v1'));
await git.publish('funcs', work.dir);
const good = await work.head();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-last-good-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const repoUrl = git.url('funcs');

/** gitfunc on the shared data dir. */
function start(): Promise<TestServer> {
  return startGitfunc(['--repo', repoUrl, '--ref', 'main', '--poll-seconds', '0', '--data-dir', dataDir], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
}

t.test('a served commit is remembered in the data dir', async (t) => {
  const gitfunc = await start();
  t.teardown(() => gitfunc.close());
  t.equal(await servedVersion(gitfunc.url), 'v1');
  t.match(JSON.parse(readFileSync(path.join(dataDir, 'last-good.json'), 'utf8')), { commit: good, ref: 'main' });
  t.match((await reloadStatus(gitfunc.url)).lastGood, { commit: good, servedAt: String });
});

t.test('a restart with a broken head serves the last good commit at once, then reports the head', async (t) => {
  const broken = await work.commit({ 'demo/v.py': 'def broken(:\n' }, 'broken');
  await git.publish('funcs', work.dir);
  const gitfunc = await start();
  t.teardown(() => gitfunc.close());
  t.equal((await adminGet(gitfunc.url, '/api/v1/status')).revision.commit, good, 'ready on the last good commit');
  t.equal(await servedVersion(gitfunc.url), 'v1');
  await waitUntil('the head fetched and built', async () => (await reloadStatus(gitfunc.url)).lastFailed?.commit === broken);
  const status = await adminGet(gitfunc.url, '/api/v1/status');
  t.equal(status.revision.commit, good, 'the broken head is not served');
  t.match(status.reload, { lastFetchedCommit: broken, lastFailed: { source: 'start', errors: [{ file: 'demo/v.py', line: 1 }] } });
});

t.test('one data dir, one process', async (t) => {
  const gitfunc = await start();
  const lockFile = path.join(dataDir, 'gitfunc.lock');
  t.equal(readFileSync(lockFile, 'utf8').trim(), String(process.pid), 'the lock file names the holder');

  await t.rejects(start(), { code: 'DATA_DIR_LOCKED' }, 'a second server in this process is refused');
  const second = await promisify(execFile)(executable, [...launcher, 'serve', '--port', '0', '--data-dir', dataDir, '--repo', repoUrl], {
    env: { PATH: process.env.PATH },
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  t.equal(second.code, 1, 'a second process exits with an error');
  t.match(second.stderr, `data dir ${dataDir} is in use by another gitfunc process (pid ${process.pid})`);
  await gitfunc.close();
  t.notOk(existsSync(lockFile), 'a clean stop releases the lock');
});

t.test('a restart with the git server down serves the last good commit; a stale lock is taken over', async (t) => {
  await git.close();
  gitDown = true;
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.once('exit', resolve));
  writeFileSync(path.join(dataDir, 'gitfunc.lock'), `${dead.pid}\n`);
  const gitfunc = await start();
  t.teardown(() => gitfunc.close());
  t.equal(readFileSync(path.join(dataDir, 'gitfunc.lock'), 'utf8').trim(), String(process.pid), 'the lock of the dead process is taken over');
  t.equal(await servedVersion(gitfunc.url), 'v1');
  await waitUntil('the fetch failed', async () => (await reloadStatus(gitfunc.url)).lastFetchError !== null);
  const status = await adminGet(gitfunc.url, '/api/v1/status');
  t.equal(status.revision.commit, good);
  t.match(status.reload.lastFetchError, { code: 'GIT_UNREACHABLE', message: /cannot reach/ });
});
