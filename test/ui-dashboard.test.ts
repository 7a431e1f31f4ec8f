// GET /ui/ in a real browser (CONTRACT section 14): Debian's chromium, driven by playwright-core,
// signs in with the admin token and reads a real server (2 workers) on a real git repository:
// the served commit, a call's record with its print line, a failure's traceback, new calls
// appearing without a reload, a broken push's error position, cancel, rollback and unpin. No
// console error, no request leaving 127.0.0.1. UPDATE_SCREENSHOTS=1 writes docs/screenshots/*.png.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import t from 'tap';
import { openBrowserPage } from './helpers/browser.js';
import { ADMIN_TOKEN, waitForTask } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { postReload, servedVersion } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : undefined;

/** A repository whose APIs print, fail and sleep, and whose `version` answers `version`. */
function dashboardRepo(version: string): Record<string, string> {
  return {
    'gitfunc.yaml': [
      'version: 1',
      'syncAPIs:',
      '  - id: hello',
      '    func: demo__d.hello',
      '  - id: boom',
      '    func: demo__d.boom',
      '  - id: version',
      '    func: demo__d.version',
      'asyncAPIs:',
      '  - id: nap',
      '    func: demo__d.nap',
      'cronJobs:',
      '  - id: nightly',
      '    func: demo__d.hello',
      "    cron: '0 3 * * *'",
      '',
    ].join('\n'),
    'demo/d.py': [
      'import time',
      '',
      `VERSION = ${JSON.stringify(version)}`,
      '',
      "@DFF.API('Hello')",
      "def hello(name='world'):",
      "    print('saying hello to', name)",
      "    return {'greeting': 'hello ' + name}",
      '',
      "@DFF.API('Boom')",
      'def boom():',
      '    return 1 / 0',
      '',
      "@DFF.API('Version')",
      'def version():',
      '    return VERSION',
      '',
      "@DFF.API('Nap', timeout=120)",
      'def nap():',
      '    time.sleep(100)',
      '',
    ].join('\n'),
  };
}

// The page is what is tested: build it from ui/ as `npm run build` does (about a second).
execFileSync(process.execPath, ['scripts/build-ui.mjs'], { cwd: ROOT, stdio: 'inherit' });

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(dashboardRepo('v1'));
await git.publish('funcs', work.dir);
const first = await work.head();
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0', '--workers', '2'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
});
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

const { page, requests, consoleErrors } = await openBrowserPage(t, { width: 1280, height: 860 });
// Rollback and cancel ask first.
page.on('dialog', (dialog) => void dialog.accept());

/** A sync call made from the test, as any client would; its task id. */
async function call(apiId: string, query = ''): Promise<string> {
  const res = await fetch(`${base}/api/v1/al/${apiId}/simplified${query}`);
  const body = await res.text();
  const taskId = res.headers.get('x-task-id');
  if (taskId === null) throw new Error(`${apiId}: no task id (${res.status} ${body})`);
  return taskId;
}

async function screenshot(name: string, target: Page = page): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

t.test('static files: content types, caching, a self-only policy', async (t) => {
  const index = await fetch(`${base}/ui/`);
  const html = await index.text();
  t.equal(index.status, 200);
  t.match(index.headers.get('content-type'), /^text\/html/);
  t.equal(index.headers.get('cache-control'), 'no-cache', 'the page names the current assets: always revalidated');
  t.match(index.headers.get('content-security-policy'), /default-src 'none'.*connect-src 'self'/);
  const script = /src="(app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  const style = /href="(style-[A-Z0-9]+\.css)"/.exec(html)?.[1];
  t.ok(script && style, 'index.html names the hashed script and style sheet');
  const js = await fetch(`${base}/ui/${script}`);
  await js.arrayBuffer();
  t.match(js.headers.get('content-type'), /^text\/javascript/);
  t.match(js.headers.get('cache-control'), /immutable/);
  const css = await fetch(`${base}/ui/${style}`);
  await css.arrayBuffer();
  t.match(css.headers.get('content-type'), /^text\/css/);
  const missing = await fetch(`${base}/ui/..%2Fpackage.json`);
  await missing.arrayBuffer();
  t.equal(missing.status, 404, 'only the built files are served');
  const redirect = await fetch(`${base}/ui`, { redirect: 'manual' });
  t.equal(redirect.headers.get('location'), '/ui/');
});

t.test('a wrong token says so; the right one shows the served commit', async (t) => {
  await page.goto(`${base}/ui/`);
  await page.fill('#token', 'not-the-token');
  await page.click('button[type=submit]');
  await page.getByRole('alert').filter({ hasText: 'Wrong admin token' }).waitFor();
  // The browser logs the refused request itself; that one is expected.
  const refused = consoleErrors.splice(0);
  t.ok(refused.every((text) => /status of 401/.test(text)), 'only the 401 was logged');
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('button[type=submit]');
  await page.locator('.served-commit').filter({ hasText: first }).waitFor();
  t.equal(await page.evaluate("sessionStorage.getItem('gitfunc.adminToken')"), ADMIN_TOKEN, 'kept in sessionStorage');
  t.match(await page.locator('.workers-summary').textContent(), /^2 /, 'two workers');
  t.equal(await page.locator('table.workers tbody tr').count(), 2, 'one row per worker thread');
});

t.test('a call that prints: its record and its print line, appearing without a reload', async (t) => {
  await page.click('nav >> text=Task records');
  await page.locator('.tasks, p:has-text("No record matches")').first().waitFor();
  await page.evaluate("window.marker = 'same page'");
  const taskId = await call('hello', '?name=Ada');
  const row = page.locator(`tr[data-task="${taskId}"]`);
  await row.waitFor({ timeout: 10_000 });
  t.equal(await page.evaluate('window.marker'), 'same page', 'the page was not reloaded');
  t.match(await row.textContent(), /hello.*syncAPI.*success/);
  await row.locator('a').click();
  await page.locator('.print-log').waitFor();
  t.match(await page.locator('.print-log').textContent(), /saying hello to Ada/);
  t.match(await page.locator('.kwargs').textContent(), /"name": "Ada"/);
  t.match(await page.locator('.result').textContent(), /"greeting": "hello Ada"/);
  await screenshot('task-record');
});

t.test("a failing call's traceback, found with the status filter", async (t) => {
  const taskId = await call('boom');
  await page.click('nav >> text=Task records');
  await page.selectOption('select[name=status]', 'failure');
  const row = page.locator(`tr[data-task="${taskId}"]`);
  await row.waitFor();
  t.equal(await page.locator('table.tasks tbody tr').count(), 1, 'only the failure is listed');
  await row.locator('a').click();
  await page.locator('.traceback').waitFor();
  t.match(await page.locator('.exception').textContent(), /ZeroDivisionError/);
  t.match(await page.locator('.traceback').textContent(), /demo\/d\.py.*line 12/s);
});

t.test('APIs with calls, errors and latency; new calls counted while open', async (t) => {
  await page.click('nav >> text=APIs');
  const hello = page.locator('tr[data-api="hello"]');
  await hello.locator('td.calls', { hasText: /^1$/ }).waitFor();
  await call('hello', '?name=Bob');
  await hello.locator('td.calls', { hasText: /^2$/ }).waitFor({ timeout: 10_000 });
  t.match(await hello.locator('td.errors').textContent(), /^0$/);
  t.match(await page.locator('tr[data-api="boom"] td.errors').textContent(), /^1$/);
  t.match(await hello.locator('td.num').nth(2).textContent(), /ms|s$/, 'a p50');
  await screenshot('apis');
});

t.test('cron jobs with their next fire', async (t) => {
  await page.click('nav >> text=Cron jobs');
  const nightly = page.locator('tr[data-job="nightly"]');
  await nightly.waitFor();
  t.notMatch(await nightly.locator('.next-fire').textContent(), /—/, 'a next fire time');
  t.match(await nightly.textContent(), /0 3 \* \* \*/);
});

t.test('task records a page at a time, filtered by API', async (t) => {
  // Two hello calls so far; 25 more make two pages of 25.
  for (let index = 0; index < 25; index++) await call('hello', `?name=n${index}`);
  await page.goto(`${base}/ui/#/tasks?originId=hello`);
  const rows = page.locator('table.tasks tbody tr');
  await page.getByRole('button', { name: 'Older' }).waitFor();
  t.equal(await rows.count(), 25, 'a full first page');
  t.same(new Set(await rows.locator('td:nth-child(2)').allTextContents()), new Set(['hello']), 'only hello records');
  await page.getByRole('button', { name: 'Older' }).click();
  await page.getByRole('button', { name: 'Newest' }).waitFor();
  await rows.nth(2).waitFor({ state: 'detached' });
  t.equal(await rows.count(), 2, 'the two older records');
  t.equal(await page.getByRole('button', { name: 'Older' }).count(), 0, 'the last page');
  await page.getByRole('button', { name: 'Newest' }).click();
  await rows.nth(24).waitFor();
  t.equal(await rows.count(), 25, 'back to the newest page');
});

t.test('cancel a running async task from its record', async (t) => {
  const res = await fetch(`${base}/api/v1/bat/nap`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const taskId = ((await res.json()) as { data: { id: string } }).data.id;
  await waitForTask(base, taskId, (record) => record.status === 'running');
  await page.goto(`${base}/ui/#/tasks/${taskId}`);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.task-record .badge-cancelled').waitFor({ timeout: 15_000 });
  t.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0, 'no Cancel button once it ended');
});

t.test("a broken push: the history shows its error's file:line:col", async (t) => {
  const broken = dashboardRepo('v1');
  broken['demo/d.py'] = broken['demo/d.py']!.replace('def boom():', 'def boom(:');
  const brokenCommit = await work.commit(broken, 'broken');
  await git.publish('funcs', work.dir);
  t.equal((await postReload(base, true)).data.result, 'failed');
  await page.click('nav >> text=Overview');
  const row = page.locator(`table.deploys tr[data-commit="${brokenCommit}"]`);
  await row.waitFor();
  t.match(await row.locator('.position').first().textContent(), /^demo\/d\.py:11:\d+$/);
  t.match(await row.textContent(), /failed/);
  t.match(await page.locator('.last-failed .position').first().textContent(), /^demo\/d\.py:11:\d+$/);
});

t.test('roll back to the first commit, then unpin', async (t) => {
  const second = await work.commit(dashboardRepo('v2'), 'v2');
  await git.publish('funcs', work.dir);
  t.equal((await postReload(base, true)).data.result, 'served');
  await page.locator('.served-commit').filter({ hasText: second }).waitFor();
  await page.locator(`table.deploys tr.current[data-commit="${second}"]`).waitFor();
  await screenshot('overview');
  await page.locator(`table.deploys tr[data-commit="${first}"]`).first().getByRole('button', { name: 'Roll back' }).click();
  await page.locator('.served-commit').filter({ hasText: first }).waitFor({ timeout: 20_000 });
  await page.locator('.pinned').waitFor();
  t.equal(await servedVersion(base), 'v1', 'the first commit answers again');
  await page.getByRole('button', { name: 'Unpin' }).click();
  await page.locator('.served-commit').filter({ hasText: second }).waitFor({ timeout: 20_000 });
  t.equal(await servedVersion(base), 'v2', 'unpinned: the head is served again');
});

t.test('no console error; every request went to this server', async (t) => {
  t.same(consoleErrors, [], 'no console error');
  t.ok(requests.length > 10, `the page made its requests (${requests.length})`);
  t.same(
    requests.filter((url) => new URL(url).hostname !== '127.0.0.1'),
    [],
    'no request left 127.0.0.1',
  );
});
