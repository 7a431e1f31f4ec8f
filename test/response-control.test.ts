// DFF.RESP, DFF.RESP_FILE and DFF.REDIRECT through a started gitfunc: status, content type,
// headers, downloads, streamed files, and everything a script must not be able to do with them.
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(readTree(path.join(FIXTURES, 'respond')));
// Links git accepts (they stay inside the repository), one of them out of resources/.
symlinkSync('../gitfunc.yaml', path.join(work.dir, 'resources', 'escape.txt'));
symlinkSync('hello.txt', path.join(work.dir, 'resources', 'alias.txt'));
await work.commit({}, 'links');
await git.publish('respond', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('respond'), '--ref', 'main'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());

async function get(api: string, kwargs?: Record<string, unknown>): Promise<Response> {
  const query = kwargs === undefined ? '' : `?kwargs=${encodeURIComponent(JSON.stringify(kwargs))}`;
  return fetch(`${gitfunc.url}/api/v1/al/${api}${query}`, { redirect: 'manual' });
}

/** The DFF error body of a refused response, checked to be a failure of the call. */
async function refused(t: Test, res: Response): Promise<string> {
  t.equal(res.status, 599);
  const body = (await res.json()) as { error: number; detail: { exception: string } };
  t.equal(body.error, 599.1);
  return body.detail.exception;
}

t.test('RESP sets the status, headers and content type', async (t) => {
  const res = await get('custom', { status: 201 });
  t.equal(res.status, 201);
  t.equal(res.headers.get('x-custom'), 'yes');
  t.equal(res.headers.get('cache-control'), 'no-store');
  t.match(res.headers.get('content-type'), /^application\/json/);
  t.match(res.headers.get('x-task-id'), /^task-/);
  t.same(await res.json(), { made: true });

  const csv = await get('typed');
  t.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  t.equal(await csv.text(), 'a,b\n1,2\n');
  const full = await get('typed', { content_type: 'application/vnd.test+csv' });
  t.equal(full.headers.get('content-type'), 'application/vnd.test+csv');
  t.match(await refused(t, await get('typed', { content_type: 'nonsense' })), /unknown content_type/);

  const bytes = await get('bytes');
  t.same([...new Uint8Array(await bytes.arrayBuffer())], [0, 1, 2, 255]);
});

t.test('RESP download sets an RFC 6266 Content-Disposition', async (t) => {
  const named = await get('data-download', { name: 'report.json' });
  t.equal(named.headers.get('content-disposition'), 'attachment; filename="report.json"');
  t.same(await named.json(), { x: 1 });
  const unnamed = await get('data-download');
  t.equal(unnamed.headers.get('content-disposition'), 'attachment; filename="api-resp.json"');
  const unicode = await get('data-download', { name: '../résumé 日本.json' });
  t.equal(
    unicode.headers.get('content-disposition'),
    `attachment; filename="r_sum_ __.json"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.json`,
    'no path, an ASCII fallback and the exact name',
  );
});

t.test('REDIRECT answers 302 with Location', async (t) => {
  const res = await get('redirect', { to: 'https://example.com/next?a=1' });
  t.equal(res.status, 302);
  t.equal(res.headers.get('location'), 'https://example.com/next?a=1');
  t.match(res.headers.get('content-type'), /^text\/plain/);
});

t.test('RESP_FILE streams a file of resources/, as a download by default', async (t) => {
  const res = await get('file');
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-disposition'), 'attachment; filename="hello.txt"');
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.equal(res.headers.get('content-length'), String('hello from resources\n'.length));
  t.equal(await res.text(), 'hello from resources\n');

  const inline = await get('file', { path: 'resources/sub/table.csv', download: false });
  t.equal(inline.headers.get('content-disposition'), null);
  t.equal(inline.headers.get('content-type'), 'text/csv; charset=utf-8');
  t.equal(await inline.text(), 'name,n\nada,1\n');

  const renamed = await get('file', { path: 'resources/résumé 日本.txt', download: 'out.txt' });
  t.equal(renamed.headers.get('content-disposition'), 'attachment; filename="out.txt"');
  const unicode = await get('file', { path: 'resources/résumé 日本.txt' });
  t.match(unicode.headers.get('content-disposition'), /filename\*=UTF-8''r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC\.txt$/);

  t.equal(await (await get('file', { path: 'resources/alias.txt' })).text(), 'hello from resources\n', 'a link inside resources/ is followed');
  // auto_delete never deletes a revision's own files.
  await (await get('file', { auto_delete: true })).text();
  t.equal((await get('file')).status, 200);
});

t.test('RESP_FILE refuses anything outside resources/ and the upload folder', async (t) => {
  for (const [name, filePath, reason] of [
    ['an absolute path', '/proc/self/environ', /outside the revision's resources\/ folder/],
    ['a path climbing out', 'resources/../gitfunc.yaml', /outside/],
    ['a file of the revision outside resources/', 'store/counters.py', /outside/],
    ['a symlink out of resources/', 'resources/escape.txt', /outside/],
    ['a missing file', 'resources/missing.txt', /no such file/],
    ['a folder', 'resources/sub', /not a file/],
  ] as const) {
    const exception = await refused(t, await get('file', { path: filePath }));
    t.match(exception, /^ResponseRefused: /, name);
    t.match(exception, reason, name);
  }
});

t.test('a header value with CR or LF fails the call instead of being sent', async (t) => {
  const checkedInPython = await refused(t, await get('bad-header', { value: 'a\r\nSet-Cookie: stolen=1' }));
  t.match(checkedInPython, /^ValueError: response header X-Evil contains CR, LF or NUL/);
  const checkedByServer = await get('sneaky-header');
  t.equal(checkedByServer.headers.get('set-cookie'), null);
  t.match(await refused(t, checkedByServer), /^ResponseRefused: response header X-Evil must be a string without CR, LF or NUL/);
});

t.test('a response result is recorded with its data as the return value', async (t) => {
  const sync = await get('custom', { status: 202 });
  const record = await waitForTask(gitfunc.url, sync.headers.get('x-task-id')!, ended);
  t.match(record, { status: 'success', returnValue: { made: true } });
  const refusal = await get('file', { path: '/proc/self/environ' });
  const failed = await waitForTask(gitfunc.url, refusal.headers.get('x-task-id')!, ended);
  t.match(failed, { status: 'failure', exceptionType: 'ResponseRefused' });
});
