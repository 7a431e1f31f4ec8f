/**
 * Runs in a thread of its own (build-entry.cjs): builds the interpreter snapshot and writes it
 * to `workerData.file` atomically (a temp file renamed over it), so processes racing to build
 * it never leave a half-written file. Posts `{ ok: true }` or `{ ok: false, error }`.
 */
import fs = require('node:fs');
import crypto = require('node:crypto');
import { parentPort, workerData } from 'node:worker_threads';
import { makeInterpreterSnapshot } from './interpreter.cjs';
import { sealSnapshot } from './snapshot-format.cjs';

/** What the server thread passes in. */
export interface BuildRequest {
  file: string;
  key: string;
}

async function build(request: BuildRequest): Promise<void> {
  const { snapshot } = await makeInterpreterSnapshot();
  const temp = `${request.file}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(temp, sealSnapshot(snapshot, request.key));
    fs.renameSync(temp, request.file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

build(workerData as BuildRequest).then(
  () => parentPort!.postMessage({ ok: true }),
  (error: unknown) => parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
);
