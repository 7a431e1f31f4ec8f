/**
 * About half of an interpreter snapshot is pages of zeros (the free end of Python's heap, the
 * unused data stack). Fresh memory (a new ArrayBuffer or SharedArrayBuffer, a new WASM heap)
 * holds zeros without being resident, and on this kind of VM even reading a page makes it
 * resident (the kernel maps no shared zero page). So the snapshot is read and copied page by
 * page, and a zero page is never written nor read again: the server thread's shared copy and
 * each worker's restored heap stay ~15 MB smaller each.
 *
 * CommonJS: used by the worker threads (interpreter.cts) and by the server thread alike.
 */
import fs = require('node:fs');
import type { Hash } from 'node:crypto';

export const PAGE_BYTES = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE_BYTES);
/** Read size: many pages per system call, little memory. */
const CHUNK_BYTES = 256 * PAGE_BYTES;

/** Bytes read by readFilePages, and which of their pages hold only zeros (left unwritten). */
export interface PagedBytes {
  bytes: Uint8Array;
  /** One byte per page of `bytes`: 1 where the page is all zeros. */
  zeroPages: Uint8Array;
}

/** Fresh memory for readFilePages that threads share (crosses into workers as workerData). */
export interface SharedPagedMemory {
  bytes: SharedArrayBuffer;
  zeroPages: SharedArrayBuffer;
}

/** Fresh shared memory for a file of `size` bytes. */
export function sharedPagedMemory(size: number): SharedPagedMemory {
  return { bytes: new SharedArrayBuffer(size), zeroPages: new SharedArrayBuffer(pageCount(size)) };
}

/** A thread's view of shared memory that readFilePages filled. */
export function pagedView(memory: SharedPagedMemory): PagedBytes {
  return { bytes: new Uint8Array(memory.bytes), zeroPages: new Uint8Array(memory.zeroPages) };
}

/**
 * A file's bytes, read into `memory` (which must be fresh: never written) or into fresh memory
 * of the file's size, writing only the pages that are not all zeros. Undefined when the file is
 * not, or not any more, `memory`'s size (replaced while read).
 */
export function readFilePages(file: string, memory?: SharedPagedMemory): PagedBytes | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const paged = memory === undefined ? { bytes: new Uint8Array(size), zeroPages: new Uint8Array(pageCount(size)) } : pagedView(memory);
    if (paged.bytes.length !== size) return undefined;
    const target = asBuffer(paged.bytes);
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size));
    for (let position = 0; position < size; ) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position);
      if (n === 0) return undefined;
      for (let offset = 0; offset < n; offset += PAGE_BYTES) {
        const end = Math.min(offset + PAGE_BYTES, n);
        if (ZERO_PAGE.compare(chunk, offset, end, 0, end - offset) === 0) paged.zeroPages[(position + offset) / PAGE_BYTES] = 1;
        else chunk.copy(target, position + offset, offset, end);
      }
      position += n;
    }
    return paged;
  } finally {
    fs.closeSync(fd);
  }
}

/** Feeds `paged.bytes[0, length)` to `hash`, its zero pages without reading them. */
export function hashPages(hash: Hash, paged: PagedBytes, length: number): void {
  for (let start = 0; start < length; start += PAGE_BYTES) {
    const end = Math.min(start + PAGE_BYTES, length);
    hash.update(paged.zeroPages[start / PAGE_BYTES] === 1 ? ZERO_PAGE.subarray(0, end - start) : paged.bytes.subarray(start, end));
  }
}

/**
 * Copies `from.bytes[start, start + length)` to `to` at `at`, a page of `to` at a time (`at`
 * is page-aligned in practice). Where the source is all zeros, the page is left as it is if
 * `canSkip(toStart, toEnd)` (`to` reads as zeros there, or its bytes there do not matter), and
 * zero-filled otherwise; either way the source's zero pages are never read.
 */
export function copyPages(from: PagedBytes, start: number, length: number, to: Uint8Array, at: number, canSkip: (toStart: number, toEnd: number) => boolean): void {
  const source = asBuffer(from.bytes);
  const target = asBuffer(to);
  let runStart = -1; // first offset of the run of non-zero source pages being collected
  const flushRun = (end: number): void => {
    if (runStart >= 0) source.copy(target, at + runStart, start + runStart, start + end);
    runStart = -1;
  };
  for (let offset = 0; offset < length; offset += PAGE_BYTES) {
    const end = Math.min(offset + PAGE_BYTES, length);
    if (!isZeroRange(from, start + offset, start + end)) {
      if (runStart < 0) runStart = offset;
      continue;
    }
    flushRun(offset);
    if (!canSkip(at + offset, at + end)) target.fill(0, at + offset, at + end);
  }
  flushRun(length);
}

/** Whether every page of `paged` overlapping `[start, end)` is a zero page. */
function isZeroRange(paged: PagedBytes, start: number, end: number): boolean {
  for (let page = Math.floor(start / PAGE_BYTES); page * PAGE_BYTES < end; page++) if (paged.zeroPages[page] !== 1) return false;
  return true;
}

function pageCount(size: number): number {
  return Math.ceil(size / PAGE_BYTES);
}

function asBuffer(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
