// A body-field API auth on multipart uploads (CONTRACT sections 1, 4, 5 and 9): the credential
// is a text field of the form; it never reaches the function, and a refused upload leaves no
// folder on disk, sync or async.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ended, waitForTask } from './helpers/admin-client.js';
import { AUTH_ENV, AUTH_REPO, SECRETS } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-upload-auth-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const uploadsRoot = path.join(dataDir, 'uploads');
const gitfunc = await startGitfunc(['--repo', AUTH_REPO, '--data-dir', dataDir, '--workers', '2'], AUTH_ENV);
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

const CSV = 'a,b\n1,2\n';

function form(fields: Record<string, string>, withFile = true): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  if (withFile) body.append('report', new Blob([CSV], { type: 'text/csv' }), 'report.csv');
  return body;
}

async function post(pathAndQuery: string, body: FormData): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${pathAndQuery}`, { method: 'POST', body });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function uploadFolders(): string[] {
  return existsSync(uploadsRoot) ? readdirSync(uploadsRoot) : [];
}

function assertRefused(t: Test, res: { status: number; body: any; headers: Headers }, what: string): void {
  t.equal(res.status, 401, what);
  t.match(res.body, { ok: false, error: 401.99, reason: 'EAuthFailed' }, what);
  t.equal(res.headers.get('x-task-id'), null, `${what}: nothing ran or queued`);
  t.same(uploadFolders(), [], `${what}: no upload folder left`);
}

t.test('the right body field admits a sync upload; the field is in neither kwargs nor _DFF_HTTP_REQUEST', async (t) => {
  const ok = await post('/api/v1/al/by-body/s', form({ token: SECRETS.BODY_TOKEN, note: 'hi' }));
  t.equal(ok.status, 200);
  t.same(Object.keys(ok.body.kwargs).sort(), ['files', 'note'], 'the token is not a kwarg');
  t.match(ok.body.kwargs.files, [{ originalname: 'report.csv', mimetype: 'text/csv', size: CSV.length }]);
  t.same(ok.body.request.body, { note: 'hi' }, 'the script sees the text fields without the token');
  t.notMatch(JSON.stringify(ok.body), SECRETS.BODY_TOKEN, 'the secret appears nowhere the script could see');
  t.same(uploadFolders(), [], 'the sync call\'s folder is gone after the call');

  const normal = await post('/api/v1/al/by-body/normal', form({ token: SECRETS.BODY_TOKEN, kwargs: '{"n": 1}' }));
  t.equal(normal.status, 200, 'the normal form takes the auth field beside kwargs');
  t.same(Object.keys(normal.body.kwargs).sort(), ['files', 'n']);
  t.notMatch(JSON.stringify(normal.body), SECRETS.BODY_TOKEN);
});

t.test('a wrong or missing body field refuses the upload with 401.99 and keeps nothing', async (t) => {
  assertRefused(t, await post('/api/v1/al/by-body/s', form({ token: 'wrong', note: 'hi' })), 'wrong token');
  assertRefused(t, await post('/api/v1/al/by-body/s', form({ note: 'hi' })), 'missing token');
  assertRefused(t, await post('/api/v1/al/by-body/normal', form({ token: 'wrong', kwargs: '{}' })), 'wrong token, normal form');
  assertRefused(t, await post(`/api/v1/al/by-body/s?token=${SECRETS.BODY_TOKEN}`, form({})), 'token in the query, not the body');

  const asFile = new FormData();
  asFile.append('token', new Blob([SECRETS.BODY_TOKEN]), 'token.txt');
  assertRefused(t, await post('/api/v1/al/by-body/s', asFile), 'the token sent as a file part');
});

t.test('an async upload passes the same check before anything is queued', async (t) => {
  assertRefused(t, await post('/api/v1/bat/by-body/s', form({ token: 'wrong' })), 'async, wrong token');
  assertRefused(t, await post('/api/v1/bat/by-body/s', form({})), 'async, missing token');

  const ok = await post('/api/v1/bat/by-body/s', form({ token: SECRETS.BODY_TOKEN, note: 'later' }));
  t.equal(ok.status, 200);
  const record = await waitForTask(base, ok.body.data.id, ended);
  t.equal(record.status, 'success');
  t.same(Object.keys(record.returnValue.kwargs).sort(), ['files', 'note']);
  t.same(record.returnValue.request.body, { note: 'later' });
  t.notMatch(JSON.stringify(record), SECRETS.BODY_TOKEN, 'the task record keeps no credential');
  const deadline = Date.now() + 10_000;
  while (uploadFolders().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(uploadFolders(), [], 'its folder goes when the task ends');
});
