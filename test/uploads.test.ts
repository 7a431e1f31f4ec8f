// Multipart uploads (CONTRACT section 4) against a started gitfunc: what the function gets,
// that Python reads the files at `filePath`, and how long each call's upload folder lives.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const REPO = path.join(FIXTURES, 'uploads');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-uploads-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const uploadsRoot = path.join(dataDir, 'uploads');

// A leftover of a crashed run, there before the server starts: the first sweep removes it.
const leftover = path.join(uploadsRoot, 'task-leftoverOfACrashedRun01');
mkdirSync(leftover, { recursive: true });
writeFileSync(path.join(leftover, 'upload-1.csv'), 'old');

// Two workers: an async task holding one, sync calls run on the other.
const gitfunc = await startGitfunc(['--repo', REPO, '--data-dir', dataDir, '--workers', '2'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function form(fields: Record<string, string>, files: [field: string, name: string, data: string | Buffer, type?: string][]): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  for (const [field, name, data, type] of files) body.append(field, new Blob([data], type === undefined ? {} : { type }), name);
  return body;
}

async function post(pathAndQuery: string, body: FormData): Promise<{ status: number; body: any; taskId: string | null }> {
  const res = await fetch(`${base}${pathAndQuery}`, { method: 'POST', body });
  return { status: res.status, body: await res.json(), taskId: res.headers.get('x-task-id') };
}

function uploadFolders(): string[] {
  return existsSync(uploadsRoot) ? readdirSync(uploadsRoot) : [];
}

/** Polls `check` until it holds (the runner removes a folder just after the record is stored). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('a leftover upload folder of a crashed run is swept at start', async (t) => {
  await eventually(() => !existsSync(leftover), 'leftover removed');
  t.notOk(existsSync(leftover));
});

t.test('two files with Unicode names and a text field reach the function; Python reads them', async (t) => {
  const csv = 'name,value\nä,1\n';
  const binary = Buffer.from([0, 1, 2, 254, 255, 10, 13, 0]);
  const res = await post(
    '/api/v1/al/describe/s',
    form({ note: 'héllo wörld' }, [
      ['report', '報告 ü.csv', csv, 'text/csv'],
      ['blob', 'data "quoted".bin', binary],
    ]),
  );
  t.equal(res.status, 200);
  t.same(res.body.fields, { note: 'héllo wörld' }, 'text fields are kwargs');
  t.match(res.body.files, [
    { originalname: '報告 ü.csv', mimetype: 'text/csv', encoding: '7bit', size: Buffer.byteLength(csv), sizeIsInt: true, sha256: sha256(csv) },
    { originalname: 'data "quoted".bin', mimetype: 'application/octet-stream', size: binary.length, read: binary.length, sha256: sha256(binary) },
  ]);
  const [first, second] = res.body.files as { filePath: string }[];
  t.equal(path.dirname(first!.filePath), path.join(uploadsRoot, res.taskId!), 'stored in the task\'s own folder');
  t.match(path.basename(first!.filePath), /^upload-1\.csv$/, 'under a generated name');
  t.match(path.basename(second!.filePath), /^upload-2\.bin$/);
  t.notOk(existsSync(path.join(uploadsRoot, res.taskId!)), 'a sync call\'s folder is gone after the call');
});

t.test('an empty file and a file of any field name are accepted', async (t) => {
  const res = await post('/api/v1/al/describe/simplified', form({}, [['anything', 'empty.txt', '', 'text/plain']]));
  t.equal(res.status, 200);
  t.match(res.body.files, [{ originalname: 'empty.txt', size: 0, read: 0 }]);
});

t.test('the normal form reads kwargs and options from JSON text fields', async (t) => {
  const res = await post('/api/v1/al/describe/normal', form({ kwargs: '{"n": 1, "flag": true}', options: '{"returnType": "raw"}' }, [['f', 'a.txt', 'abc']]));
  t.equal(res.status, 200);
  t.same(res.body.fields, { n: 1, flag: true }, 'JSON keeps its types');
  t.match(res.body.files, [{ originalname: 'a.txt', sha256: sha256('abc') }]);

  const bad = await post('/api/v1/al/describe/normal', form({ kwargs: '{not json' }, [['f', 'a.txt', 'abc']]));
  t.equal(bad.status, 400);
  t.equal(bad.body.error, 400.43);
  t.match(bad.body.message, /Form field 'kwargs' is not valid JSON/);
  t.notMatch(bad.body.message, /not json/, 'the field is not echoed');

  const stray = await post('/api/v1/al/describe/normal', form({ note: 'x' }, [['f', 'a.txt', 'abc']]));
  t.match([stray.status, stray.body.error, stray.body.message], [400, 400.43, /Unexpected field 'note'/]);
  t.same(uploadFolders(), [], 'refused calls leave no folder');
});

t.test('multipart without files passes only the text fields; bare route and a field named files are refused', async (t) => {
  const res = await post('/api/v1/al/echo/s', form({ a: '1', b: '2' }, []));
  t.same([res.status, res.body], [200, { a: '1', b: '2' }], 'no files kwarg without files');

  const bare = await post('/api/v1/al/describe', form({}, [['f', 'a.txt', 'abc']]));
  t.match([bare.status, bare.body.error, bare.body.message], [400, 400.43, /\/s, \/simplified or \/normal/]);

  const clash = await post('/api/v1/al/describe/s', form({ files: 'x' }, [['f', 'a.txt', 'abc']]));
  t.match([clash.status, clash.body.error, clash.body.message], [400, 400.43, /files/]);

  const declared = await post('/api/v1/al/declared/s', form({ note: 'n' }, [['f', 'a.txt', 'abc']]));
  t.equal(declared.status, 200, 'an API declaring kwargs takes files as INPUT_BY_CALLER');
  t.same(declared.body.fields, { note: 'n' });
  t.same(uploadFolders(), []);
});

t.test('an async task keeps its uploads until it ends, then they are removed', async (t) => {
  const res = await post('/api/v1/bat/hold/s', form({}, [['f', 'kept.csv', 'kept,data\n']]));
  t.equal(res.status, 200);
  const taskId = res.body.data.id as string;
  const folder = path.join(uploadsRoot, taskId);
  t.ok(existsSync(path.join(folder, 'upload-1.csv')), 'kept while queued or running');
  await waitForTask(base, taskId, (record) => record.status === 'running');
  t.ok(existsSync(path.join(folder, 'upload-1.csv')), 'kept while running');

  t.test('while it runs, another call cannot see its folder', async (t) => {
    const other = await post('/api/v1/al/peek/s', form({ path: folder }, []));
    t.same(other.body, { error: 'FileNotFoundError' }, 'a call without uploads');
    const file = await post('/api/v1/al/peek/s', form({ path: path.join(folder, 'upload-1.csv') }, []));
    t.same(file.body, { error: 'FileNotFoundError' });
    const withOwn = await post('/api/v1/al/peek/s', form({ path: uploadsRoot }, [['f', 'mine.txt', 'mine']]));
    t.equal(withOwn.body.entries.length, 1, 'a call with uploads sees its own folder only');
    t.not(withOwn.body.entries[0], taskId);
  });

  writeFileSync(path.join(folder, 'go'), '');
  const record = await waitForTask(base, taskId, ended);
  t.match(record, { status: 'success', returnValue: { files: [{ originalname: 'kept.csv', sha256: sha256('kept,data\n') }] } });
  await eventually(() => !existsSync(folder), 'folder removed after the task ended');
  t.notOk(existsSync(folder));
});

t.test('an upload with a kwarg its function cannot take is refused before it runs, its folder removed', async (t) => {
  const res = await post('/api/v1/bat/hold/s', form({ unexpected: 'x' }, [['f', 'a.txt', 'abc']]));
  t.match(res.body, { error: 400.43, detail: { field: 'unexpected', accepted: ['files'] } });
  t.same(uploadFolders(), []);
});

t.test('an async task that fails loses its uploads too', async (t) => {
  // peek's required `path` is missing: its TypeError fails the task once it runs.
  const res = await post('/api/v1/bat/peek/s', form({}, [['f', 'a.txt', 'abc']]));
  const record = await waitForTask(base, res.body.data.id, ended);
  t.match(record, { status: 'failure', exceptionType: 'TypeError' });
  await eventually(() => !existsSync(path.join(uploadsRoot, res.body.data.id)), 'removed');
  t.same(uploadFolders(), []);
});
