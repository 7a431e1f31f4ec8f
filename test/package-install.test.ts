// gitfunc installed as a user installs it: `npm pack`, then the tarball installed into an empty
// folder with no checkout around it, its `gitfunc` command run from there. This catches a file
// the built server reads at run time but `files` leaves out, a dev tool needed at run time, and
// the default repository (./functions.example, only in a checkout) silently missing.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { distIsCurrent } from './helpers/gitfunc-cli.js';
import { spawnGitfunc, waitReady } from './helpers/spawn-gitfunc.js';
import { EXAMPLE_REPO, SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const { name, version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

const work = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-package-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const app = path.join(work, 'app');
mkdirSync(app);

// tap's process-info hook in NODE_OPTIONS has no business in npm's processes.
const npmEnv: NodeJS.ProcessEnv = { ...process.env };
delete npmEnv.NODE_OPTIONS;
const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, env: npmEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// dist/ is built here only when it is older than src/ (CI builds it before the tests): a build
// of a current dist/ still rewrites its copied assets, under other test files' processes running
// from it. The pack skips the lifecycle scripts: `prepack` empties dist/ for `prepare` to
// rebuild, and other test files run from dist/ meanwhile.
if (!distIsCurrent()) npm(['run', 'build', '--silent'], ROOT);
const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as [
  { filename: string; files: { path: string }[] },
];
const tarball = path.join(work, packed.filename);

// Into an empty folder, from npm's cache (`npm ci` filled it). better-sqlite3 compiles from
// source for ~90 s when its install script runs, so scripts are skipped and the checkout's
// compiled binary (same Node, same better-sqlite3 version) is put where the script would build it.
writeFileSync(path.join(app, 'package.json'), '{ "private": true }\n');
npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], app);
const nativeDir = path.join(app, 'node_modules', 'better-sqlite3', 'build', 'Release');
mkdirSync(nativeDir, { recursive: true });
cpSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), path.join(nativeDir, 'better_sqlite3.node'));

const gitfunc = path.join(app, 'node_modules', '.bin', 'gitfunc');
/** Runs the installed `gitfunc` in the install folder, with no GITFUNC_* variable but the shared snapshot dir. */
const runGitfunc = (args: string[]) => run(gitfunc, args, { cwd: app, env: { PATH: process.env.PATH, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR } });

// A repository that is not the checkout's: a copy in the temp folder.
const repo = path.join(work, 'functions');
cpSync(EXAMPLE_REPO, repo, { recursive: true });

t.test('the tarball holds the built server and its run-time files, none of the dev tree', async (t) => {
  const files = packed.files.map((file) => file.path);
  for (const file of [
    'bin/gitfunc.js',
    'dist/main.js',
    'dist/runtime/worker-entry.cjs',
    'dist/runtime/python/gitfunc_dff.py',
    'dist/tasks/sqlite/record-thread-entry.mjs',
    'dist/push-remote/push-hook.cjs',
    'config/default.yaml',
    'stubs/dff.pyi',
  ]) {
    t.ok(files.includes(file), file);
  }
  const dev = files.filter((file) => /^(src|test|bench|scripts|docs|functions\.example)\//.test(file) || /\.map$|\.tsbuildinfo$|__pycache__/.test(file));
  t.same(dev, []);
});

t.test('the installed package needs no TypeScript and no build', async (t) => {
  t.notOk(existsSync(path.join(app, 'node_modules', 'typescript')), 'typescript is not installed');
  t.notOk(existsSync(path.join(app, 'node_modules', name, 'src')), 'no sources');
  t.ok(existsSync(path.join(app, 'node_modules', name, 'dist', 'main.js')), 'dist/ came in the tarball');
});

t.test('--version prints the version of package.json', async (t) => {
  const { stdout } = await runGitfunc(['--version']);
  t.equal(stdout, `gitfunc ${version}\n`);
});

t.test('serve with no repository given stops at once, saying how to give one', async (t) => {
  const failed = await runGitfunc(['serve', '--port', '0', '--data-dir', path.join(work, 'unused')]).then(
    () => undefined,
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  t.equal(failed?.code, 1);
  t.equal(failed?.stdout, '', 'nothing was started: no log line');
  t.match(failed?.stderr, /^gitfunc: no functions repository given and the default \.\/functions\.example is not in .+: pass --repo URL\|PATH or set GITFUNC_REPO\n$/);
  t.notOk(existsSync(path.join(work, 'unused')), 'no data dir was made');
});

t.test('serve --repo serves a real call; the client commands reach it', async (t) => {
  const server = await spawnGitfunc(
    ['--repo', repo, '--data-dir', path.join(work, 'data'), '--workers', '1', '--poll-seconds', '0'],
    // No drain on SIGTERM: no load balancer watches /readyz here.
    { GITFUNC_SHUTDOWN_DRAIN_SECONDS: '0' },
    [gitfunc],
    app,
  );
  t.teardown(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) process.kill(server.child.pid!, 'SIGKILL');
    await server.exited;
  });
  await waitReady(server.url);
  const res = await fetch(`${server.url}/api/v1/al/hello/simplified?message=hi`);
  t.equal(res.status, 200);
  t.same(await res.json(), { message: 'hi' });

  const { stdout } = await runGitfunc(['call', 'hello', 'message=from-the-cli', '--url', server.url]);
  t.same(JSON.parse(stdout), { message: 'from-the-cli' });

  process.kill(server.child.pid!, 'SIGTERM');
  t.equal(await server.exited, 0, 'stopped on SIGTERM');
});

t.test('check on the functions repository exits 0', async (t) => {
  const { stdout } = await runGitfunc(['check', repo, '--data-dir', path.join(work, 'check-data')]);
  t.match(stdout, /^ok: .+ is valid/m);
});
