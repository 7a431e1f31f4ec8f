// `gitfunc tasks --follow`, `gitfunc run-cron` and `call --async --wait`, run as a user runs
// them: child processes talking HTTP to one started server; and the `endedSince` filter they use.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { followTasks } from '../src/client/follow-tasks.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];

const TOKEN = 'cli-follow-admin-token';
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'cli-tail')], { GITFUNC_ADMIN_TOKEN: TOKEN });
t.teardown(() => gitfunc.close());
const ENV = { PATH: process.env.PATH ?? '', GITFUNC_URL: gitfunc.url, GITFUNC_ADMIN_TOKEN: TOKEN };

type Run = { code: number; stdout: string; stderr: string };

/** The CLI as a child process (async: the server answers from this process's event loop). */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(executable, [...launcher, ...args], { env: ENV, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

async function adminGet(route: string): Promise<{ status: number; body: { ok: boolean; data: { records: { id: string; endTime: number }[] } } }> {
  const res = await fetch(`${gitfunc.url}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as { ok: boolean; data: { records: { id: string; endTime: number }[] } } };
}

/** A sync call made from this process; resolves to its task id once it has ended. */
async function callShout(word: string): Promise<string> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/shout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kwargs: { word } }) });
  await res.text();
  return res.headers.get('x-task-id') ?? 'missing';
}

t.test('call --async --wait: the result on stdout, the print output and the task id on stderr', async (t) => {
  const run = await cli(['call', 'report', 'name=weekly', '--async', '--wait', '--poll-ms', '50']);
  t.equal(run.code, 0, run.stderr);
  t.same(JSON.parse(run.stdout), { report: 'weekly', pages: 3 });
  t.match(run.stderr, /^task task-\S+$/m);
  t.match(run.stderr, /building report weekly/);
});

t.test('run-cron: the task id; with --wait the ended run as `tasks ID` shows it', async (t) => {
  const started = await cli(['run-cron', 'tidy']);
  t.equal(started.code, 0, started.stderr);
  t.match(started.stdout, /^task-\S+\n$/);
  const [waited, failed] = await Promise.all([cli(['run-cron', 'tidy', '--wait', '--poll-ms', '50']), cli(['run-cron', 'broken', '--wait', '--poll-ms', '50'])]);
  t.equal(waited.code, 0, waited.stderr);
  t.match(waited.stdout, /^id: +task-\S+$/m);
  t.match(waited.stdout, /^status: +success$/m);
  t.match(waited.stdout, /^function: +tail__jobs\.tidy \(manual tidy\)$/m);
  t.match(waited.stdout, /^result: +\{"removed":2\}$/m);
  t.match(waited.stdout, /print output:\n.*tidying \/tmp\/old/);
  t.equal(failed.code, 1, 'a failed run exits 1');
  t.match(failed.stdout, /^status: +failure$/m);
  t.match(failed.stdout, /^error: +KeyError: /m);
  t.match(failed.stdout, /print output:\n.*about to fail/);
  t.match(failed.stdout, /traceback:\n[^]*line \d+, in broken/);
  // The run started without --wait has ended by now, and `tasks ID` shows it the same way.
  const shown = await cli(['tasks', started.stdout.trim()]);
  t.match(shown.stdout, /^function: +tail__jobs\.tidy \(manual tidy\)$/m);
});

t.test('run-cron: an unknown job id is a clear error and exit code 1', async (t) => {
  const [unknown, usage] = await Promise.all([cli(['run-cron', 'no-such-job', '--wait']), cli(['run-cron'])]);
  t.equal(unknown.code, 1);
  t.equal(unknown.stdout, '');
  t.match(unknown.stderr, /^gitfunc: 404\.\d+ ENotFound: No cron job 'no-such-job'$/m);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /name one cron job/);
});

t.test('tasks --follow prints the runs that end after it started, until SIGINT (exit 0)', async (t) => {
  const before = await callShout('early');
  const child = spawn(executable, [...launcher, 'tasks', '--follow', '--poll-ms', '100'], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const until = async (what: RegExp): Promise<void> => {
    for (let waited = 0; !what.test(stdout); waited += 50) {
      if (waited > 20_000 || child.exitCode !== null) throw new Error(`no ${what} in: ${stdout} ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  // Once it says it follows, its baseline is taken: the calls below are new.
  for (let waited = 0; !stderr.includes('following task records'); waited += 50) {
    if (waited > 20_000 || child.exitCode !== null) throw new Error(`not following: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const [ok, bad, cron] = await Promise.all([cli(['call', 'shout', 'word=later']), cli(['call', 'shout', 'word=boom']), cli(['run-cron', 'tidy'])]);
  const okId = /^task (\S+)$/m.exec(ok.stderr)?.[1];
  const badId = /^task (\S+)$/m.exec(bad.stderr)?.[1];
  const cronId = cron.stdout.trim();
  await until(new RegExp(cronId));
  await until(new RegExp(`${badId}`));
  await until(new RegExp(`${okId}`));
  t.match(stdout, new RegExp(`^${okId}  \\S+  success +syncAPI +shout  \\d+ms$`, 'm'));
  t.match(stdout, new RegExp(`^${badId}  \\S+  failure +syncAPI +shout  \\d+ms  RuntimeError: cannot shout boom$`, 'm'));
  t.match(stdout, new RegExp(`^${cronId}  \\S+  success +manual +tidy  \\d+ms$`, 'm'));
  t.notMatch(stdout, before, 'a run that ended before it started is not printed');
  t.equal(stdout.trim().split('\n').length, 3, 'each run once');
  child.kill('SIGINT');
  t.same(await exited, { code: 0, signal: null });
  t.match(stderr, /^following task records that end from \S+Z \(Ctrl-C to stop\)\n$/);
});

t.test('followTasks: a run that ended a moment before it started is history, not printed', async (t) => {
  // Ended within the 2 s the first poll reaches back to (for a record stored late): the
  // baseline poll must hold it back.
  const early = await callShout('moment');
  const lines: string[] = [];
  const stop = new AbortController();
  const out = { stdout: (text: string) => void lines.push(text), stderr: () => {} };
  const following = followTasks({ url: gitfunc.url, token: TOKEN }, 50, out, stop.signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const late = await callShout('late');
  for (let waited = 0; !lines.join('').includes(late) && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  stop.abort();
  t.equal(await following, 0);
  t.equal(lines.length, 1, lines.join(''));
  t.match(lines[0], late);
  t.notMatch(lines.join(''), early);
});

t.test('GET /api/v1/task-records?endedSince: finished records that ended from then on', async (t) => {
  const from = Date.now();
  const run = await cli(['call', 'shout', 'word=since']);
  const id = /^task (\S+)$/m.exec(run.stderr)?.[1];
  const later = await adminGet(`/api/v1/task-records?endedSince=${from}`);
  t.equal(later.status, 200);
  t.ok(later.body.data.records.some((r) => r.id === id), 'the call that ended since');
  t.ok(later.body.data.records.every((r) => r.endTime >= from), 'and only records that ended since');
  const none = await adminGet(`/api/v1/task-records?endedSince=${Date.now() + 60_000}`);
  t.same(none.body.data.records, []);
  const bad = await adminGet('/api/v1/task-records?endedSince=yesterday');
  t.equal(bad.status, 400);
});
