// gitfunc as a git remote: a real `git push` (git CLI, smart HTTP on 127.0.0.1) into the push
// remote stores the commit in the bare repository and asks for a reload with source 'push';
// a wrong token is refused; `git clone`/`fetch` work with the token (gzip-encoded fetch
// negotiations included). The route gets a recording ReloadTrigger: the trigger is not the part
// under test. The last test starts a whole gitfunc with GITFUNC_PUSH_TOKEN to show it serves the
// push repository, shows the served commit in git's remote: lines, and refuses a push whose
// commit does not build (nothing stored, the last good commit still served).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import polka, { type Request } from 'polka';
import t, { type Test } from 'tap';
import { type PushRemoteDeps, registerPushRemote } from '../src/http/push-remote-api.js';
import { createLogger } from '../src/log.js';
import { pushRepoDir } from '../src/config/push-repo-dir.js';
import { lazyPushCheck } from '../src/push-remote/push-check-server.js';
import { pushedCommit } from '../src/push-remote/push-repo.js';
import type { ReloadRequest } from '../src/revision/reload-trigger.js';
import { createWorkRepo, GIT_TEST_ENV, runGit } from './helpers/git-repo.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const TOKEN = 'push-token-51c9';

interface PushRemote {
  /** `http://deploy:<token>@127.0.0.1:<port>/repo.git` */
  url: string;
  /** The same without credentials. */
  bareUrl: string;
  repoDir: string;
  reloads: ReloadRequest[];
  logs: Record<string, unknown>[];
  rawLogs: string[];
}

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The push remote route alone on a real HTTP server, recording the reloads it asks for. */
async function startPushRemote(t: Test, overrides: Partial<PushRemoteDeps> = {}): Promise<PushRemote> {
  const dataDir = tempDir(t, 'gitfunc-push-data-');
  const reloads: ReloadRequest[] = [];
  const logs: Record<string, unknown>[] = [];
  const rawLogs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const repoDir = pushRepoDir(dataDir);
  const app = polka();
  registerPushRemote(app, {
    path: '/repo.git',
    token: TOKEN,
    repoDir,
    servedRef: 'main',
    maxPushBytes: 100 * 1024 * 1024,
    trigger: { request: (request) => reloads.push(request) },
    logger: createLogger('info', sink),
    ...overrides,
  });
  const server = createServer((req, res) => void app.handler(req as Request, res, undefined as never));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `http://deploy:${TOKEN}@${host}/repo.git`, bareUrl: `http://${host}/repo.git`, repoDir, reloads, logs, rawLogs };
}

/** Runs the git CLI and reports how it ended instead of throwing. */
function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: { ...GIT_TEST_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Polls until the recording trigger holds `count` requests: the reload is asked for after git-receive-pack exits. */
async function reloadsReach(remote: PushRemote, count: number): Promise<ReloadRequest[]> {
  const deadline = Date.now() + 5000;
  while (remote.reloads.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return remote.reloads;
}

const remote = await startPushRemote(t);
const work = await createWorkRepo({ 'gitfunc.yaml': 'version: 1\n', 'demo/basic.py': 'x = 1\n' });

t.test('git push stores the commit in the bare repository and asks for a reload with source push', async (t) => {
  const pushed = await git(work.dir, ['push', remote.url, 'main']);
  t.equal(pushed.code, 0, pushed.stderr);
  const head = await work.head();
  t.equal(await pushedCommit(remote.repoDir, 'main'), head, 'the bare repo has the commit');
  t.same(await reloadsReach(remote, 1), [{ source: 'push', commitHint: head }]);
  t.equal(await runGit(remote.repoDir, ['symbolic-ref', 'HEAD']), 'refs/heads/main', 'HEAD names the served branch');

  const next = await work.commit({ 'demo/basic.py': 'x = 2\n' });
  t.equal((await git(work.dir, ['push', remote.url, 'main'])).code, 0);
  t.same(await reloadsReach(remote, 2), [{ source: 'push', commitHint: head }, { source: 'push', commitHint: next }]);
});

t.test('a push that leaves the served branch as it was asks for nothing', async (t) => {
  const before = remote.reloads.length;
  const again = await git(work.dir, ['push', remote.url, 'main']);
  t.equal(again.code, 0);
  t.match(again.stderr, /up-to-date/);
  t.equal((await git(work.dir, ['push', remote.url, 'main:dev'])).code, 0, 'another branch is stored');
  t.ok(await pushedCommit(remote.repoDir, 'dev'));
  // The push is looked at once git-receive-pack exits, which may be after git's answer.
  const deadline = Date.now() + 5000;
  const unchanged = (): boolean => remote.logs.some((line) => line.msg === 'push stored; served ref unchanged');
  while (!unchanged() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.ok(unchanged(), 'logged as stored without a reload');
  t.equal(remote.reloads.length, before, 'no reload asked for');
});

t.test('a wrong or missing token is refused with 401 and WWW-Authenticate; nothing is stored', async (t) => {
  const before = remote.reloads.length;
  const stored = await pushedCommit(remote.repoDir, 'main');
  const change = await work.commit({ 'demo/basic.py': 'x = 3\n' });
  const wrong = await git(work.dir, ['push', remote.url.replace(TOKEN, 'wrong-token'), 'main']);
  t.not(wrong.code, 0);
  t.match(wrong.stderr, /Authentication failed|401/);
  const none = await git(work.dir, ['push', remote.bareUrl, 'main']);
  t.not(none.code, 0, 'no credentials');
  t.equal(await pushedCommit(remote.repoDir, 'main'), stored);
  t.not(stored, change);
  t.equal(remote.reloads.length, before);

  const attempts: Record<string, string>[] = [{}, { authorization: `Basic ${Buffer.from('deploy:nope').toString('base64')}` }, { authorization: `Bearer ${TOKEN}` }];
  for (const headers of attempts) {
    const res = await fetch(`${remote.bareUrl}/info/refs?service=git-receive-pack`, { headers });
    t.equal(res.status, 401);
    t.match(res.headers.get('www-authenticate'), /^Basic realm="gitfunc"/);
    t.match(await res.json(), { ok: false, error: 401.99, reason: 'EAuthFailed' });
  }
  t.notMatch(remote.rawLogs.join('\n'), TOKEN, 'the token is never logged');
});

t.test('git clone and fetch work with the token (large gzip negotiations included), and need it', async (t) => {
  const dir = tempDir(t, 'gitfunc-push-clone-');
  const clone = await git(dir, ['clone', '--quiet', remote.url, 'copy']);
  t.equal(clone.code, 0, clone.stderr);
  const copy = path.join(dir, 'copy');
  t.equal(await runGit(copy, ['rev-parse', 'HEAD']), await pushedCommit(remote.repoDir, 'main'));

  // 40 local commits the remote lacks: git sends their "have" lines gzip-compressed (over 1 KiB).
  // Dated a second apart after the clone: haves go newest first, so the common commit comes
  // after them. Made within the clone's second (a fast run), they tied with it, and git could
  // send it first, be answered at once and never reach 1 KiB of haves.
  const after = Math.floor(Date.now() / 1000) + 60;
  const commits: number[] = [];
  for (let i = 0; i < 40; i++) {
    const date = `${after + i} +0000`;
    const args = ['commit', '--quiet', '--allow-empty', '-m', `local ${i}`];
    commits.push((await git(copy, args, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date })).code);
  }
  t.same(new Set(commits), new Set([0]), '40 local commits');
  await work.commit({ 'demo/more.py': 'y = 1\n' });
  t.equal((await git(work.dir, ['push', remote.url, 'main'])).code, 0);
  const fetched = await git(copy, ['fetch', 'origin'], { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' });
  t.equal(fetched.code, 0, fetched.stderr.slice(-2000));
  t.match(fetched.stderr, /Send header: Content-Encoding: gzip/i, 'the negotiation was gzip-encoded');
  t.equal(await runGit(copy, ['rev-parse', 'origin/main']), await work.head());

  const refused = await git(dir, ['clone', '--quiet', remote.bareUrl, 'anonymous']);
  t.not(refused.code, 0, 'clone without the token is refused');
});

t.test('a push larger than http.postBuffer (a chunked request body) is stored', async (t) => {
  const big = randomBytes(3 * 1024 * 1024).toString('base64');
  const head = await work.commit({ 'data/big.txt': big });
  const before = remote.reloads.length;
  const pushed = await git(work.dir, ['push', remote.url, 'main'], { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' });
  t.equal(pushed.code, 0, pushed.stderr.slice(-2000));
  t.match(pushed.stderr, /Send header: Transfer-Encoding: chunked/i, 'the pack was sent chunked');
  t.equal(await pushedCommit(remote.repoDir, 'main'), head);
  t.same((await reloadsReach(remote, before + 1)).at(-1), { source: 'push', commitHint: head });
});

t.test('a push over pushRemote.maxPushBytes is refused by git and reloads nothing', async (t) => {
  const small = await startPushRemote(t, { maxPushBytes: 64 * 1024 });
  const pushed = await git(work.dir, ['push', small.url, 'main']);
  t.not(pushed.code, 0);
  t.match(pushed.stderr, /pack exceeds maximum allowed size/);
  t.equal(await pushedCommit(small.repoDir, 'main'), undefined);
  t.same(small.reloads, []);
});

t.test("only git's smart HTTP is served: no dumb-protocol files", async (t) => {
  const auth = { authorization: `Basic ${Buffer.from(`deploy:${TOKEN}`).toString('base64')}` };
  for (const url of [`${remote.bareUrl}/info/refs`, `${remote.bareUrl}/info/refs?service=git-upload-archive`, `${remote.bareUrl}/HEAD`, `${remote.bareUrl}/config`]) {
    const res = await fetch(url, { headers: auth });
    t.equal(res.status, 404, url);
    await res.arrayBuffer();
  }
});

t.test('the push check server answers only the hooks, which hold its per-process secret', async (t) => {
  const dataDir = tempDir(t, 'gitfunc-push-check-');
  const builds: string[] = [];
  const checks = lazyPushCheck(
    {
      dataDir,
      repoPath: '',
      build: async (commit) => (builds.push(commit), { ok: true, problems: [] }),
      serve: async (commit) => (builds.push(commit), 'served'),
      logger: createLogger('silent'),
    },
    'main',
  );
  t.teardown(() => checks.close());
  const { hookEnv } = await checks.server();
  t.equal(hookEnv.GITFUNC_PUSH_CHECK_REF, 'refs/heads/main');
  t.match(hookEnv.GITFUNC_PUSH_CHECK_URL, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback only');
  const commit = 'a'.repeat(40);
  for (const route of ['check', 'serve']) {
    for (const authorization of [undefined, 'Bearer wrong', hookEnv.GITFUNC_PUSH_CHECK_SECRET]) {
      const res = await fetch(`${hookEnv.GITFUNC_PUSH_CHECK_URL}/${route}?commit=${commit}`, {
        method: 'POST',
        headers: authorization === undefined ? {} : { authorization },
      });
      t.equal(res.status, 403, `${route} without the secret as a Bearer token`);
      t.match(await res.json(), { accepted: false });
    }
  }
  t.same(builds, [], 'nothing was built or served');
});

t.test('with GITFUNC_PUSH_TOKEN gitfunc starts empty, and each git push to it deploys', async (t) => {
  const dataDir = tempDir(t, 'gitfunc-push-server-');
  const source = readTree(path.join(FIXTURES, 'callables'));
  const funcs = await createWorkRepo(source);
  const config = path.join(dataDir, 'settings.yaml');
  writeFileSync(config, 'pushRemote:\n  path: /funcs.git\n');

  const gitfunc = await startGitfunc(['--data-dir', dataDir, '--config', config], { GITFUNC_PUSH_TOKEN: TOKEN });
  t.teardown(() => gitfunc.close());
  const before = await fetch(`${gitfunc.url}/api/v1/al/hello/s?message=x`);
  t.equal(before.status, 503, 'nothing pushed yet: no revision to serve');
  t.equal(((await before.json()) as { error: number }).error, 503.2);
  const notReady = await fetch(`${gitfunc.url}/readyz`);
  t.same([notReady.status, await notReady.json()], [503, { ok: false, phase: 'waiting-for-push' }], '/readyz is 503 until a revision is served');

  const url = gitfunc.url.replace('http://', `http://deploy:${TOKEN}@`);
  const waitForHello = async (expected: unknown): Promise<unknown> => {
    // The first build also waits for the import-check worker's interpreter: slow on a loaded machine.
    const deadline = Date.now() + 180_000;
    let body: unknown;
    while (Date.now() < deadline) {
      const res = await fetch(`${gitfunc.url}/api/v1/al/hello/s?message=pushed`);
      body = res.status === 200 ? await res.json() : await res.text();
      if (JSON.stringify(body) === JSON.stringify(expected)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return body;
  };
  const first = await git(funcs.dir, ['push', `${url}/funcs.git`, 'main']);
  t.equal(first.code, 0, first.stderr);
  t.same(await waitForHello({ message: 'pushed' }), { message: 'pushed' }, 'the first push is served');
  const ready = await fetch(`${gitfunc.url}/readyz`);
  t.same([ready.status, await ready.json()], [200, { ok: true, phase: 'ready' }], '/readyz is 200 once the first push is served');

  const basic = source['calls/basic.py']!.replace("return {'message': message}", "return {'message': message, 'v': 2}");
  const next = await funcs.commit({ 'calls/basic.py': basic });
  const second = await git(funcs.dir, ['push', `${url}/funcs.git`, 'main']);
  t.equal(second.code, 0, second.stderr);
  t.equal(await pushedCommit(pushRepoDir(dataDir), 'main'), next);
  t.same(await waitForHello({ message: 'pushed', v: 2 }), { message: 'pushed', v: 2 }, 'the next push is served');
  t.match(gitfunc.logs.find((line) => line.msg === 'revision served' && line.commit === next), { source: 'push' });
  t.match(second.stderr, new RegExp(`remote: gitfunc: served ${next}`), 'git shows the served commit in its remote: lines');

  // A commit that does not build is refused before it is stored: git fails and shows where.
  const lines = basic.split('\n').length;
  const broken = await funcs.commit({ 'calls/basic.py': `${basic.trimEnd()}\ndef broken(:\n    pass\n` });
  const refused = await git(funcs.dir, ['push', `${url}/funcs.git`, 'main']);
  t.not(refused.code, 0, 'git push fails');
  t.match(refused.stderr, /remote: gitfunc: [0-9a-f]{40} does not build; the push is refused/);
  t.match(refused.stderr, new RegExp(`remote: calls/basic\\.py:${lines}:\\d+ `), 'the error, with file:line:col, is in the remote: lines');
  t.match(refused.stderr, /\[remote rejected\] main -> main \(pre-receive hook declined\)/);
  t.equal(await pushedCommit(pushRepoDir(dataDir), 'main'), next, 'the branch still names the last good commit');
  t.same(await waitForHello({ message: 'pushed', v: 2 }), { message: 'pushed', v: 2 }, 'the last good commit is still served');
  t.notOk(gitfunc.logs.some((line) => line.msg === 'revision served' && line.commit === broken), 'the broken commit was never served');
});
