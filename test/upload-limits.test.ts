// Upload limits (limits.uploadFileBytes, uploadTotalBytes, uploadFiles): exact boundaries,
// the DFF error body, and nothing left on disk after a refused upload.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const FILE_BYTES = 1000;
const TOTAL_BYTES = 2500;
const FILES = 3;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-upload-limits-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const uploadsRoot = path.join(dataDir, 'uploads');
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'uploads'), '--data-dir', dataDir], {
  GITFUNC_UPLOAD_FILE_BYTES: String(FILE_BYTES),
  GITFUNC_UPLOAD_TOTAL_BYTES: String(TOTAL_BYTES),
  GITFUNC_UPLOAD_FILES: String(FILES),
});
t.teardown(() => gitfunc.close());

async function upload(sizes: number[], route = '/api/v1/al/describe/s'): Promise<{ status: number; body: any }> {
  const body = new FormData();
  sizes.forEach((size, i) => body.append(`f${i}`, new Blob([Buffer.alloc(size, 'x')]), `file-${i}.bin`));
  const res = await fetch(`${gitfunc.url}${route}`, { method: 'POST', body });
  return { status: res.status, body: await res.json() };
}

function nothingOnDisk(): string[] {
  return existsSync(uploadsRoot) ? readdirSync(uploadsRoot, { recursive: true }).map(String) : [];
}

t.test('a file of exactly uploadFileBytes is accepted, one byte more is 413.2', async (t) => {
  const ok = await upload([FILE_BYTES]);
  t.equal(ok.status, 200);
  t.match(ok.body.files, [{ size: FILE_BYTES, read: FILE_BYTES }]);

  const over = await upload([FILE_BYTES + 1]);
  t.equal(over.status, 413);
  t.same(Object.keys(over.body).sort(), ['detail', 'error', 'message', 'ok', 'reason', 'status', 'traceId']);
  t.match(over.body, { ok: false, error: 413.2, reason: 'EUploadFileTooLarge', status: 413, detail: { limitBytes: FILE_BYTES } });
  t.same(nothingOnDisk(), [], 'no partial file left');
});

t.test('an oversize file behind a small one is 413.2, on the async API too', async (t) => {
  const big = await upload([10, FILE_BYTES * 2]);
  t.match([big.status, big.body.error], [413, 413.2]);
  const huge = await upload([8 * 1024 * 1024]);
  t.match([huge.status, huge.body.error], [413, 413.1], 'a huge upload is refused early and the answer still arrives');
  const asyncOver = await upload([FILE_BYTES + 1], '/api/v1/bat/describe/s');
  t.match([asyncOver.status, asyncOver.body.error], [413, 413.2]);
  t.same(nothingOnDisk(), []);
});

t.test('uploadFiles files are accepted, one more is 413.3', async (t) => {
  const ok = await upload(Array(FILES).fill(10));
  t.equal(ok.status, 200);
  t.equal(ok.body.files.length, FILES);
  const over = await upload(Array(FILES + 1).fill(10));
  t.match(over.body, { error: 413.3, reason: 'EUploadTooManyFiles', status: 413, detail: { limitFiles: FILES } });
  t.equal(over.status, 413);
  t.same(nothingOnDisk(), []);
});

t.test('files totalling uploadTotalBytes are accepted, one byte more is 413.1', async (t) => {
  const ok = await upload([FILE_BYTES, FILE_BYTES, TOTAL_BYTES - 2 * FILE_BYTES]);
  t.equal(ok.status, 200);
  const over = await upload([FILE_BYTES, FILE_BYTES, TOTAL_BYTES - 2 * FILE_BYTES + 1]);
  t.match([over.status, over.body.error, over.body.detail], [413, 413.1, { limitBytes: TOTAL_BYTES }]);
  t.match(over.body.message, /total/);
  t.same(nothingOnDisk(), []);
});

t.test('a malformed multipart body is 400.43, never a 500', async (t) => {
  const res = await fetch(`${gitfunc.url}/api/v1/al/describe/s`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=abc' },
    body: '--abc\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nsecret-content',
  });
  const body = (await res.json()) as any;
  t.match([res.status, body.error], [400, 400.43]);
  t.notMatch(body.message, /secret-content/, 'the body is not echoed');
  const noBoundary = await fetch(`${gitfunc.url}/api/v1/al/describe/s`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data' },
    body: 'x',
  });
  t.match([noBoundary.status, ((await noBoundary.json()) as any).error], [400, 400.43]);
  t.same(nothingOnDisk(), []);
});
