// Entry of the record-writing thread. In dist/ the thread is compiled to record-thread.js;
// from the TypeScript sources (tests, bench) it is record-thread.ts, loaded through tsx's ESM
// API (a dev dependency): a worker thread does not inherit the parent's tsx loader.
import { existsSync } from 'node:fs';

const compiled = new URL('./record-thread.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('./record-thread.ts', import.meta.url);
}
