import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { GitfuncError } from '../src/errors.js';
import { fetchCommit } from '../src/git/fetch-commit.js';
import { fetchRevision, type FetchedRevision, type RepoSourceOptions } from '../src/git/index.js';
import { revisionDirName } from '../src/git/options.js';
import { redactUrl } from '../src/git/redact.js';
import { checkSymlinks } from '../src/git/symlinks.js';
import type { TreeEntry } from '../src/git/tree-entry.js';
import { createWorkRepo, runGit } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';

const TOKEN = 'tok-3f9a1c77e2b54d0e';
const BASE_FILES = {
  'gitfunc.yaml': 'functions:\n  hello:\n    script: hello.py\n',
  'hello.py': 'def main(name):\n    return f"hello {name}"\n',
  'lib/util.py': 'X = 1\n',
};

const server = await startGitServer();
const privateServer = await startGitServer({ token: TOKEN });
const scratch = await mkdtemp(join(tmpdir(), 'gitfunc-git-source-'));
t.teardown(async () => {
  await server.close();
  await privateServer.close();
  await rm(scratch, { recursive: true, force: true });
});

let dataDirCount = 0;
/** A fresh, empty data directory per test, so revisions and the gitdir do not leak between tests. */
async function freshDataDir(): Promise<string> {
  const dir = join(scratch, `data-${++dataDirCount}`);
  await mkdir(dir);
  return dir;
}

let repoCount = 0;
/** A work repo published on the public server under a unique name. */
async function publishedRepo(files: Record<string, string> = BASE_FILES) {
  const repo = await createWorkRepo(files);
  const name = `repo-${++repoCount}`;
  await server.publish(name, repo.dir);
  return { ...repo, name, url: server.url(name), publish: () => server.publish(name, repo.dir) };
}

// Read-only tests share one published repo: every git process costs ~15-25 ms.
const base = await publishedRepo();

function fetchFrom(url: string, dataDir: string, extra: Partial<RepoSourceOptions> = {}): Promise<FetchedRevision> {
  return fetchRevision({ url, ref: 'main', path: '', dataDir, ...extra });
}

/** The GitfuncError a promise rejects with; fails the test if it resolves or throws something else. */
async function gitfuncError(promise: Promise<unknown>): Promise<GitfuncError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GitfuncError) return err;
    throw err;
  }
  throw new Error('expected a GitfuncError, but the call succeeded');
}

/** Names inside the revisions folder (final dirs and any tmp dirs). */
async function revisionNames(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'revisions'))).sort();
}

t.test('clones a branch into an immutable revision dir', async (t) => {
  const repo = base;
  const dataDir = await freshDataDir();
  const rev = await fetchFrom(repo.url, dataDir);
  t.equal(rev.commit, await repo.head());
  t.equal(rev.dir, join(dataDir, 'revisions', rev.commit));
  t.same({ url: rev.url, ref: rev.ref, path: rev.path }, { url: repo.url, ref: 'main', path: '' });
  t.equal(await readFile(join(rev.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py']);
  t.equal(await readFile(join(rev.dir, 'lib/util.py'), 'utf8'), BASE_FILES['lib/util.py']);
  t.same((await readdir(rev.dir)).sort(), ['gitfunc.yaml', 'hello.py', 'lib']);
  t.same(await revisionNames(dataDir), [rev.commit], 'no tmp dir left behind');
});

t.test('a new commit gives a new dir and leaves the old one untouched', async (t) => {
  const repo = await publishedRepo();
  const dataDir = await freshDataDir();
  const first = await fetchFrom(repo.url, dataDir);
  const again = await fetchFrom(repo.url, dataDir);
  t.same(again, first, 'same commit reuses the same dir');

  const next = await repo.commit({ 'hello.py': 'def main():\n    return 2\n', 'lib/util.py': null }, 'second');
  await repo.publish();
  const second = await fetchFrom(repo.url, dataDir);
  t.equal(second.commit, next);
  t.not(second.dir, first.dir);
  t.equal(await readFile(join(second.dir, 'hello.py'), 'utf8'), 'def main():\n    return 2\n');
  t.same((await readdir(second.dir)).sort(), ['gitfunc.yaml', 'hello.py'], 'deleted file is gone');
  t.equal(await readFile(join(first.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py'], 'old revision unchanged');
  t.equal(await readFile(join(first.dir, 'lib/util.py'), 'utf8'), BASE_FILES['lib/util.py']);
});

t.test('lightweight and annotated tags resolve to their commit', async (t) => {
  const repo = await publishedRepo();
  const tagged = await repo.head();
  await repo.tag('v1');
  await repo.tag('v1-annotated', true);
  await repo.commit({ 'hello.py': 'changed\n' });
  await repo.publish();
  const dataDir = await freshDataDir();

  const light = await fetchFrom(repo.url, dataDir, { ref: 'v1' });
  t.equal(light.commit, tagged);
  t.equal(await readFile(join(light.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py']);

  const annotated = await fetchFrom(repo.url, dataDir, { ref: 'v1-annotated' });
  t.equal(annotated.commit, tagged, 'annotated tag is peeled to the commit, not the tag object');
  t.not(await runGit(repo.dir, ['rev-parse', 'v1-annotated']), tagged, 'the tag object id differs from the commit');
  t.equal(annotated.dir, light.dir);
});

t.test('a full commit id, also one behind the shallow boundary of an earlier fetch', async (t) => {
  const repo = await publishedRepo();
  const old = await repo.head();
  await repo.commit({ 'hello.py': 'v2\n' });
  await repo.commit({ 'hello.py': 'v3\n' });
  await repo.publish();
  const dataDir = await freshDataDir();
  await fetchFrom(repo.url, dataDir); // depth-1 fetch of main leaves a shallow gitdir

  const rev = await fetchFrom(repo.url, dataDir, { ref: old });
  t.equal(rev.commit, old);
  t.equal(await readFile(join(rev.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py']);

  const upper = await fetchFrom(repo.url, dataDir, { ref: old.toUpperCase() });
  t.equal(upper.commit, old, 'hex case does not matter');

  const unknown = await gitfuncError(fetchFrom(repo.url, dataDir, { ref: 'f'.repeat(40) }));
  t.equal(unknown.code, 'GIT_REF_NOT_FOUND');
  const short = await gitfuncError(fetchFrom(repo.url, dataDir, { ref: old.slice(0, 8) }));
  t.equal(short.code, 'GIT_REF_NOT_FOUND');
  t.match(short.message, /40 hex/);
});

t.test('serves a subfolder at the root, and refuses a missing one', async (t) => {
  const repo = await publishedRepo({
    'README.md': 'monorepo\n',
    'services/funcs/gitfunc.yaml': 'functions: {}\n',
    'services/funcs/a.py': 'A = 1\n',
    'services/funcs/pkg/b.py': 'B = 2\n',
    'services/other/c.py': 'C = 3\n',
  });
  const dataDir = await freshDataDir();
  const rev = await fetchFrom(repo.url, dataDir, { path: './services/funcs/' });
  t.equal(rev.path, 'services/funcs');
  t.equal(rev.dir, join(dataDir, 'revisions', `${rev.commit}--services_funcs`));
  t.same((await readdir(rev.dir)).sort(), ['a.py', 'gitfunc.yaml', 'pkg']);
  t.equal(await readFile(join(rev.dir, 'pkg/b.py'), 'utf8'), 'B = 2\n');

  const missing = await gitfuncError(fetchFrom(repo.url, dataDir, { path: 'services/nope' }));
  t.equal(missing.code, 'GIT_PATH_NOT_FOUND');
  const file = await gitfuncError(fetchFrom(repo.url, dataDir, { path: 'README.md' }));
  t.equal(file.code, 'GIT_PATH_NOT_FOUND', 'a file is not a folder');
  const escape = await gitfuncError(fetchFrom(repo.url, dataDir, { path: '../x' }));
  t.equal(escape.code, 'GIT_PATH_INVALID');
  t.same(await revisionNames(dataDir), [`${rev.commit}--services_funcs`]);
});

t.test('private repository: token auth, and failures that never leak the token', async (t) => {
  const repo = await createWorkRepo(BASE_FILES);
  await privateServer.publish('private', repo.dir);
  const url = privateServer.url('private');
  const dataDir = await freshDataDir();

  const rev = await fetchFrom(url, dataDir, { token: TOKEN });
  t.equal(rev.commit, await repo.head());
  const custom = await fetchFrom(url, dataDir, { token: TOKEN, username: 'oauth2' });
  t.equal(custom.commit, rev.commit, 'any user name works with the token as password');
  const inUrl = await fetchFrom(url.replace('http://', `http://me:${TOKEN}@`), dataDir);
  t.equal(inUrl.commit, rev.commit, 'credentials in the URL work too');
  t.equal(inUrl.url, url, 'and are stripped from the result');

  const cases: Array<[string, Partial<RepoSourceOptions>, string]> = [
    ['wrong token', { token: `${TOKEN}-wrong` }, url],
    ['missing token', {}, url],
    ['wrong password in URL', {}, url.replace('http://', `http://me:${TOKEN}-wrong@`)],
  ];
  for (const [label, extra, from] of cases) {
    const started = Date.now();
    const err = await gitfuncError(fetchFrom(from, dataDir, extra));
    t.equal(err.code, 'GIT_AUTH_FAILED', label);
    t.ok(Date.now() - started < 3000, `${label} fails quickly`);
    t.match(err.message, /^authentication failed for http:\/\/127\.0\.0\.1:\d+\/private\.git: check GITFUNC_GIT_TOKEN$/);
    const serialised = JSON.stringify(err) + err.message + String(err.stack);
    t.notOk(serialised.includes(TOKEN), `${label}: token absent from message, data and stack`);
    t.notOk(serialised.includes('me:'), `${label}: URL userinfo stripped`);
  }
});

t.test('unknown branch is GIT_REF_NOT_FOUND', async (t) => {
  const err = await gitfuncError(fetchFrom(base.url, await freshDataDir(), { ref: 'no-such-branch' }));
  t.equal(err.code, 'GIT_REF_NOT_FOUND');
  t.match(err.message, /no-such-branch/);
});

t.test('unreachable or missing servers', async (t) => {
  // A port that was just free: connecting to it is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const dataDir = await freshDataDir();

  const refused = await gitfuncError(fetchFrom(`http://127.0.0.1:${port}/x.git`, dataDir));
  t.equal(refused.code, 'GIT_UNREACHABLE');
  t.equal(refused.data.reason, 'ECONNREFUSED');

  const notFound = await gitfuncError(fetchFrom(server.url('does-not-exist'), dataDir));
  t.equal(notFound.code, 'GIT_REPO_NOT_FOUND');

  const ssh = await gitfuncError(fetchFrom('git@example.invalid:org/repo.git', dataDir));
  t.equal(ssh.code, 'GIT_URL_UNSUPPORTED');
});

t.test('a server that accepts but never answers times out', async (t) => {
  // Holds every connection open and says nothing; reading (resume) lets it notice the client hanging up.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket.resume());
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const { port } = silent.address() as AddressInfo;
  const gitdir = join(await freshDataDir(), 'git');
  const err = await gitfuncError(
    fetchCommit({ gitdir, url: `http://127.0.0.1:${port}/x.git`, ref: 'main', token: undefined, username: 'x', idleTimeoutMs: 200 }),
  );
  t.equal(err.code, 'GIT_UNREACHABLE');
  t.equal(err.data.reason, 'timeout');

  // Starts a valid ref advertisement, then stalls mid-body.
  const stalling = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
    res.write('001e# service=git-upload-pack\n');
  });
  await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    stalling.closeAllConnections();
    stalling.close();
  });
  const stalled = await gitfuncError(
    fetchCommit({
      gitdir,
      url: `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/x.git`,
      ref: 'main',
      token: undefined,
      username: 'x',
      idleTimeoutMs: 200,
    }),
  );
  t.equal(stalled.code, 'GIT_UNREACHABLE');
  t.equal(stalled.data.reason, 'timeout');
});

t.test('submodules are refused', async (t) => {
  const withFile = await publishedRepo({ ...BASE_FILES, '.gitmodules': '[submodule "x"]\n\tpath = x\n\turl = ../x\n' });
  const err = await gitfuncError(fetchFrom(withFile.url, await freshDataDir()));
  t.equal(err.code, 'GIT_SUBMODULES_UNSUPPORTED');
  t.same(err.data.files, ['.gitmodules']);

  // A gitlink (mode 160000) without any .gitmodules file: the tree entry alone is refused too.
  const gitlink = await createWorkRepo(BASE_FILES);
  const target = await gitlink.head();
  await runGit(gitlink.dir, ['update-index', '--add', '--cacheinfo', `160000,${target},lib/vendored`]);
  await runGit(gitlink.dir, ['commit', '--quiet', '-m', 'add gitlink']);
  await server.publish('gitlink', gitlink.dir);
  const dataDir = await freshDataDir();
  const err2 = await gitfuncError(fetchFrom(server.url('gitlink'), dataDir));
  t.equal(err2.code, 'GIT_SUBMODULES_UNSUPPORTED');
  t.same(err2.data.files, ['lib/vendored']);
  t.same(await revisionNames(dataDir), [], 'nothing published');
});

t.test('Git LFS pointers are refused, naming the files, and leave nothing behind', async (t) => {
  const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n';
  const repo = await publishedRepo({ ...BASE_FILES, 'models/weights.bin': pointer, 'data.csv': pointer });
  const dataDir = await freshDataDir();
  const err = await gitfuncError(fetchFrom(repo.url, dataDir));
  t.equal(err.code, 'GIT_LFS_UNSUPPORTED');
  t.same(err.data.files, ['data.csv', 'models/weights.bin']);
  t.match(err.message, /data\.csv, models\/weights\.bin/);
  t.same(await revisionNames(dataDir), [], 'no revision and no tmp dir');
});

t.test('symlinks inside the served folder are kept; ones leading out are refused', async (t) => {
  const repo = await createWorkRepo({ ...BASE_FILES, 'tool.sh': '#!/bin/sh\necho hi\n' });
  await chmod(join(repo.dir, 'tool.sh'), 0o755);
  await symlink('lib/util.py', join(repo.dir, 'util-link.py'));
  await repo.commit({}, 'symlink inside');
  await server.publish('links', repo.dir);
  const dataDir = await freshDataDir();
  const rev = await fetchFrom(server.url('links'), dataDir);
  t.equal(await readlink(join(rev.dir, 'util-link.py')), 'lib/util.py');
  t.equal(await readFile(join(rev.dir, 'util-link.py'), 'utf8'), BASE_FILES['lib/util.py']);
  t.equal((await stat(join(rev.dir, 'tool.sh'))).mode & 0o111, 0o111, 'executable bit kept');
  t.equal((await stat(join(rev.dir, 'hello.py'))).mode & 0o111, 0, 'plain files stay plain');

  // Leaves the served subfolder 'lib' although it stays inside the repository.
  await symlink('../hello.py', join(repo.dir, 'lib/up.py'));
  await repo.commit({}, 'symlink out of lib');
  await server.publish('links', repo.dir);
  const up = await gitfuncError(fetchFrom(server.url('links'), dataDir, { path: 'lib' }));
  t.equal(up.code, 'GIT_SYMLINK_OUTSIDE');
  t.same(up.data.files, ['up.py']);

  // Looks inside textually but resolves through `here -> .` to the parent of the root.
  await rm(join(repo.dir, 'lib/up.py'));
  await symlink('.', join(repo.dir, 'lib/here'));
  await symlink('here/../hello.py', join(repo.dir, 'lib/sneaky.py'));
  await symlink('/etc/passwd', join(repo.dir, 'abs'));
  await repo.commit({}, 'sneaky symlinks');
  await server.publish('links', repo.dir);
  const sneaky = await gitfuncError(fetchFrom(server.url('links'), dataDir, { path: 'lib' }));
  t.same(sneaky.data.files, ['sneaky.py']);
  const abs = await gitfuncError(fetchFrom(server.url('links'), dataDir));
  t.equal(abs.code, 'GIT_SYMLINK_OUTSIDE');
  t.same(abs.data.files, ['abs']);
  t.same(await revisionNames(dataDir), [rev.commit]);
});

t.test('a local directory gives a stable content-hash id', async (t) => {
  const source = join(scratch, 'local-src');
  for (const [name, content] of Object.entries({
    ...BASE_FILES,
    'sub/funcs/x.py': 'X\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
    'node_modules/dep/index.js': '1\n',
    'lib/__pycache__/util.cpython-312.pyc': 'bytecode',
  })) {
    await mkdir(join(source, name, '..'), { recursive: true });
    await writeFile(join(source, name), content);
  }
  const dataDir = await freshDataDir();
  const rel = relative(process.cwd(), source);
  const first = await fetchFrom(rel, dataDir, { ref: '' });
  t.match(first.commit, /^local-[0-9a-f]{16}$/);
  t.equal(first.dir, join(dataDir, 'revisions', first.commit));
  t.same((await readdir(first.dir)).sort(), ['gitfunc.yaml', 'hello.py', 'lib', 'sub']);
  t.same(await readdir(join(first.dir, 'lib')), ['util.py'], '__pycache__ skipped');
  t.equal(await readFile(join(first.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py']);

  const again = await fetchFrom(source, dataDir);
  t.equal(again.commit, first.commit, 'same content, same id (relative or absolute path)');
  t.equal(again.dir, first.dir);
  t.same(await revisionNames(dataDir), [first.commit], 'the duplicate copy was discarded');

  await writeFile(join(source, 'node_modules/dep/index.js'), '2\n');
  t.equal((await fetchFrom(source, dataDir)).commit, first.commit, 'skipped folders do not change the id');

  await writeFile(join(source, 'hello.py'), 'changed\n');
  const changed = await fetchFrom(source, dataDir);
  t.not(changed.commit, first.commit);
  t.equal(await readFile(join(first.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py'], 'old copy untouched');

  const sub = await fetchFrom(source, dataDir, { path: 'sub/funcs' });
  t.same(await readdir(sub.dir), ['x.py']);
  const missing = await gitfuncError(fetchFrom(source, dataDir, { path: 'nope' }));
  t.equal(missing.code, 'GIT_PATH_NOT_FOUND');

  await writeFile(join(source, '.gitmodules'), '[submodule "x"]\n');
  const withGitmodules = await fetchFrom(source, dataDir);
  t.ok(withGitmodules.commit.startsWith('local-'), '.gitmodules is not a refusal for a local directory');
});

t.test('stale tmp dirs are removed and never become revisions', async (t) => {
  const repo = base;
  const dataDir = await freshDataDir();
  const revisions = join(dataDir, 'revisions');
  const stale = join(revisions, '.tmp-crashed');
  const recent = join(revisions, '.tmp-in-progress');
  await mkdir(stale, { recursive: true });
  await mkdir(recent);
  await writeFile(join(stale, 'hello.py'), 'half written');
  const anHourAgo = new Date(Date.now() - 3600_000);
  await utimes(stale, anHourAgo, anHourAgo);

  const rev = await fetchFrom(repo.url, dataDir);
  t.same(await revisionNames(dataDir), ['.tmp-in-progress', rev.commit].sort(), 'stale removed, recent kept');
  t.equal(await readFile(join(rev.dir, 'hello.py'), 'utf8'), BASE_FILES['hello.py']);
});

t.test('concurrent fetches on one data dir are serialised', async (t) => {
  const a = base;
  const b = await publishedRepo({ 'other.py': 'O\n' });
  const dataDir = await freshDataDir();
  const results = await Promise.all([fetchFrom(a.url, dataDir), fetchFrom(b.url, dataDir), fetchFrom(a.url, dataDir)]);
  t.equal(results[0].commit, await a.head());
  t.equal(results[1].commit, await b.head());
  t.same(results[2], results[0]);
  t.same(await revisionNames(dataDir), [results[0].commit, results[1].commit].sort());
});

t.test('the test git server speaks to the git CLI both ways, and accepts gzip bodies', async (t) => {
  const clone = join(scratch, 'cli-clone');
  await runGit(scratch, ['clone', '--quiet', base.url, clone]);
  await writeFile(join(clone, 'pushed.py'), 'P = 1\n');
  await runGit(clone, ['add', 'pushed.py']);
  await runGit(clone, ['commit', '--quiet', '-m', 'pushed over http']);
  await runGit(clone, ['push', '--quiet', base.url, 'HEAD:refs/heads/pushed']);
  const rev = await fetchFrom(base.url, await freshDataDir(), { ref: 'pushed' });
  t.equal(await readFile(join(rev.dir, 'pushed.py'), 'utf8'), 'P = 1\n');

  // git gzips large negotiation requests; http-backend must inflate them.
  const pkt = (line: string): string => (line.length + 4).toString(16).padStart(4, '0') + line;
  const res = await fetch(`${base.url}/git-upload-pack`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Encoding': 'gzip' },
    body: gzipSync(`${pkt(`want ${rev.commit}\n`)}0000${pkt('done\n')}`),
  });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/x-git-upload-pack-result');
  t.ok(Buffer.from(await res.arrayBuffer()).includes('PACK'), 'a pack comes back');
});

t.test('naming and symlink rules', async (t) => {
  t.equal(revisionDirName('c0ffee', ''), 'c0ffee');
  t.equal(revisionDirName('c0ffee', 'services/funcs'), 'c0ffee--services_funcs');
  t.not(revisionDirName('c0ffee', 'a/b'), revisionDirName('c0ffee', 'a_b'), "'a/b' and 'a_b' never share a dir");
  t.equal(redactUrl('https://user:pw@example.com/r.git'), 'https://example.com/r.git');

  const link = (path: string, target: string): TreeEntry => ({ kind: 'symlink', path, target });
  t.doesNotThrow(() => checkSymlinks([link('a/b', '../c'), link('d', 'a/b')]));
  t.throws(() => checkSymlinks([link('a', 'b'), link('b', 'a')]), { code: 'GIT_SYMLINK_OUTSIDE' }, 'a loop is refused');
  t.throws(() => checkSymlinks([link('x/up', '..'), link('y', 'x/up/..')]), { code: 'GIT_SYMLINK_OUTSIDE' });
});
