// The upload folder sweeper: it removes folders of ended tasks, and never one in use by this
// process or held by a queued or running async task.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../src/log.js';
import { UploadFolders } from '../src/uploads/upload-folders.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-upload-sweep-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

t.test('a sweep removes leftovers only', async (t) => {
  const folders = new UploadFolders(dataDir, createLogger('silent'));
  t.same(await folders.sweep(async () => false), [], 'no uploads folder yet: nothing to do');

  const inUse = await folders.create('task-inUse');
  writeFileSync(path.join(inUse, 'upload-1.csv'), 'a');
  for (const leftover of ['task-held', 'task-ended']) {
    mkdirSync(folders.dirOf(leftover), { recursive: true });
    writeFileSync(path.join(folders.dirOf(leftover), 'upload-1.bin'), 'b');
  }
  const removed = await folders.sweep(async (taskId) => taskId === 'task-held');
  t.same(removed, ['task-ended']);
  t.ok(existsSync(path.join(inUse, 'upload-1.csv')), 'a folder in use here is kept');
  t.ok(existsSync(folders.dirOf('task-held')), 'a folder of a queued or running task is kept');
  t.notOk(existsSync(folders.dirOf('task-ended')));

  await folders.remove('task-inUse');
  t.notOk(existsSync(inUse), 'removed with its files');
  t.same(await folders.sweep(async (taskId) => taskId === 'task-held'), [], 'nothing else to sweep');
  t.same(await folders.sweep(async () => false), ['task-held'], 'swept once its task ended');
});
