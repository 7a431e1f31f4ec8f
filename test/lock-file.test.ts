import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { tryLockFile } from '../src/lock-file.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-lock-file-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

t.test('a free lock is taken; a live holder is named; release frees it', async (t) => {
  const file = path.join(dir, 'free.lock');
  const first = tryLockFile(file);
  if (!('held' in first)) throw new Error('the free lock was not taken');
  t.equal(readFileSync(file, 'utf8').trim(), String(process.pid), 'the file names the holder');
  t.same(tryLockFile(file), { holder: process.pid }, 'a second attempt sees the live holder');
  first.held.release();
  t.notOk(existsSync(file));
});

t.test('the lock of a process that is gone is taken over at once', async (t) => {
  const file = path.join(dir, 'dead.lock');
  writeFileSync(file, `${await deadPid()}\n`);
  t.ok('held' in tryLockFile(file));
  t.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
});

t.test('with staleAfterMs, a lock older than that is taken over even if its pid lives', async (t) => {
  const file = path.join(dir, 'old.lock');
  writeFileSync(file, `${process.ppid}\n`);
  t.same(tryLockFile(file, 60_000), { holder: process.ppid }, 'a fresh lock of a live pid holds');
  const longAgo = new Date(Date.now() - 120_000);
  utimesSync(file, longAgo, longAgo);
  t.same(tryLockFile(file), { holder: process.ppid }, 'without staleAfterMs age does not matter');
  t.ok('held' in tryLockFile(file, 60_000), 'an old lock is taken over');
});

t.test('release leaves a lock that another process took meanwhile', async (t) => {
  const file = path.join(dir, 'taken.lock');
  const attempt = tryLockFile(file);
  if (!('held' in attempt)) throw new Error('the free lock was not taken');
  writeFileSync(file, `${process.ppid}\n`);
  attempt.held.release();
  t.equal(readFileSync(file, 'utf8').trim(), String(process.ppid));
});
