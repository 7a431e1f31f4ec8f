// Push to deploy through a webhook, end to end: a commit pushed to a real git server and
// announced by a signed GitHub push webhook serves new calls; a broken commit announced the
// same way is never served (status shows its error with its position), and a forged webhook
// reloads nothing.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { reloadStatus, servedVersion, versionRepo, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const SECRET = 'webhook-e2e-secret';
const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(versionRepo('v1'));
await git.publish('funcs', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_WEBHOOK_SECRET: SECRET,
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

/** Commits `files` and publishes them on the git server (a `git push`). */
async function push(files: Record<string, string>, message: string): Promise<string> {
  const commit = await work.commit(files, message);
  await git.publish('funcs', work.dir);
  return commit;
}

/** Sends GitHub's push event for `commit` on main, signed with `secret`. */
async function githubPush(commit: string, secret = SECRET): Promise<Response> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: commit, repository: { full_name: 'team/funcs' } });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return fetch(`${base}/api/v1/webhooks/git`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature },
    body,
  });
}

t.test('a signed push webhook makes the pushed commit serve', async (t) => {
  t.equal(await servedVersion(base), 'v1');
  const commit = await push(versionRepo('v2'), 'v2');
  const res = await githubPush(commit);
  t.equal(res.status, 202, 'accepted at once; the reload runs after the answer');
  await res.arrayBuffer();
  await waitUntil('serving v2', async () => (await servedVersion(base)) === 'v2');
  t.equal((await adminGet(base, '/api/v1/status')).revision.commit, commit);
});

t.test('a webhook with a wrong signature reloads nothing', async (t) => {
  const builds = (await reloadStatus(base)).builds;
  const commit = await push(versionRepo('v3'), 'v3');
  const res = await githubPush(commit, 'not-the-secret');
  t.equal(res.status, 401);
  t.match(await res.json(), { ok: false, error: 401.99 });
  // Give a wrongly started reload the time to show.
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(await servedVersion(base), 'v2', 'still the previous commit');
  t.equal((await reloadStatus(base)).builds, builds, 'no build ran');
});

t.test('a broken commit announced by webhook is never served; status shows where it broke', async (t) => {
  const files = versionRepo('v4');
  files['demo/v.py'] = files['demo/v.py']!.replace('def version():', 'def version(:');
  const broken = await push(files, 'broken');
  const res = await githubPush(broken);
  t.equal(res.status, 202);
  await res.arrayBuffer();
  await waitUntil('the broken commit failed', async () => (await reloadStatus(base)).lastFailed?.commit === broken);
  const status = await adminGet(base, '/api/v1/status');
  t.not(status.revision.commit, broken, 'the broken commit is not served');
  t.equal(await servedVersion(base), 'v2', 'the last good commit keeps serving (v3 was never announced)');
  t.match(status.reload.lastFailed.errors, [{ file: 'demo/v.py', line: Number, col: Number, message: /SyntaxError/ }]);

  const fixed = await push(versionRepo('v5'), 'fixed');
  const again = await githubPush(fixed);
  t.equal(again.status, 202);
  await again.arrayBuffer();
  await waitUntil('serving v5', async () => (await servedVersion(base)) === 'v5', 60_000);
});
