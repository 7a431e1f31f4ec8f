// Deploy history and rollback through a real server and a real git server: every reload attempt
// is recorded with its trigger, result, commit and errors (file:line:col) and survives a
// restart; a rollback serves an earlier commit and pins it (webhooks of the same head leave
// it), until an unpin or a new push.
import { execFile, spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { createWorkRepo, GIT_TEST_ENV, runGit } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { postReload, servedVersion, versionRepo, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc, type TestServer } from './helpers/start-gitfunc.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];

const SECRET = 'deploy-history-secret';
const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(versionRepo('v1'));
await git.publish('funcs', work.dir);
const v1 = await work.head();
// The data dir outlives the first server: the restart reads the same history.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-deploys-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

const start = (): Promise<TestServer> =>
  startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0', '--data-dir', dataDir], {
    GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
    GITFUNC_WEBHOOK_SECRET: SECRET,
  });
let gitfunc = await start();
t.teardown(() => gitfunc.close());
const base = (): string => gitfunc.url;

async function push(files: Record<string, string>, message: string): Promise<string> {
  const commit = await work.commit(files, message);
  await git.publish('funcs', work.dir);
  return commit;
}

/** GitHub's signed push event for `commit` on main. */
function webhook(commit: string): Promise<Response> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: commit, repository: { full_name: 'team/funcs' } });
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return fetch(`${base()}/api/v1/webhooks/git`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature },
    body,
  });
}

async function adminPost(pathname: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base()}${pathname}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

const deploys = (): Promise<any> => adminGet(base(), '/api/v1/deploys');

/** Waits for a new newest entry (id above `afterId`) and returns it. */
async function nextEntry(afterId: number): Promise<any> {
  let entry: any;
  await waitUntil('a new deploy entry', async () => {
    entry = (await deploys()).deploys[0];
    return entry !== undefined && entry.id > afterId;
  });
  return entry;
}

/**
 * Rewrites HEAD's message until the commit id starts with `prefix` (hashed here, as git does),
 * so two served commits share a prefix; returns the new commit, already on main.
 */
async function commitStartingWith(prefix: string): Promise<string> {
  const original = await runGit(work.dir, ['cat-file', 'commit', 'HEAD']);
  for (let nonce = 0; ; nonce++) {
    const content = `${original}\nnonce ${nonce}\n`;
    const id = createHash('sha1').update(`commit ${Buffer.byteLength(content)}\0${content}`).digest('hex');
    if (!id.startsWith(prefix)) continue;
    const written = spawnSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: work.dir, env: GIT_TEST_ENV, input: content });
    t.equal(written.stdout.toString().trim(), id);
    await runGit(work.dir, ['update-ref', 'refs/heads/main', id]);
    return id;
  }
}

let v2 = '';
let v4 = '';
let v5 = '';

t.test('the history records start, a good push, a broken push and a manual reload', async (t) => {
  v2 = await push(versionRepo('v2'), 'v2');
  t.equal((await webhook(v2)).status, 202);
  await waitUntil('serving v2', async () => (await servedVersion(base())) === 'v2');
  const broken = await push({ 'demo/v.py': 'def broken(:\n' }, 'broken');
  await webhook(broken);
  await waitUntil('the broken push recorded', async () => (await deploys()).deploys[0].result === 'failed');
  v4 = await push(versionRepo('v4'), 'v4');
  t.match((await postReload(base(), true)).data, { result: 'served', commit: v4 });

  const view = await deploys();
  t.equal(view.served, v4);
  t.equal(view.pinned, null);
  t.match(view.deploys, [
    { trigger: 'manual', result: 'served', commit: v4, previousCommit: v2, current: true },
    { trigger: 'webhook', result: 'failed', commit: broken, errors: [{ file: 'demo/v.py', line: 1, col: Number, message: String }], current: false },
    { trigger: 'webhook', result: 'served', commit: v2, previousCommit: v1, current: false },
    { trigger: 'start', result: 'served', commit: v1, previousCommit: null, current: false },
  ]);
  t.equal(view.deploys.length, 4, 'newest first, nothing else recorded');
  t.ok(view.deploys.every((entry: any) => !Number.isNaN(Date.parse(entry.at))), 'each entry says when');
});

t.test('a rollback names a served commit by a unique prefix', async (t) => {
  // A served commit sharing v1's first 4 digits.
  await work.commit(versionRepo('v5'), 'v5');
  v5 = await commitStartingWith(v1.slice(0, 4));
  await git.publish('funcs', work.dir);
  t.match((await postReload(base(), true)).data, { result: 'served', commit: v5 });

  const ambiguous = await adminPost('/api/v1/rollback', { commit: v1.slice(0, 4) });
  t.equal(ambiguous.status, 400);
  t.same([...ambiguous.body.detail.commits].sort(), [v1, v5].sort());
  const served = new Set([v1, v2, v4, v5].map((commit) => commit.slice(0, 6)));
  const unknownPrefix = ['abcdef', 'fedcba', '012345'].find((prefix) => !served.has(prefix))!;
  t.equal((await adminPost('/api/v1/rollback', { commit: unknownPrefix })).status, 404);
  t.equal((await adminPost('/api/v1/rollback', { commit: 'not a commit' })).status, 400);
  t.equal((await adminPost('/api/v1/rollback', { commit: v4.slice(0, 12) })).status, 200, 'a failed commit cannot be named, a served one can');
  t.equal(await servedVersion(base()), 'v4');
  t.equal((await adminPost('/api/v1/unpin')).status, 200);
  await waitUntil('serving v5 again', async () => (await servedVersion(base())) === 'v5');
});

t.test('a rollback serves the first commit and pins it until unpin', async (t) => {
  const rolled = await adminPost('/api/v1/rollback', { commit: v1.slice(0, 12) });
  t.equal(rolled.status, 200);
  t.match(rolled.body.data, { commit: v1, outcome: { result: 'served', commit: v1, previousCommit: v5 }, pinned: { commit: v1, headAtPin: v5 } });
  t.equal(await servedVersion(base()), 'v1', 'calls answer the old code');
  let view = await deploys();
  t.match(view, { served: v1, pinned: { commit: v1 } });
  t.match(view.deploys[0], { trigger: 'rollback', result: 'served', commit: v1, current: true });
  t.match(await adminGet(base(), '/api/v1/status'), { reload: { pinned: { commit: v1 } } });

  // A webhook for the head seen at the rollback (a redelivery) does not move it; neither does a manual reload.
  t.equal((await webhook(v5)).status, 202);
  t.match(await nextEntry(view.deploys[0].id), { trigger: 'webhook', result: 'pinned', commit: v5 });
  t.match((await postReload(base(), true)).data, { result: 'pinned', commit: v5, pinnedCommit: v1 });
  t.equal(await servedVersion(base()), 'v1');

  view = await deploys();
  const unpinned = await adminPost('/api/v1/unpin');
  t.match(unpinned, { status: 200, body: { data: { unpinned: true } } });
  t.match(await nextEntry(view.deploys[0].id), { trigger: 'unpin', result: 'served', commit: v5 });
  t.equal(await servedVersion(base()), 'v5');
  t.equal((await deploys()).pinned, null);
  t.match(await adminPost('/api/v1/unpin'), { status: 200, body: { data: { unpinned: false } } });
});

t.test('the history and the pin survive a restart; a new push ends the pin', async (t) => {
  t.match((await adminPost('/api/v1/rollback', { commit: v2 })).body.data, { outcome: { result: 'served' }, pinned: { commit: v2 } });
  const before = (await deploys()).deploys;
  await gitfunc.server.close();
  gitfunc = await start();
  t.equal(await servedVersion(base()), 'v2', 'the pinned commit is served after the restart');
  // The head is fetched in the background after the start: it finds the pin.
  await waitUntil('the head fetched after the start', async () => (await deploys()).deploys.length === before.length + 2);
  const after = await deploys();
  t.match(after, { served: v2, pinned: { commit: v2 } });
  const withoutCurrent = (entries: any[]): any[] => entries.map(({ current: _, ...entry }) => entry);
  t.same(withoutCurrent(after.deploys.slice(-before.length)), withoutCurrent(before), 'the earlier history is kept');
  t.match(after.deploys.slice(0, after.deploys.length - before.length), [
    { trigger: 'start', result: 'pinned', commit: v5 },
    { trigger: 'start', result: 'served', commit: v2 },
  ]);

  const v6 = await push(versionRepo('v6'), 'v6');
  await webhook(v6);
  await waitUntil('serving v6', async () => (await servedVersion(base())) === 'v6');
  await waitUntil('v6 recorded', async () => (await deploys()).deploys[0].commit === v6);
  t.match(await deploys(), { served: v6, pinned: null, deploys: [{ trigger: 'webhook', result: 'served', commit: v6, previousCommit: v2 }] });
});


/** The gitfunc CLI as a child process. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, GITFUNC_URL: base(), GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN };
  return new Promise((resolve) => {
    execFile(executable, [...launcher, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

t.test('gitfunc rollback, status and unpin', async (t) => {
  const rolled = await cli(['rollback', v5.slice(0, 10)]);
  t.equal(rolled.code, 0, rolled.stderr);
  t.equal(rolled.stdout, `served ${v5} (pinned)\n`);
  const status = await cli(['status']);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, `pinned:    ${v5} (rolled back `);
  t.match(status.stdout, new RegExp(`deploys:   the newest 5\\n  \\S+  rollback +served ${v5.slice(0, 12)}  \\(served\\)\\n`));
  const refused = await cli(['rollback', 'zzzz']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /400\.43/);
  const unpinned = await cli(['unpin']);
  t.equal(unpinned.code, 0, unpinned.stderr);
  t.equal(unpinned.stdout, 'unpinned: the head is fetched and served\n');
  await waitUntil('serving v6 again', async () => (await servedVersion(base())) === 'v6');
});
