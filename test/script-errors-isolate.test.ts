// `scriptErrors: isolate` (CONTRACT section 12): scripts that fail to import are left out, what
// names their functions answers 503.3 with the import error's position, the rest serves; the
// default still fails the whole revision, and `gitfunc check` still fails on them.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { checkInProcess } from './helpers/check-in-process.js';
import { parseManifest } from '../src/manifest/index.js';
import { ADMIN_TOKEN, adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { postReload, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const MANIFEST = [
  'version: 1',
  'scriptErrors: isolate',
  'syncAPIs:',
  '  - id: hello',
  '    func: demo__good.hello',
  '  - id: shout',
  '    func: demo__syntax.shout',
  '  - id: early',
  '    func: demo__raises.early',
  'asyncAPIs:',
  '  - id: shoutLater',
  '    func: demo__syntax.shout',
  '  - id: earlyLater',
  '    func: demo__raises.early',
  '  - id: napLater',
  '    func: demo__good.nap',
  'cronJobs:',
  '  - id: goodTick',
  '    func: demo__good.tick',
  '    cron: "* * * * * *"',
  '  - id: shoutTick',
  '    func: demo__syntax.shout',
  '    cron: "* * * * * *"',
  '',
].join('\n');

const GOOD = [
  'import time',
  '',
  "@DFF.API('Hello')",
  'def hello():',
  "    return 'hello'",
  '',
  "@DFF.API('Tick')",
  'def tick():',
  "    return 'tick'",
  '',
  "@DFF.API('Nap')",
  'def nap(seconds=0):',
  '    time.sleep(float(seconds))',
  "    return 'rested'",
  '',
].join('\n');
/** A SyntaxError on line 3. */
const SYNTAX_ERROR = "@DFF.API('Shout')\ndef shout(text='hi'):\n    return text.upper(]\n";
const SYNTAX_FIXED = "@DFF.API('Shout')\ndef shout(text='hi'):\n    return text.upper()\n";
/** Raises at import on line 6, after `early` was decorated: `early` must not be served either. */
const RAISES = "@DFF.API('Early')\ndef early():\n    return 'early'\n\nSETTINGS = {}\nTIMEOUT = SETTINGS['timeout']\n";

const FILES = { 'gitfunc.yaml': MANIFEST, 'demo/good.py': GOOD, 'demo/syntax.py': SYNTAX_ERROR, 'demo/raises.py': RAISES };

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(FILES);
await git.publish('funcs', work.dir);
// Two workers: one background slot for async tasks, and a free worker a reload warms at once.
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0', '--workers', '2'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;
const first = await work.head();

async function call(method: 'GET' | 'POST', route: string, body = '{}'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    ...(method === 'POST' ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

const SYNTAX_DETAIL = { script: 'demo__syntax', file: 'demo/syntax.py', line: 3, col: Number, importError: /^SyntaxError: / };
const RAISES_DETAIL = { script: 'demo__raises', file: 'demo/raises.py', line: 6, col: Number, importError: "KeyError: 'timeout'" };

function expectUnavailable(t: Test, answer: { status: number; body: any }, detail: object, what: string): void {
  t.equal(answer.status, 503, what);
  t.match(answer.body, { ok: false, error: 503.3, reason: 'EScriptImportFailed', detail }, what);
  t.match(answer.body.message, /^Script 'demo__\w+' failed to import: demo\/\w+\.py:\d+:\d+ /, `${what}: the message has the position`);
}

async function records(originId: string): Promise<any[]> {
  return (await adminGet(base, `/api/v1/task-records?originId=${originId}`)).records;
}

function notScheduledLogs(jobId: string): unknown[] {
  return gitfunc.logs.filter((line) => line.msg === 'cron job not scheduled: its script failed to import (scriptErrors: isolate)' && line.jobId === jobId);
}

/** Commits `files` over the first commit's, publishes them and reloads; resolves with the outcome. */
async function pushAndReload(files: Record<string, string>, message: string): Promise<{ commit: string; outcome: any }> {
  const commit = await work.commit({ ...FILES, ...files }, message);
  await git.publish('funcs', work.dir);
  return { commit, outcome: (await postReload(base, true)).data };
}

t.test('the manifest takes failRevision or isolate, failRevision by default', async (t) => {
  t.equal(parseManifest('version: 1\n').manifest?.scriptErrors, 'failRevision');
  t.equal(parseManifest('version: 1\nscriptErrors: isolate\n').manifest?.scriptErrors, 'isolate');
  t.match(parseManifest('version: 1\nscriptErrors: skip\n').problems, [
    { file: 'gitfunc.yaml', line: 2, col: 15, severity: 'error', message: "scriptErrors must be one of: failRevision, isolate (got 'skip')" },
  ]);
});

t.test('the good script serves; sync and async APIs of the broken ones answer 503.3 with the position', async (t) => {
  t.same(await call('GET', '/api/v1/al/hello'), { status: 200, body: 'hello' });
  expectUnavailable(t, await call('GET', '/api/v1/al/shout'), SYNTAX_DETAIL, 'sync, syntax error');
  expectUnavailable(t, await call('POST', '/api/v1/sync/early/simplified'), RAISES_DETAIL, 'sync, exception at import');
  expectUnavailable(t, await call('POST', '/api/v1/bat/shoutLater'), SYNTAX_DETAIL, 'async, syntax error');
  expectUnavailable(t, await call('POST', '/api/v1/async/earlyLater'), RAISES_DETAIL, 'async, exception at import');
  t.equal((await call('GET', '/api/v1/al/nope')).status, 404, 'an unknown API is still 404');
});

t.test('the status lists the failed scripts with their error and position', async (t) => {
  const status = await adminGet(base, '/api/v1/status');
  t.equal(status.revision.commit, first);
  t.same(
    status.revision.failedScripts.map((s: any) => s.script),
    ['demo__raises', 'demo__syntax'],
  );
  t.match(status.revision.failedScripts, [
    { file: 'demo/raises.py', line: 6, col: Number, error: "KeyError: 'timeout'", syncAPIs: ['early'], asyncAPIs: ['earlyLater'], cronJobs: [] },
    { file: 'demo/syntax.py', line: 3, col: Number, error: /^SyntaxError/, syncAPIs: ['shout'], asyncAPIs: ['shoutLater'], cronJobs: ['shoutTick'] },
  ]);
  t.match(status.revision.warnings, [
    { file: 'demo/raises.py', line: 6, severity: 'warning', message: /scriptErrors: isolate/ },
    { file: 'demo/syntax.py', line: 3, severity: 'warning', message: /scriptErrors: isolate/ },
  ]);
  t.same(status.cronJobs.map((job: any) => job.id), ['goodTick'], 'only the good script\'s cron job is scheduled');
});

t.test('the cron job of the broken script does not fire, and the log says why once', async (t) => {
  await waitUntil('ticking', async () => (await records('goodTick')).filter((r) => r.status === 'success').length >= 2, 10_000);
  t.same(await records('shoutTick'), [], 'never fired');
  t.equal(notScheduledLogs('shoutTick').length, 1);
  t.match(notScheduledLogs('shoutTick')[0], { commit: first, file: 'demo/syntax.py', line: 3, message: /^SyntaxError/ });
  expectUnavailable(t, await call('POST', '/api/v1/cron/shoutTick'), SYNTAX_DETAIL, 'a manual run');
});

t.test('under isolate, a revision with other fatal problems still fails', async (t) => {
  const manifest = MANIFEST.replace('    func: demo__good.hello\n', '    func: demo__good.hello\n    auth: nobody\n');
  const { commit, outcome } = await pushAndReload({ 'gitfunc.yaml': manifest }, 'bad auth reference');
  t.match(outcome, { result: 'failed', commit, errors: [{ file: 'gitfunc.yaml', line: 6, message: /no apiAuth with id 'nobody'/ }] });
  t.equal(outcome.errors.length, 1, 'the import failures are not what failed it');
  t.equal((await adminGet(base, '/api/v1/status')).revision.commit, first, 'the first commit still serves');
});

t.test('by default (failRevision) a script that fails to import fails the revision', async (t) => {
  const manifest = MANIFEST.replace('scriptErrors: isolate\n', '');
  const { commit, outcome } = await pushAndReload({ 'gitfunc.yaml': manifest }, 'default policy');
  t.match(outcome, { result: 'failed', commit });
  t.match(outcome.errors, [
    { file: 'demo/raises.py', line: 6, severity: 'error', message: "KeyError: 'timeout'" },
    { file: 'demo/syntax.py', line: 3, severity: 'error', message: /^SyntaxError/ },
  ]);
  t.equal(outcome.errors.length, 2, 'no error for the manifest entries naming their functions');
  t.equal((await adminGet(base, '/api/v1/status')).revision.commit, first, 'the first commit still serves');
});

t.test('a fixed script is served after a push and reload', async (t) => {
  const { commit, outcome } = await pushAndReload({ 'demo/syntax.py': SYNTAX_FIXED }, 'fix the syntax error');
  t.match(outcome, { result: 'served', commit, previousCommit: first });
  t.same(await call('GET', '/api/v1/al/shout'), { status: 200, body: 'HI' });
  t.match(await call('POST', '/api/v1/bat/shoutLater'), { status: 200, body: { ok: true, data: { id: String } } });
  expectUnavailable(t, await call('GET', '/api/v1/al/early'), RAISES_DETAIL, 'the other broken script still answers 503.3');
  const status = await adminGet(base, '/api/v1/status');
  t.same(status.revision.failedScripts.map((s: any) => s.script), ['demo__raises']);
  t.same(status.cronJobs.map((job: any) => job.id).sort(), ['goodTick', 'shoutTick']);
  await waitUntil('the fixed cron job firing', async () => (await records('shoutTick')).some((r) => r.status === 'success'), 10_000);
  t.equal(notScheduledLogs('shoutTick').length, 1, 'no new "not scheduled" line for the fixed revision');
});

t.test('an async task queued before a reload that leaves its script out fails without running', async (t) => {
  // The nap holds the only background slot: the shout task waits in the queue past the reload.
  const nap = await call('POST', '/api/v1/bat/napLater', JSON.stringify({ kwargs: { seconds: 4 } }));
  const queued = await call('POST', '/api/v1/bat/shoutLater');
  t.equal(queued.status, 200);
  const { commit, outcome } = await pushAndReload({ 'demo/syntax.py': SYNTAX_ERROR }, 'break the script again');
  t.match(outcome, { result: 'served', commit });
  t.equal((await adminGet(base, `/api/v1/tasks/${nap.body.data.id}`)).status, 'running', 'the reload was served while the nap still ran');
  const record = await waitForTask(base, queued.body.data.id, ended, 15_000);
  t.match(record, { status: 'failure', commit, exceptionType: 'ScriptImportFailed', exceptionText: /^Script 'demo__syntax' failed to import: demo\/syntax\.py:3:/ });
  t.equal(record.returnValue, undefined, 'it did not run');
});

t.test('gitfunc check still reports the import errors as errors under isolate', async (t) => {
  const dir = t.testdir();
  for (const [name, content] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const problems = await checkInProcess(dir, { packagesDir: path.join(dir, '.packages') });
  t.match(problems, [
    { file: 'demo/raises.py', line: 6, severity: 'error', message: /^KeyError: 'timeout' \(scriptErrors: isolate: a server would leave this script out/ },
    { file: 'demo/syntax.py', line: 3, severity: 'error', message: /^SyntaxError: .*\(scriptErrors: isolate/ },
  ]);
  t.equal(problems.length, 2, 'nothing else: the manifest entries naming their functions are fine');
});
