// An async task with an upload survives a crash of its server (CONTRACT sections 4 and 8): after
// kill -9 and a restart it runs again (attempt 2), still reads its file, and the folder goes
// only once the task has ended.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { spawnGitfunc, waitReady } from './helpers/spawn-gitfunc.js';
import { FIXTURES } from './helpers/start-gitfunc.js';

const REPO = path.join(FIXTURES, 'uploads');

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('kill -9 while an upload task runs: it runs again after the restart with its file, then the folder goes', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-upload-restart-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN };
  const flags = ['--repo', REPO, '--data-dir', dataDir, '--workers', '1'];
  const csv = 'id,name\n1,äöü\n2,日本\n';

  const first = await spawnGitfunc(flags, env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitReady(first.url);
  const body = new FormData();
  body.append('report', new Blob([csv], { type: 'text/csv' }), 'report.csv');
  const res = await fetch(`${first.url}/api/v1/bat/hold/s`, { method: 'POST', body });
  t.equal(res.status, 200);
  const taskId = ((await res.json()) as { data: { id: string } }).data.id;
  const folder = path.join(dataDir, 'uploads', taskId);
  await waitForTask(first.url, taskId, (record) => record.status === 'running');
  first.child.kill('SIGKILL');
  t.equal(await first.exited, 'SIGKILL');
  t.equal(readFileSync(path.join(folder, 'upload-1.csv'), 'utf8'), csv, 'the upload outlives the crash');

  const second = await spawnGitfunc(flags, env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitReady(second.url);
  const rerun = await waitForTask(second.url, taskId, (record) => record.status === 'running' && record.attempt === 2);
  t.equal(rerun.attempt, 2, 'the interrupted task runs again');
  t.ok(existsSync(path.join(folder, 'upload-1.csv')), 'the start sweep kept the folder of the re-queued task');

  writeFileSync(path.join(folder, 'go'), '');
  const record = await waitForTask(second.url, taskId, ended);
  t.match(record, {
    status: 'success',
    attempt: 2,
    returnValue: {
      attempt: 2,
      files: [{ originalname: 'report.csv', size: Buffer.byteLength(csv), sha256: createHash('sha256').update(csv).digest('hex') }],
    },
  });
  await eventually(() => !existsSync(folder), 'the folder removed once the task ended');
  t.notOk(existsSync(folder));
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
  t.ok(second.logs.some((l) => l.msg === 'async tasks of an earlier run re-queued' && l.tasks === 1), 'the restart logged the re-queue');
});
