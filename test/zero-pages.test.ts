// The interpreter snapshot is read and copied page by page (zero-pages.cts): its zero pages are
// neither written nor read again, so fresh memory stays unresident there.
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
// Default import: named imports of a CommonJS module depend on the loader detecting them.
import zeroPages from '../src/runtime/snapshot/zero-pages.cjs';

const { PAGE_BYTES } = zeroPages;
const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-zero-pages-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A file of `pages` pages and a half, non-zero on the pages listed (and the last half page). */
function fileWith(name: string, pages: number, nonZero: number[]): { file: string; bytes: Buffer } {
  const bytes = Buffer.alloc(pages * PAGE_BYTES + PAGE_BYTES / 2);
  for (const page of nonZero) bytes.fill(page % 251 + 1, page * PAGE_BYTES + 100, page * PAGE_BYTES + 200);
  bytes[bytes.length - 1] = 7;
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return { file, bytes };
}

t.test('a file read page by page: the same bytes, and its zero pages marked', async (t) => {
  const { file, bytes } = fileWith('mixed', 600, [0, 3, 256, 257, 599]);
  for (const [how, paged] of [
    ['memory of its own', zeroPages.readFilePages(file)!],
    ['shared memory', zeroPages.readFilePages(file, zeroPages.sharedPagedMemory(bytes.length))!],
  ] as const) {
    t.ok(Buffer.from(paged.bytes).equals(bytes), `${how}: the file's bytes`);
    const marked = [...paged.zeroPages.keys()].filter((page) => paged.zeroPages[page] === 1);
    t.equal(paged.zeroPages.length, 601, `${how}: a mark per page, the last half page included`);
    t.equal(marked.length, 601 - 6, `${how}: every other page is a zero page`);
    t.notOk([0, 3, 256, 257, 599, 600].some((page) => marked.includes(page)), `${how}: no non-zero page is marked`);
  }
});

t.test('shared memory of another size is refused (the file was replaced)', async (t) => {
  const { file, bytes } = fileWith('resized', 4, [1]);
  t.equal(zeroPages.readFilePages(file, zeroPages.sharedPagedMemory(bytes.length + 1)), undefined);
});

t.test('zero pages are left unwritten: reading a mostly-zero file keeps it out of memory', async (t) => {
  // 64 MB with one non-zero page. Writing every page would make all 64 MB resident.
  const { file } = fileWith('sparse', 16 * 1024, [5000]);
  const before = process.memoryUsage().rss;
  const paged = zeroPages.readFilePages(file)!;
  const grown = process.memoryUsage().rss - before;
  t.ok(grown < 16 * 1024 * 1024, `RSS grew ${(grown / 1048576).toFixed(1)} MB for a 64 MB file`);
  t.equal(paged.bytes[5000 * PAGE_BYTES + 150], (5000 % 251) + 1, 'the non-zero page was read');
});

t.test('the hash of paged bytes is the hash of the bytes', async (t) => {
  const { file, bytes } = fileWith('hashed', 40, [2, 39]);
  const paged = zeroPages.readFilePages(file)!;
  for (const length of [bytes.length, bytes.length - 72, 3 * PAGE_BYTES + 5]) {
    const hash = crypto.createHash('sha256');
    zeroPages.hashPages(hash, paged, length);
    t.equal(hash.digest('hex'), crypto.createHash('sha256').update(bytes.subarray(0, length)).digest('hex'), `first ${length} bytes`);
  }
});

t.test('a copy writes the non-zero pages, zero-fills where the target may hold bytes, skips where it holds zeros', async (t) => {
  const { file, bytes } = fileWith('copied', 12, [1, 2, 6, 11]);
  const paged = zeroPages.readFilePages(file)!;
  // The target is garbage everywhere: a skipped zero page keeps its garbage, so skips are seen.
  const target = Buffer.alloc(16 * PAGE_BYTES, 0xee);
  const at = 2 * PAGE_BYTES;
  const skippable = (start: number, end: number): boolean => start >= at + 8 * PAGE_BYTES && end <= at + 10 * PAGE_BYTES;
  const asked: number[] = [];
  zeroPages.copyPages(paged, PAGE_BYTES, 11 * PAGE_BYTES, target, at, (start, end) => {
    asked.push(start);
    return skippable(start, end);
  });
  const copied = (page: number): Buffer => target.subarray(at + page * PAGE_BYTES, at + (page + 1) * PAGE_BYTES);
  const source = (page: number): Buffer => bytes.subarray((page + 1) * PAGE_BYTES, (page + 2) * PAGE_BYTES);
  for (let page = 0; page < 11; page++) {
    if (skippable(at + page * PAGE_BYTES, at + (page + 1) * PAGE_BYTES)) t.ok(copied(page).every((byte) => byte === 0xee), `page ${page}: skipped`);
    else t.ok(copied(page).equals(source(page)), `page ${page}: the source's bytes`);
  }
  t.same(asked, [2, 3, 4, 6, 7, 8, 9].map((page) => at + page * PAGE_BYTES), 'asked about the zero pages only');
  t.ok(target.subarray(0, at).every((byte) => byte === 0xee), 'nothing before the target range');
  t.ok(target.subarray(at + 11 * PAGE_BYTES).every((byte) => byte === 0xee), 'nothing after it');
});
