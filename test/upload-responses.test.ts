// DFF.RESP_FILE of an uploaded file (CONTRACT sections 3, 4 and 9): a sync call answers with
// its own upload byte-exact and its folder still goes; another call's upload folder is refused.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const REPO = path.join(FIXTURES, 'uploads');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-upload-responses-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const uploadsRoot = path.join(dataDir, 'uploads');

// Two workers: an async task holding its upload on one, sync calls on the other.
const gitfunc = await startGitfunc(['--repo', REPO, '--data-dir', dataDir, '--workers', '2'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function form(fields: Record<string, string>, files: [name: string, data: Buffer, type?: string][]): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  for (const [name, data, type] of files) body.append('file', new Blob([data], type === undefined ? {} : { type }), name);
  return body;
}

function uploadFolders(): string[] {
  return existsSync(uploadsRoot) ? readdirSync(uploadsRoot) : [];
}

/** Polls `check` until it holds: a streamed answer's folder goes just after its last byte. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The ResponseRefused exception of a call that was refused (599.1). */
async function refusedException(t: Test, res: Response): Promise<string> {
  t.equal(res.status, 599);
  const body = (await res.json()) as { error: number; detail: { exception: string } };
  t.equal(body.error, 599.1);
  return body.detail.exception;
}

for (const autoDelete of [false, true]) {
  t.test(`a sync call answers with its own upload byte-exact, then its folder is gone (auto_delete=${autoDelete})`, async (t) => {
    // Large enough to take many writes: the folder must outlive the whole stream.
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const res = await fetch(`${base}/api/v1/al/send-back/s`, {
      method: 'POST',
      body: form(autoDelete ? { auto_delete: 'yes' } : {}, [['données ü.bin', data, 'application/octet-stream']]),
    });
    t.equal(res.status, 200);
    const taskId = res.headers.get('x-task-id')!;
    t.match(taskId, /^task-/);
    t.equal(res.headers.get('content-length'), String(data.length));
    t.match(res.headers.get('content-disposition'), /^attachment; filename="donn_es _\.bin"; filename\*=UTF-8''donn%C3%A9es%20%C3%BC\.bin$/);
    const received = Buffer.from(await res.arrayBuffer());
    t.equal(received.length, data.length);
    t.equal(sha256(received), sha256(data), 'served back byte-exact');
    await eventually(() => !existsSync(path.join(uploadsRoot, taskId)), 'the call\'s upload folder removed');
    t.same(uploadFolders(), [], 'nothing of the call is left');
  });
}

t.test('a client leaving in the middle of the file still has the folder removed', async (t) => {
  const data = randomBytes(8 * 1024 * 1024);
  const controller = new AbortController();
  const res = await fetch(`${base}/api/v1/al/send-back/s`, { method: 'POST', body: form({}, [['big.bin', data]]), signal: controller.signal });
  t.equal(res.status, 200);
  const taskId = res.headers.get('x-task-id')!;
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await eventually(() => !existsSync(path.join(uploadsRoot, taskId)), 'the folder removed after the client left');
  t.same(uploadFolders(), []);
});

t.test("DFF.RESP_FILE of another call's upload folder is refused", async (t) => {
  const held = await fetch(`${base}/api/v1/bat/hold/s`, { method: 'POST', body: form({}, [['secret.csv', Buffer.from('not,yours\n')]]) });
  const heldId = ((await held.json()) as { data: { id: string } }).data.id;
  const heldFolder = path.join(uploadsRoot, heldId);
  const heldFile = path.join(heldFolder, 'upload-1.csv');
  await waitForTask(base, heldId, (record) => record.status === 'running');
  t.ok(existsSync(heldFile), 'the other task\'s upload is on disk');

  const withoutUploads = await fetch(`${base}/api/v1/al/send-path/s`, { method: 'POST', body: form({ path: heldFile }, []) });
  t.match(await refusedException(t, withoutUploads), /^ResponseRefused: .* is outside the revision's resources\/ folder and the call's upload folder/);

  const withOwn = await fetch(`${base}/api/v1/al/send-path/s`, { method: 'POST', body: form({ path: heldFile }, [['mine.txt', Buffer.from('mine')]]) });
  const ownId = withOwn.headers.get('x-task-id')!;
  t.match(await refusedException(t, withOwn), /outside/, 'a call with uploads of its own is refused too');
  t.notOk(existsSync(path.join(uploadsRoot, ownId)), 'the refused call\'s own folder is gone');

  // Climbing out of its own folder into the other: the resolved path is what is checked.
  const climbing = await fetch(`${base}/api/v1/al/send-path/s`, {
    method: 'POST',
    body: form({ path: `{own}/../${heldId}/upload-1.csv` }, [['mine.txt', Buffer.from('mine')]]),
  });
  t.match(await refusedException(t, climbing), /outside/);
  const folderOnly = await fetch(`${base}/api/v1/al/send-path/s`, { method: 'POST', body: form({ path: uploadsRoot }, []) });
  t.match(await refusedException(t, folderOnly), /outside/, 'the uploads root itself is refused');

  t.ok(existsSync(heldFile), 'the other task\'s upload is untouched');
  writeFileSync(path.join(heldFolder, 'go'), '');
  t.match(await waitForTask(base, heldId, ended), { status: 'success' });
  await eventually(() => !existsSync(heldFolder), 'the held folder removed when its task ended');
  t.same(uploadFolders(), []);
});

t.test('a symlink a script makes in its own upload folder is not followed out of it', async (t) => {
  // The folder is mounted read-write: the link is a real one on the host, so the server's
  // resolved-path check is what stops it.
  for (const target of ['/etc/hostname', path.join(REPO, 'gitfunc.yaml'), uploadsRoot]) {
    const res = await fetch(`${base}/api/v1/al/send-link/s`, { method: 'POST', body: form({ target }, [['mine.txt', Buffer.from('mine')]]) });
    const taskId = res.headers.get('x-task-id')!;
    t.match(await refusedException(t, res), /^ResponseRefused: .* is outside the revision's resources\/ folder and the call's upload folder/, target);
    t.notOk(existsSync(path.join(uploadsRoot, taskId)), 'its folder, link included, is gone');
  }
  t.same(uploadFolders(), []);
});
