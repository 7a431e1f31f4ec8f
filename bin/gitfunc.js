#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` writes dist/; `npm install` runs it through `prepare`).
// `npm start` does not rebuild, so in a checkout a src/ file edited since the build gets a
// warning; an installed package has no src/ and skips the check.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The newest modification time of the files under `dir` (226 files: a few ms). */
function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

if (!existsSync(`${root}dist/main.js`)) {
  process.stderr.write(`gitfunc: ${root}dist/ is not built: run \`npm run build\` (or \`npm install\`) first\n`);
  process.exit(1);
}
if (existsSync(`${root}src`)) {
  const built = existsSync(`${root}dist/.built`) ? statSync(`${root}dist/.built`).mtimeMs : 0;
  if (newestMtimeMs(`${root}src`) > built) {
    process.stderr.write('gitfunc: warning: src/ changed since dist/ was built; run `npm run build` to serve the changes\n');
  }
}
await import('../dist/main.js');
