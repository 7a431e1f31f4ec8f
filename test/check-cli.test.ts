// `gitfunc check DIR`, run as a user runs it: a process, its output and its exit code.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { checkInProcess } from './helpers/check-in-process.js';
import { createLogger } from '../src/log.js';
import { EXAMPLE_REPO, FIXTURES, SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];


function check(dir: string, env: Record<string, string> = {}, flags: string[] = []): { code: number | null; out: string } {
  const run = spawnSync(executable, [...launcher, 'check', dir, ...flags], {
    encoding: 'utf8',
    // The suite's snapshot dir: each check restores its interpreter instead of loading Pyodide.
    env: { PATH: process.env.PATH, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR, ...env },
    timeout: 120_000,
  });
  return { code: run.status, out: run.stdout + run.stderr };
}

t.test('the check starts its interpreter from the snapshot', async (t) => {
  const logs: { msg?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as { msg?: string });
      done();
    },
  });
  const problems = await checkInProcess(EXAMPLE_REPO, { packagesDir: path.join(t.testdir(), 'packages'), logger: createLogger('info', sink) });
  t.same(problems.filter((p) => p.severity === 'error'), [], 'functions.example is valid');
  t.ok(logs.some((line) => line.msg === 'worker restored from the interpreter snapshot'), 'restored, not loaded');
  t.notOk(logs.some((line) => /normally/.test(line.msg ?? '')), 'no fallback to a normal load');
});

t.test('functions.example is valid', async (t) => {
  const { code, out } = check(EXAMPLE_REPO);
  t.equal(code, 0, out);
  t.match(out, /^ok: .* is valid/m);
});

t.test('every problem of a broken repository is printed with its position', async (t) => {
  const dir = path.join(FIXTURES, 'broken');
  const { code, out } = check(dir);
  t.equal(code, 1, out);
  const lines = out.trim().split('\n');
  const expected = [
    `${dir}/gitfunc.yaml:6:11 function 'helper' is not decorated with @DFF.API`,
    `${dir}/gitfunc.yaml:8:11 script 'demo__nope' not found (expected demo/nope.py)`,
    `${dir}/gitfunc.yaml:12:11 cronJobs[0].cron: '61 * * * *' is not a valid cron expression`,
    `${dir}/gitfunc.yaml:13:15 cronJobs[0].timezone: unknown time zone 'Mars/Olympus'`,
    `${dir}/more/syntax.py:4:12 SyntaxError`,
  ];
  for (const prefix of expected) t.ok(lines.some((l) => l.startsWith(prefix)), `prints ${prefix}`);
  t.match(out, /5 error\(s\)/);
});

t.test('a manifest schema error points at the offending key', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(EXAMPLE_REPO, dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'gitfunc.yaml'),
    'version: 1\nsyncAPIs:\n  - id: hello\n    func: demo__basic.hello_world\n    tiemout: 5\n',
  );
  const { code, out } = check(dir);
  t.equal(code, 1);
  t.match(out, `${dir}/gitfunc.yaml:5:5 unknown field 'tiemout' in syncAPIs[0]`);
});

t.test('an unset secret only warns in check mode', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(EXAMPLE_REPO, dir, { recursive: true });
  // Without the example's packages and connectors, the scripts using them go too.
  rmSync(path.join(dir, 'text'), { recursive: true });
  rmSync(path.join(dir, 'counter'), { recursive: true });
  writeFileSync(
    path.join(dir, 'gitfunc.yaml'),
    'version: 1\nenv:\n  DB_PASSWORD: ${DB_PASSWORD}\nsyncAPIs:\n  - id: hello\n    func: demo__basic.hello_world\n',
  );
  const { code, out } = check(dir, { GITFUNC_ENV_ALLOW: 'DB_PASSWORD' });
  t.equal(code, 0, out);
  t.match(out, /gitfunc\.yaml:3:\d+ warning: /);
});

t.test('a script looping at import fails the check at its line, within the import limit', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Only the looping script: the limit covers every script's import, and on a loaded machine
  // the example's own scripts could use up a second before the loop is reached.
  mkdirSync(path.join(dir, 'demo'));
  writeFileSync(path.join(dir, 'gitfunc.yaml'), 'version: 1\nsyncAPIs:\n  - id: spin\n    func: demo__spin.run\n');
  writeFileSync(path.join(dir, 'demo', 'spin.py'), 'ticks = 0\nwhile True:\n    ticks += 1\n');
  const config = path.join(dir, 'limits.yaml');
  writeFileSync(config, 'limits:\n  importSeconds: 1\n');
  const { code, out } = check(dir, {}, ['--config', config]);
  t.equal(code, 1, out);
  t.match(out, `${dir}/demo/spin.py:3:`);
  t.match(out, /import did not finish within the time allowed/);
});

t.test("a manifest kwarg the function cannot take is an error at its key, with a did-you-mean", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'demo'));
  writeFileSync(
    path.join(dir, 'demo', 'kw.py'),
    "@DFF.API('Greet')\ndef greet(name, lang='en'):\n    return name\n\n\n@DFF.API('Any')\ndef anything(**kwargs):\n    return kwargs\n",
  );
  writeFileSync(
    path.join(dir, 'gitfunc.yaml'),
    [
      'version: 1',
      'syncAPIs:',
      '  - id: greet',
      '    func: demo__kw.greet',
      '    kwargs: {nmae: INPUT_BY_CALLER, lang: en}',
      '  - id: anything',
      '    func: demo__kw.anything',
      '    kwargs: {whatever: 1}',
      'cronJobs:',
      '  - id: nightly',
      '    func: demo__kw.greet',
      "    cron: '0 3 * * *'",
      '    kwargs:',
      '      name: bob',
      '      colour: red',
      '',
    ].join('\n'),
  );
  const problems = await checkInProcess(dir, { packagesDir: path.join(t.testdir(), 'packages') });
  const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.line}:${p.col} ${p.message}`);
  t.same(errors, [
    "5:14 kwarg 'nmae' is not a parameter of demo__kw.greet (did you mean 'name'?); it takes 'name', 'lang'",
    "15:7 kwarg 'colour' is not a parameter of demo__kw.greet; it takes 'name', 'lang'",
  ], 'the misspelt and the unknown kwarg; **kwargs takes any name');
});

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(executable, [...launcher, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

t.test('--help of serve and check lists every flag with its default and variable', async (t) => {
  const { FLAG_SETTINGS, ENV_SETTINGS } = await import('../src/config/index.js');
  for (const command of ['serve', 'check']) {
    const { code, stdout, stderr } = cli([command, '--help']);
    t.equal(code, 0, `${command} --help exits 0: ${stderr}`);
    t.equal(stderr, '', 'nothing on stderr');
    t.match(stdout, new RegExp(`^Usage: gitfunc ${command}`));
    for (const flag of Object.keys(FLAG_SETTINGS)) t.match(stdout, new RegExp(`^  --${flag} `, 'm'), `names --${flag}`);
    for (const name of Object.keys(ENV_SETTINGS)) t.ok(stdout.includes(name), `names ${name}`);
  }
  const { stdout } = cli(['serve', '--help']);
  t.match(stdout, /^ {2}--port N {2}\(env GITFUNC_PORT; default: 8088\)\n {6}Port the HTTP server listens on/m, 'a flag, its variable, default and description');
  t.match(stdout, /^ {2}GITFUNC_ADMIN_TOKEN {2}\(no default\)/m, 'secrets are listed as variables, without a default');
  t.match(stdout, /--log-level TEXT .*\n.*One of: trace, debug, info/, 'an enum lists its choices');
});

t.test('gitfunc --help exits 0 and names the commands', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const { code, stdout } = cli(args);
    t.equal(code, 0, args.join(' '));
    t.match(stdout, /gitfunc serve .*\n.*gitfunc check DIR/);
  }
  t.equal(cli([]).code, 2, 'no command at all is a usage error');
});

t.test('--version prints the version of package.json', async (t) => {
  const { version } = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v', 'version']) {
    const { code, stdout } = cli([flag]);
    t.equal(code, 0, flag);
    t.equal(stdout, `gitfunc ${version}\n`, flag);
  }
});

t.test('bin/gitfunc.js runs dist/ as built, and warns when src/ is newer', async (t) => {
  // A copy of the launcher beside a stand-in dist/main.js: the launcher is what is under test.
  const root = t.testdir({ bin: {}, dist: { 'main.js': "process.stdout.write('ran\\n');\n", '.built': '' }, src: { 'main.ts': '' } });
  cpSync(path.resolve(import.meta.dirname, '..', 'bin', 'gitfunc.js'), path.join(root, 'bin', 'gitfunc.js'));
  const launch = () => spawnSync(process.execPath, [path.join(root, 'bin', 'gitfunc.js')], { encoding: 'utf8', timeout: 30_000 });
  const past = new Date(Date.now() - 60_000);
  utimesSync(path.join(root, 'src', 'main.ts'), past, past);

  let run = launch();
  t.same([run.status, run.stdout, run.stderr], [0, 'ran\n', ''], 'a current build runs at once, without a word');

  utimesSync(path.join(root, 'src', 'main.ts'), new Date(), new Date());
  run = launch();
  t.equal(run.stdout, 'ran\n', 'a stale build still runs');
  t.match(run.stderr, /^gitfunc: warning: src\/ changed since dist\/ was built; run `npm run build`/, 'and says how to rebuild');

  rmSync(path.join(root, 'src'), { recursive: true });
  run = launch();
  t.same([run.status, run.stderr], [0, ''], 'an installed package (no src/) is not checked');

  rmSync(path.join(root, 'dist'), { recursive: true });
  run = launch();
  t.equal(run.status, 1, 'no dist/: exit 1');
  t.match(run.stderr, /dist\/ is not built: run `npm run build`/, 'naming the fix, not a module stack');
});
