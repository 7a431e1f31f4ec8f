/**
 * The interpreter snapshot file: Pyodide's memory snapshot, then a trailer gitfunc adds
 * (magic, the cache key, the SHA-256 of the snapshot bytes), so a truncated, corrupt or
 * misplaced file is refused before Pyodide ever sees it.
 *
 * CommonJS: read by the worker threads (worker.cts) and by the server thread alike.
 */
import crypto = require('node:crypto');
import { hashPages, type PagedBytes } from './zero-pages.cjs';
import type { ErrorCode } from '../../errors/catalog.js' with { 'resolution-mode': 'import' };

const TRAILER_MAGIC = Buffer.from('GFSNAP01');
const KEY_BYTES = 32;
const DIGEST_BYTES = 32;
const TRAILER_BYTES = TRAILER_MAGIC.length + KEY_BYTES + DIGEST_BYTES;
/** Pyodide's snapshot header: a magic number, then the build id as 8 uint32 words at bytes 16-47. */
const PYODIDE_MAGIC = 1886286592;
const BUILD_ID_OFFSET = 16;
const BUILD_ID_WORDS = 8;

/** Why a snapshot file cannot be used; the message is logged. */
export class SnapshotUnusableError extends Error {
  // A worker-side (CommonJS) error: not a GitfuncError, but its code is in the catalog.
  readonly code: ErrorCode = 'SNAPSHOT_UNUSABLE';
}

/** Appends the trailer to Pyodide's snapshot bytes: what gets written to disk. */
export function sealSnapshot(snapshot: Uint8Array, key: string): Buffer {
  const digest = crypto.createHash('sha256').update(snapshot).digest();
  return Buffer.concat([snapshot, TRAILER_MAGIC, Buffer.from(key, 'hex'), digest]);
}

/**
 * Pyodide's snapshot bytes out of a sealed file (as zero-pages.cts read it), after checking the
 * trailer's key and Pyodide's build id (cheap checks, done by every worker). `verifyDigest` also
 * hashes the whole snapshot (~30 MB): done once per process, before any worker reads it.
 */
export function openSnapshot(paged: PagedBytes, expected: { key: string; buildId: string }, verifyDigest: boolean): Uint8Array {
  const file = paged.bytes;
  if (file.length < TRAILER_BYTES + BUILD_ID_OFFSET + BUILD_ID_WORDS * 4) throw new SnapshotUnusableError('snapshot file is truncated');
  const trailer = Buffer.from(file.buffer, file.byteOffset + file.length - TRAILER_BYTES, TRAILER_BYTES);
  if (!trailer.subarray(0, TRAILER_MAGIC.length).equals(TRAILER_MAGIC)) throw new SnapshotUnusableError('snapshot file has no gitfunc trailer (truncated or not a snapshot)');
  const key = trailer.subarray(TRAILER_MAGIC.length, TRAILER_MAGIC.length + KEY_BYTES).toString('hex');
  if (key !== expected.key) throw new SnapshotUnusableError(`snapshot was made for key ${key}, not ${expected.key}`);
  const snapshot = file.subarray(0, file.length - TRAILER_BYTES);
  const header = new DataView(snapshot.buffer, snapshot.byteOffset, BUILD_ID_OFFSET + BUILD_ID_WORDS * 4);
  if (header.getUint32(0, true) !== PYODIDE_MAGIC) throw new SnapshotUnusableError('snapshot has no Pyodide header');
  const buildId = buildIdOf(header);
  if (buildId !== expected.buildId) throw new SnapshotUnusableError(`snapshot was made by Pyodide build ${buildId}, this is ${expected.buildId}`);
  if (verifyDigest) {
    const hash = crypto.createHash('sha256');
    hashPages(hash, paged, snapshot.length);
    const digest = hash.digest();
    if (!digest.equals(trailer.subarray(TRAILER_BYTES - DIGEST_BYTES))) throw new SnapshotUnusableError('snapshot checksum mismatch (corrupt file)');
  }
  return snapshot;
}

/** The build id as Pyodide writes it: each word as 8 hex digits. */
function buildIdOf(header: DataView): string {
  let id = '';
  for (let word = 0; word < BUILD_ID_WORDS; word++) id += header.getUint32(BUILD_ID_OFFSET + word * 4, true).toString(16).padStart(8, '0');
  return id;
}
