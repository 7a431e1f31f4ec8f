// Push to deploy: a new commit pushed to the git server and announced by POST /api/v1/reload
// serves every new call, a burst of requests costs one build, and calls already running
// during the swap finish on the revision they started on.
import t from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { postReload, reloadStatus, servedVersion, versionRepo, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(versionRepo('v1'));
await git.publish('funcs', work.dir);
// Two workers: one can warm the new commit while the other still runs an old call.
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0', '--workers', '2'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;
const first = await work.head();

/** Commits `version` and publishes it on the git server (a `git push`). */
async function push(version: string): Promise<string> {
  const commit = await work.commit(versionRepo(version), version);
  await git.publish('funcs', work.dir);
  return commit;
}

t.test('a pushed commit serves after POST /api/v1/reload', async (t) => {
  t.equal(await servedVersion(base), 'v1');
  const commit = await push('v2');
  const waited = await postReload(base, true);
  t.equal(waited.status, 200);
  t.match(waited.data, { result: 'served', commit, previousCommit: String });
  t.equal(await servedVersion(base), 'v2', 'the next call runs the new code');
  t.equal((await adminGet(base, '/api/v1/status')).revision.commit, commit, 'status names the served commit');

  const again = await postReload(base, true);
  t.same(again.data, { result: 'unchanged', commit }, 'nothing new: nothing rebuilt');

  await push('v3');
  const accepted = await postReload(base, false);
  t.equal(accepted.status, 202, 'without wait the request is accepted at once');
  t.match(accepted.data, { accepted: true, reload: { ref: 'main', lastRequest: { source: 'manual' } } });
  await waitUntil('serving v3', async () => (await servedVersion(base)) === 'v3');
});

t.test('a burst of reload requests ends in one build of the newest commit', async (t) => {
  const before = (await reloadStatus(base)).builds;
  const commit = await push('v4');
  const answers = await Promise.all(Array.from({ length: 10 }, () => postReload(base, false)));
  t.same(
    answers.map((answer) => answer.status),
    Array(10).fill(202),
  );
  await waitUntil('serving v4 and idle', async () => {
    const status = await reloadStatus(base);
    return status.state === 'idle' && status.lastFetchedCommit === commit && (await servedVersion(base)) === 'v4';
  });
  // Requests that came while the build ran are one more fetch, which finds nothing new.
  t.same((await postReload(base, true)).data, { result: 'unchanged', commit });
  t.equal((await reloadStatus(base)).builds - before, 1, 'one build for ten requests');
});

t.test('calls running during a swap finish on the revision they started on', async (t) => {
  // Long enough for the reload to end first even on a loaded machine (it takes ~1 s alone).
  const slow = fetch(`${base}/api/v1/al/slow/s?seconds=8`).then(async (res) => ({ status: res.status, text: await res.text() }));
  let slowDone = false;
  void slow.then(() => (slowDone = true));
  await waitUntil('running the slow call', async () => (await adminGet(base, '/api/v1/status')).pool.busyWorkers >= 1);

  const commit = await push('v5');
  const outcome = await postReload(base, true);
  t.match(outcome.data, { result: 'served', commit });
  t.notOk(slowDone, 'the swap did not wait for the running call');
  t.equal(await servedVersion(base), 'v5', 'new calls run the new commit at once');
  t.same(await slow, { status: 200, text: 'v4' }, 'the running call finished on the old revision');
});

t.test('old revision directories are removed, the newest kept', async (t) => {
  const removals = gitfunc.logs.filter((line) => line.msg === 'old revision directories removed').flatMap((line) => line.removed as string[]);
  t.ok(removals.includes(first), 'the first commit, no longer served, is gone');
  t.notOk(removals.includes(await work.head()), 'the served one stays');
});

t.test('the reload endpoint is an admin endpoint', async (t) => {
  const res = await fetch(`${base}/api/v1/reload`, { method: 'POST' });
  t.equal(res.status, 401);
  t.match(await res.json(), { ok: false, error: 401.99 });
  const bad = await fetch(`${base}/api/v1/reload?wait=maybe`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(bad.status, 400);
  t.match(await bad.json(), { ok: false, error: 400.43 });
});
