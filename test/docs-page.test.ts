// GET /docs in a real browser (CONTRACT section 14): Debian's chromium, driven by
// playwright-core, lists the served APIs, calls one with try-it and shows its real answer,
// with no console error and no request leaving 127.0.0.1.
import t from 'tap';
import { openBrowserPage } from './helpers/browser.js';
import { startOpenApiStand } from './helpers/openapi-fixture.js';

const stand = await startOpenApiStand();
t.teardown(() => stand.close());
const base = stand.gitfunc.url;

const { page, requests, consoleErrors } = await openBrowserPage(t);

const operation = (method: string, apiPath: string) =>
  page.locator(`.opblock-${method}`, { has: page.locator(`.opblock-summary-path[data-path="${apiPath}"]`) });

t.test('the page lists the served APIs, hidden ones absent', async (t) => {
  const res = await page.goto(`${base}/docs`);
  t.equal(res?.status(), 200);
  t.match(res?.headers()['content-security-policy'], /default-src 'none'.*connect-src 'self'/, 'the page may reach only this server');
  await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
  const listed = await page.locator('.opblock-summary-path').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-path')));
  for (const apiPath of ['/api/v1/al/greet', '/api/v1/al/greet/s', '/api/v1/al/by-digest', '/api/v1/bat/report']) {
    t.ok(listed.includes(apiPath), `${apiPath} listed`);
  }
  t.notOk(listed.some((apiPath) => apiPath?.includes('internal') || apiPath?.includes('hidden')), 'no hidden API');
  t.match(await page.locator('.info .title').textContent(), /gitfunc APIs/);
  for (const other of ['package.json', 'index.html', '..%2Fpackage.json']) {
    t.equal((await fetch(`${base}/docs/${other}`)).status, 404, `/docs/${other}: only the page's own files are served`);
  }
});

t.test('try it: a call from the page gets the real answer', async (t) => {
  const greet = operation('get', '/api/v1/al/greet/simplified');
  await greet.locator('.opblock-summary').click();
  await greet.locator('.try-out__btn').click();
  await greet.locator('input[placeholder="name"]').fill('Ada');
  await greet.locator('button.execute').click();
  const body = greet.locator('.live-responses-table .response-col_description pre').first();
  await body.waitFor({ timeout: 30_000 });
  t.equal((await body.textContent())?.trim(), 'hello Ada', "the function's answer, as the server sent it");
  t.match(await greet.locator('.live-responses-table tr.response .response-col_status').first().textContent(), /200/);
  t.ok(requests.some((url) => new URL(url).pathname === '/api/v1/al/greet/simplified' && new URL(url).searchParams.get('name') === 'Ada'), 'the page called the API');
});

t.test('no console error; every request went to this server', async (t) => {
  t.same(consoleErrors, [], 'no console error (a Content-Security-Policy refusal would be one)');
  t.ok(requests.length >= 5, `the page made its requests (${requests.length})`);
  const elsewhere = requests.filter((url) => {
    const { protocol, hostname } = new URL(url);
    // data: URLs (Swagger UI's inline images) never leave the page.
    return protocol !== 'data:' && hostname !== '127.0.0.1';
  });
  t.same(elsewhere, [], 'no request left 127.0.0.1');
  t.ok(requests.includes(`${base}/api/v1/openapi.json`), 'the page read the served document');
});
