// `gitfunc call`, `status`, `reload`, `tasks`, run as a user runs them: processes talking HTTP to one started server.
import { execFile } from 'node:child_process';
import t from 'tap';
import { EXAMPLE_REPO, startGitfunc } from './helpers/start-gitfunc.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];

const TOKEN = 'cli-commands-admin-token';
const gitfunc = await startGitfunc(['--repo', EXAMPLE_REPO], { GITFUNC_ADMIN_TOKEN: TOKEN });
t.teardown(() => gitfunc.close());

/** The CLI as a child process (async: the server answers from this process's event loop). */
function cli(args: string[], env: Record<string, string> = { GITFUNC_URL: gitfunc.url, GITFUNC_ADMIN_TOKEN: TOKEN }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(executable, [...launcher, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

let syncTaskId = '';

t.test('call: kwargs as JSON when they parse, the result on stdout, the task id on stderr', async (t) => {
  const add = await cli(['call', 'add', 'a=2', 'b=3.5']);
  t.equal(add.code, 0, add.stderr);
  t.equal(add.stdout, '5.5\n');
  const greet = await cli(['call', 'greet', 'name=Ada']);
  t.equal(greet.stdout, 'Hello, Ada!\n');
  const match = /^task (task-\S+)$/m.exec(greet.stderr);
  t.ok(match, greet.stderr);
  syncTaskId = match?.[1] ?? '';
});

t.test('call: a failing call exits 1 with its DFF error and traceback; flags win over the environment', async (t) => {
  const failed = await cli(['call', 'add', 'a=z', 'b=1', '--url', gitfunc.url], { GITFUNC_URL: 'http://127.0.0.1:9' });
  t.equal(failed.code, 1);
  t.equal(failed.stdout, '');
  t.match(failed.stderr, /599\.1 EFuncFailed: Function raised ValueError/);
  t.match(failed.stderr, /File "demo\/basic.py", line \d+, in add/);
  const unknown = await cli(['call', 'no-such-api']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /404\.41 ENotFound/);
  const [unreachable, usage] = await Promise.all([cli(['call', 'add', 'a=1', 'b=1'], { GITFUNC_URL: 'http://127.0.0.1:9' }), cli(['call', 'add', 'a'])]);
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, /gitfunc: cannot reach the server at http:\/\/127\.0\.0\.1:9/);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /'a' is not NAME=VALUE/);
});

t.test('call --async --wait: the task result once it ended', async (t) => {
  const run = await cli(['call', 'summary-async', 'text=alpha beta beta', '--async', '--wait', '--poll-ms', '50']);
  t.equal(run.code, 0, run.stderr);
  t.same(JSON.parse(run.stdout), { greeting: 'summary', distinctWords: 2, longest: 'alpha' });
  t.match(run.stderr, /^task task-\S+$/m);
});

t.test('status: a human summary; reload: its outcome', async (t) => {
  const [run, wrong, reload] = await Promise.all([cli(['status']), cli(['status', '--token', 'wrong']), cli(['reload'])]);
  t.equal(reload.code, 0, reload.stderr);
  t.match(reload.stdout, /^unchanged local-[0-9a-f]+$/m, 'the served folder has not changed');
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^phase: +ready$/m);
  t.match(run.stdout, /commit: +local-[0-9a-f]+ loaded /);
  t.match(run.stdout, /workers: +1 /);
  t.match(run.stdout, /failed scripts: none/);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /gitfunc: 401\.99 EAuthFailed: /);
});

t.test('tasks: the recent records, and one with its details', async (t) => {
  const [list, one] = await Promise.all([cli(['tasks']), cli(['tasks', syncTaskId])]);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, new RegExp(`^${syncTaskId} .* success +syncAPI +greet `, 'm'));
  t.match(list.stdout, /failure +syncAPI +add /);
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, `id:        ${syncTaskId}`);
  t.match(one.stdout, /function: +demo__basic\.greet \(syncAPI greet\)/);
  t.match(one.stdout, /result: +"Hello, Ada!"/);
});

t.test('each client command has --help with its flags, defaults and variables', async (t) => {
  const commands = ['call', 'status', 'reload', 'tasks', 'run-cron', 'rollback', 'unpin'];
  const runs = await Promise.all(commands.map((command) => cli([command, '--help'])));
  runs.forEach((run, i) => {
    t.equal(run.code, 0);
    t.match(run.stdout, `Usage: gitfunc ${commands[i]}`);
    t.match(run.stdout, /--url URL .*GITFUNC_URL; default: http:\/\/127\.0\.0\.1:8088/);
    t.match(run.stdout, /--token TOKEN .*GITFUNC_ADMIN_TOKEN/);
  });
  t.match(runs[0]!.stdout, /--poll-ms N .*default: 200/);
  t.match(runs[3]!.stdout, /--follow, -f .*\n.*\n +--poll-ms N .*default: 1000/);
  t.match(runs[4]!.stdout, /--wait .*\n.*\n +--poll-ms N .*default: 200/);
});
