// Workers start from the interpreter snapshot: built once into the snapshot dir, restored by
// every later worker, refused (with a normal load) when corrupt or made for another key, and
// each restored worker draws its own random numbers.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadPyodide } from 'pyodide';
import t from 'tap';
import { createLogger } from '../src/log.js';
// Default import: named imports of a CommonJS module depend on the loader detecting them.
import interpreter from '../src/runtime/snapshot/interpreter.cjs';
import { InterpreterSnapshot } from '../src/runtime/snapshot/snapshot-cache.js';
import format from '../src/runtime/snapshot/snapshot-format.cjs';
import zeroPages from '../src/runtime/snapshot/zero-pages.cjs';
import { snapshotKey } from '../src/runtime/snapshot/snapshot-key.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc, type TestServer } from './helpers/start-gitfunc.js';

/** Bytes of gitfunc's trailer after Pyodide's snapshot: magic (8), key (32), digest (32). */
const TRAILER_BYTES = 72;

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(readTree(path.join(FIXTURES, 'snapshot')));
await git.publish('snapshot', work.dir);
// This file's own dir (not the suite's shared one), so the build path really runs here.
const snapshotDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-snapshot-test-'));
t.teardown(() => rmSync(snapshotDir, { recursive: true, force: true }));
const snapshotFile = path.join(snapshotDir, snapshotKey().fileName);

interface Draw {
  worker: string;
  first: number;
  random: number;
  uuid: string;
}

function start(dir: string, workers = 1): Promise<TestServer> {
  return startGitfunc(['--repo', git.url('snapshot'), '--ref', 'main', '--workers', String(workers), '--poll-seconds', '0'], {
    GITFUNC_SNAPSHOT_DIR: dir,
  });
}

async function draw(server: TestServer, hold = 0): Promise<Draw> {
  const res = await fetch(`${server.url}/api/v1/al/draw/s?hold=${hold}`);
  if (res.status !== 200) throw new Error(`draw answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Draw;
}

function logged(server: TestServer, message: RegExp): Record<string, unknown>[] {
  return server.logs.filter((line) => message.test(String(line.msg)));
}

/** A copy of the built snapshot in a dir of its own, changed by `spoil`. */
function spoiledCopy(spoil: (bytes: Buffer) => void): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-snapshot-spoiled-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, path.basename(snapshotFile));
  copyFileSync(snapshotFile, file);
  const bytes = readFileSync(file);
  spoil(bytes);
  writeFileSync(file, bytes);
  return dir;
}

t.test('without a snapshot one is built and saved under its key, and the workers start from it', async (t) => {
  const server = await start(snapshotDir);
  t.teardown(() => server.close());
  t.equal(logged(server, /^building the interpreter snapshot$/).length, 1, 'built once');
  t.equal(logged(server, /^interpreter snapshot built$/).length, 1);
  t.ok(existsSync(snapshotFile), 'the keyed file exists');
  t.same(readdirSync(snapshotDir), [path.basename(snapshotFile)], 'no temp or lock file left');
  t.ok(logged(server, /^worker restored from the interpreter snapshot$/).length >= 1, 'the worker restored it');
  t.equal((await draw(server)).uuid.length, 36, 'serves');
});

t.test('a server finding the snapshot starts its workers from it; each worker has its own random state', async (t) => {
  const server = await start(snapshotDir, 2);
  t.teardown(() => server.close());
  t.equal(logged(server, /^building the interpreter snapshot$/).length, 0, 'nothing built');
  t.equal(logged(server, /^workers start from the interpreter snapshot$/).length, 1);
  t.ok(logged(server, /^worker restored from the interpreter snapshot$/).length >= 1, 'the log says it restored');
  t.equal(logged(server, /normally/).length, 0, 'no fallback');

  // The server is ready once one worker is; the other may still be restoring on a busy machine.
  const readyBy = Date.now() + 60_000;
  while (server.server.pool.workerStatus().threads.filter((thread) => thread.ready).length < 2 && Date.now() < readyBy) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Calls held a moment each, two at a time, land on both workers.
  const byWorker = new Map<string, Draw>();
  for (let round = 0; round < 5 && byWorker.size < 2; round++) {
    for (const result of await Promise.all([draw(server, 0.3), draw(server, 0.3)])) byWorker.set(result.worker, result);
  }
  t.equal(byWorker.size, 2, 'both workers answered');
  const [a, b] = [...byWorker.values()] as [Draw, Draw];
  t.not(a.first, b.first, "random's first draw differs between workers restored from one snapshot");
  t.not(a.random, b.random);
  t.not(a.uuid, b.uuid, 'uuid4 differs');
});

// The restore writes neither the snapshot's zero pages past the heap's break nor those in the data
// stack (zero-pages.cts): whatever it skipped must read as the snapshot's bytes all the same.
t.test('a heap restored page by page holds the snapshot image byte for byte, but for the data stack', async (t) => {
  const { key, buildId } = snapshotKey();
  const shared = zeroPages.sharedPagedMemory(statSync(snapshotFile).size);
  const file = zeroPages.readFilePages(snapshotFile, shared)!;
  const image = format.openSnapshot(file, { key, buildId }, true);
  t.ok(file.zeroPages.filter((zero) => zero === 1).length > 1000, 'the snapshot has zero pages to skip');

  // The heap as the restore left it, before Python runs on it.
  let restored: { heap: Buffer; stackLow: number; stackHigh: number } | undefined;
  const restoring = interpreter.restoringPageByPage(file);
  const pyodide = await loadPyodide({
    _loadSnapshot: image,
    createPyodideModule: async (settings) => {
      const module = await restoring(settings);
      const internals = module as unknown as { API: { restoreSnapshot(bytes: Uint8Array): unknown }; HEAP8: Int8Array; _emscripten_stack_get_end(): number; _emscripten_stack_get_base(): number };
      const restoreSnapshot = internals.API.restoreSnapshot;
      internals.API.restoreSnapshot = (bytes) => {
        const config = restoreSnapshot(bytes);
        restored = { heap: Buffer.from(internals.HEAP8.buffer.slice(0)), stackLow: internals._emscripten_stack_get_end(), stackHigh: internals._emscripten_stack_get_base() };
        return config;
      };
      return module;
    },
  });
  const heapImage = Buffer.from(image.buffer, image.byteOffset + new DataView(image.buffer, image.byteOffset).getUint32(4, true), image.length - new DataView(image.buffer, image.byteOffset).getUint32(4, true));
  const { heap, stackLow, stackHigh } = restored!;
  t.ok(heap.length >= heapImage.length, 'the heap is the image\'s size');
  t.ok(heap.subarray(0, stackLow).equals(heapImage.subarray(0, stackLow)), 'below the stack: the image');
  t.ok(heap.subarray(stackHigh, heapImage.length).equals(heapImage.subarray(stackHigh)), 'above the stack: the image, zero pages past the break included');
  t.equal(pyodide.runPython('sum(range(10))'), 45, 'the restored interpreter runs Python');
});

t.test('a corrupt snapshot is refused and removed; the workers load Pyodide normally and serve', async (t) => {
  const dir = spoiledCopy((bytes) => {
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  });
  const server = await start(dir);
  t.teardown(() => server.close());
  const [refused] = logged(server, /^interpreter snapshot unusable \(removed\): workers load Pyodide normally$/);
  t.match(refused, { reason: /checksum/ }, 'the fallback is logged with its reason');
  t.equal(logged(server, /^worker restored/).length, 0, 'nothing restored');
  t.notOk(existsSync(path.join(dir, path.basename(snapshotFile))), 'the corrupt file is gone (rebuilt next start)');
  t.equal((await draw(server)).uuid.length, 36, 'serves');
});

// The refusal is the snapshot cache's, before any worker starts: what workers do with a refused
// snapshot (load Pyodide normally and serve) is the corrupt case's above, through the same path.
t.test('a snapshot made for another key is refused and removed; the workers are told to load Pyodide normally', async (t) => {
  const dir = spoiledCopy((bytes) => {
    bytes[bytes.length - TRAILER_BYTES + 8]! ^= 0xff; // first byte of the key
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const snapshot = new InterpreterSnapshot({ enabled: true, dir }, createLogger('info', sink));
  snapshot.prepare();
  await snapshot.close();
  t.equal(Atomics.load(new Int32Array(snapshot.source!.state), 0), interpreter.SNAPSHOT_UNUSABLE, 'the workers are told it is unusable');
  t.match(logs.find((line) => /^interpreter snapshot unusable \(removed\): workers load Pyodide normally$/.test(String(line.msg))), {
    reason: /made for key/,
  });
  t.notOk(existsSync(path.join(dir, path.basename(snapshotFile))), 'the file is gone (rebuilt next start)');
});
