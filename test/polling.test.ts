// Polling fallback: without any webhook or reload request, a pushed commit is fetched and
// served on the next poll; a broken head is built once, not on every poll.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../src/log.js';
import { Reloader } from '../src/revision/reloader.js';
import { RevisionHolder } from '../src/revision/revision-holder.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import { ADMIN_TOKEN } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { reloadStatus, servedVersion, versionRepo, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const POLL_SECONDS = 0.3;

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(versionRepo('v1'));
await git.publish('funcs', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', String(POLL_SECONDS)], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

t.test('a pushed commit is served on the next poll', async (t) => {
  t.equal((await reloadStatus(base)).pollSeconds, POLL_SECONDS);
  const commit = await work.commit(versionRepo('v2'), 'v2');
  await git.publish('funcs', work.dir);
  await waitUntil('serving v2', async () => (await servedVersion(base)) === 'v2');
  t.match(await reloadStatus(base), { lastFetchedCommit: commit, lastRequest: { source: 'poll' } });
});

t.test('a broken head is built once, not on every poll', async (t) => {
  const broken = await work.commit({ 'demo/v.py': 'def broken(:\n' }, 'broken');
  await git.publish('funcs', work.dir);
  await waitUntil('the broken head failed', async () => (await reloadStatus(base)).lastFailed?.commit === broken);
  const after = await reloadStatus(base);
  // Three more polls.
  let fetches = 0;
  let lastFetchAt = after.lastFetchAt;
  await waitUntil('three more polls', async () => {
    const status = await reloadStatus(base);
    if (status.lastFetchAt !== lastFetchAt) {
      fetches++;
      lastFetchAt = status.lastFetchAt;
    }
    return fetches >= 3;
  });
  t.equal((await reloadStatus(base)).builds, after.builds, 'no build after the first failure');
  t.equal(await servedVersion(base), 'v2', 'the last good commit still serves');
});

t.test('polling is off when the ref is a commit id', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-poll-'));
  const storage = openSqliteStorage(dataDir);
  t.teardown(async () => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const reloader = (ref: string): Reloader =>
    new Reloader({
      source: { url: git.url('funcs'), ref, path: '', dataDir: '/nonexistent' },
      pollSeconds: 60,
      holder: new RevisionHolder(),
      build: () => Promise.reject(new Error('not built here')),
      warm: () => Promise.resolve(),
      onServed: () => undefined,
      history: storage.deploys,
      historyKeep: 50,
      logger: createLogger('silent'),
    });
  t.equal(reloader(await work.head()).pollSeconds, 0, 'a commit id never moves');
  t.equal(reloader('main').pollSeconds, 60);
  t.equal(reloader('v1.0').pollSeconds, 60, 'a tag may move');
});
