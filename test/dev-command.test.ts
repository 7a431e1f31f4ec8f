// `gitfunc dev DIR` through the real CLI (bin/gitfunc.js when dist/ is current): a local folder served,
// each saved edit served within a second, a broken edit refused with its file:line:col.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { formatPrettyLine } from '../src/log/pretty-line.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';
import { waitReady } from './helpers/spawn-gitfunc.js';
import { SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];
const MANIFEST = 'version: 1\nsyncAPIs:\n  - id: greet\n    func: demo__greet.greet\n';
const script = (word: string): string => `@DFF.API('Greet')\ndef greet(name='world'):\n    return '${word} ' + name\n`;
/** A pretty line: time, level padded to 5, message; or an indented position line under it. */
const PRETTY_LINE = /^(\d\d:\d\d:\d\d (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S.*|    \S.*)$/;

t.test('formatPrettyLine: time, level, message, key fields; positions on lines of their own', async (t) => {
  const time = new Date(2026, 0, 1, 12, 1, 2).getTime();
  t.equal(
    formatPrettyLine({ level: 30, time, pid: 1, service: 'gitfunc', msg: 'revision served', commit: 'abc1234'.padEnd(40, '0'), ms: 5, path: 'a b' }),
    '12:01:02 INFO  revision served  commit=abc1234 ms=5 path="a b"\n',
  );
  t.equal(
    formatPrettyLine({ level: 50, time, msg: 'revision failed', problems: [{ file: 'gitfunc.yaml', line: 3, col: 5, severity: 'error', message: 'bad' }] }),
    '12:01:02 ERROR revision failed\n    gitfunc.yaml:3:5 bad\n',
  );
  t.equal(
    formatPrettyLine({ level: 40, time, msg: 'left out', script: 's', file: 'demo/s.py', line: 2, col: 1, message: 'SyntaxError: x' }),
    '12:01:02 WARN  left out  script=s\n    demo/s.py:2:1 SyntaxError: x\n',
  );
  t.equal(formatPrettyLine({ level: 40, time, msg: 'failed', err: { type: 'GitfuncError', message: 'no', code: 'X_Y', stack: 'at ...' } }), '12:01:02 WARN  failed  err="GitfuncError: no" code=X_Y\n');
});

t.test('gitfunc dev --help names the command and the settings', async (t) => {
  const help = spawnSync(executable, [...launcher, 'dev', '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /^Usage: gitfunc dev DIR \[FLAGS\]/);
  t.match(help.stdout, /--log-format TEXT  \(env GITFUNC_LOG_FORMAT; default: auto\)/);
});

t.test('gitfunc dev serves a folder and each saved edit', async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-dev-'));
  const funcs = path.join(work, 'funcs');
  mkdirSync(path.join(funcs, 'demo'), { recursive: true });
  writeFileSync(path.join(funcs, 'gitfunc.yaml'), MANIFEST);
  writeFileSync(path.join(funcs, 'demo', 'greet.py'), script('hello'));
  const child: ChildProcess = spawn(executable, [...launcher, 'dev', funcs, '--port', '0', '--workers', '1', '--data-dir', path.join(work, 'data')], {
    env: { PATH: process.env.PATH, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const listening = /listening {2}url=(\S+)/.exec(line);
      if (listening) resolve(listening[1]!);
    });
    void exited.then((code) => reject(new Error(`gitfunc dev exited (${code}) before listening`)));
  });
  t.teardown(async () => {
    process.kill(child.pid!, 'SIGTERM');
    await exited;
    rmSync(work, { recursive: true, force: true });
  });
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'listens on loopback only');
  await waitReady(url);
  const greet = async (api = 'greet'): Promise<string> => (await fetch(`${url}/api/v1/al/${api}`)).text();
  t.equal(await greet(), 'hello world');

  /** Polls until `api` answers `want`; resolves with the ms since `since`. */
  const servedWithin = async (want: string, since: number, api = 'greet'): Promise<number> => {
    while (performance.now() - since < 10_000) {
      if ((await greet(api).catch(() => '')) === want) return performance.now() - since;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${api} never answered ${JSON.stringify(want)}`);
  };
  // The import check worker, started with the server, is ready: from here each edit is one check.
  const workersUp = Date.now() + 60_000;
  while (lines.filter((line) => line.includes('worker restored from the interpreter snapshot')).length < 2 && Date.now() < workersUp) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Written in place, then replaced by a rename (as vim and sed -i save): both are seen.
  let written = performance.now();
  writeFileSync(path.join(funcs, 'demo', 'greet.py'), script('hi'));
  let ms = await servedWithin('hi world', written);
  t.ok(ms < 1000, `the edit is served ${Math.round(ms)} ms after the write`);
  writeFileSync(path.join(funcs, 'demo', '.greet.py.tmp'), script('hey'));
  written = performance.now();
  spawnSync('mv', [path.join(funcs, 'demo', '.greet.py.tmp'), path.join(funcs, 'demo', 'greet.py')]);
  ms = await servedWithin('hey world', written);
  t.ok(ms < 1000, `the replaced file is served ${Math.round(ms)} ms after the rename`);

  const before = lines.length;
  writeFileSync(path.join(funcs, 'gitfunc.yaml'), MANIFEST.replace('func:', 'fnc:'));
  const deadline = Date.now() + 10_000;
  while (!lines.slice(before).some((line) => /^ {4}gitfunc\.yaml:\d+:\d+ /.test(line)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const failure = lines.slice(before).join('\n');
  t.match(failure, /ERROR revision failed: still serving the current revision {2}commit=local-\w+ source=watch/);
  t.match(failure, /\n {4}gitfunc\.yaml:4:5 unknown field 'fnc' in syncAPIs\[0\] \(did you mean 'func'\?\)/);
  t.equal(await greet(), 'hey world', 'the last good revision is still served');

  written = performance.now();
  writeFileSync(path.join(funcs, 'gitfunc.yaml'), `${MANIFEST}  - id: greet2\n    func: demo__greet.greet\n`);
  ms = await servedWithin('hey world', written, 'greet2');
  t.ok(ms < 1000, `the fixed manifest is served ${Math.round(ms)} ms after the write`);

  t.ok(lines.length > 5);
  for (const line of lines) t.match(line, PRETTY_LINE, 'a pretty line');
  t.ok(lines.some((line) => /^\d\d:\d\d:\d\d INFO {2}revision served {2}commit=local-\w+ previousCommit=local-\w+ source=watch ms=\d+/.test(line)));
});
